"""A real browser: Voilà serves the widgets tutorial on loopback, headless Chromium opens it, and
we check that the catalog browser renders, that typing in its search box filters the list (the
round trip browser -> kernel -> browser), and that selecting a server fills the detail pane.
Screenshots are kept under ``$MCP_ORCH_TEST_ARTIFACTS/browser/`` (default
``<repo>/.artifacts/browser/``). tests/test_browser_lab.py does the same in real JupyterLab and
shares this module's helpers.

Needs Debian's ``chromium`` at /usr/bin/chromium (``scripts/ci-browser-deps.sh`` installs it) and
the pip packages ``playwright`` and ``voila`` (the ``test`` extra). Playwright drives the system
Chromium, so no browser download is needed. About 15-25 s.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import mcp_orch as mo

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "06-widgets.ipynb"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian chromium at /usr/bin/chromium: run scripts/ci-browser-deps.sh",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def artifacts_dir() -> Path:
    """Where the browser tests keep their screenshots (kept after the run, unlike tmp dirs)."""
    base = os.environ.get("MCP_ORCH_TEST_ARTIFACTS") or str(REPO / ".artifacts")
    path = Path(base) / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"voila exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "api", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up (GET / would start a kernel)
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"voila did not answer on {url} within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def voila_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    work = tmp_path / "site"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    port = free_port()
    log = tmp_path / "voila.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                NOTEBOOK.name,
                "--no-browser",
                f"--port={port}",
                "--Voila.ip=127.0.0.1",
                "--VoilaConfiguration.show_tracebacks=True",
            ],
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            # the notebook's sandbox goes under tmp_path; Chromium keeps the default TMPDIR
            # (its singleton socket path must stay short)
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, proc, log, timeout=60)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_catalog_browser_in_headless_chromium(voila_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright

    registry = mo.Registry(workspace=mo.Workspace(tmp_path / "ws-for-counts"))
    every = len(registry)
    timely = registry.search("time").ids()
    assert 0 < len(timely) < every

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        shot = artifacts_dir() / "voila-catalog-browser.png"
        page = context.new_page()
        try:
            page.set_default_timeout(60_000)
            expect.set_options(timeout=30_000)  # a busy CI box: kernel round trips can be slow
            page.goto(voila_url, wait_until="domcontentloaded", timeout=90_000)

            browser = page.locator(".mco-catalog-browser").first
            search = browser.locator(".mco-search input")
            search.wait_for(state="visible", timeout=120_000)  # the kernel ran the notebook
            options = browser.locator(".mco-results select option")

            search.fill("")
            expect(options).to_have_count(every)
            expect(browser.locator(".mco-count")).to_contain_text(f"{every} of {every}")

            search.fill("time")  # what typing does: an input event per change
            expect(options).to_have_count(len(timely))
            labels = options.all_inner_texts()
            assert [label.split()[0] for label in labels] == timely

            search.fill("no-such-server-anywhere")
            expect(options).to_have_count(0)

            search.fill("time")
            expect(options).to_have_count(len(timely))
            browser.locator(".mco-results select").select_option(value=labels[timely.index("time")])
            expect(browser.locator(".mco-detail")).to_contain_text(registry.get("time").description)
            expect(browser.locator(".mco-entry")).to_contain_text("mcp-server-time")

            page.screenshot(path=str(shot), full_page=True)
            browser.screenshot(path=str(shot.with_name("voila-catalog-browser-widget.png")))
            assert shot.stat().st_size > 10_000, f"an empty screenshot: {shot}"
        except (AssertionError, PlaywrightError) as exc:
            failed = shot.with_name("voila-catalog-browser-FAILED.png")
            with contextlib.suppress(Exception):
                page.screenshot(path=str(failed), full_page=True)
            raise AssertionError(f"{exc}\nscreenshot: {failed}") from exc
        finally:
            context.close()
