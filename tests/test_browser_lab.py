"""Real JupyterLab 4, light and dark: what a notebook user sees of mcp-orch, checked from the
browser's computed styles, and the widgets driven by clicks and typing.

One JupyterLab server per module (loopback, a token, every Jupyter and mcp-orch directory in a
temporary folder, the kernel is this venv's Python), one headless Chromium (Debian's, driven by
Playwright). The theme is set per test through JupyterLab's settings API, then the page loads.

- ``displays.ipynb`` (tests/data/browser_lab/) is run through the page (Run > Run All Cells) in
  each theme: every mcp-orch table header reads at a WCAG contrast of at least 4.5:1 against its
  effective background, text cells are left-aligned, and a deployment diff's added and removed
  lines have their own colours (not the body text's, not each other's).
- The same notebook with saved outputs, opened untrusted (JupyterLab drops ``<style>``): the
  severities and the diff markers are still there, and still coloured (inline styles).
- ``flow.ipynb``: CatalogBrowser (search, select, a required field, Add) -> the DraftEditor shows
  the server without Reload -> Validate -> Publish -> Preview -> Deploy (and, after a hand edit of
  the client file, the confirmation a deploy that replaces it asks for) -> the client file under
  the sandbox client root has the entry, and the HistoryView lists the release without Refresh.

Screenshots of each theme and each flow step go to ``$MCP_ORCH_TEST_ARTIFACTS/browser/``
(default ``<repo>/.artifacts/browser/``); a failing step saves ``<step>-FAILED.png`` and names it
in the failure. ``timings.json`` there has the module's wall time (target: under 90 s on 2 cores).

Needs Debian's ``chromium`` at /usr/bin/chromium (``scripts/ci-browser-deps.sh``) and the ``test``
extra (``playwright``, ``jupyterlab``, ``ipykernel``, ``ipywidgets``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from test_browser import CHROMIUM, FLAGS, artifacts_dir, free_port

import mcp_orch as mo

DATA = Path(__file__).parent / "data" / "browser_lab"
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"
THEMES = pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
# the target is 90 s on 2 idle cores; the budget catches a hang, not a busy box
MODULE_BUDGET_S = float(os.environ.get("MCP_ORCH_BROWSER_BUDGET", "300"))
VIEWPORT = {"width": 1400, "height": 1800}
THEMES_SETTINGS = "@jupyterlab/apputils-extension:themes"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian chromium at /usr/bin/chromium: run scripts/ci-browser-deps.sh",
)


# -- the server ------------------------------------------------------------------------------
@dataclass
class Lab:
    url: str
    token: str
    root: Path  # the server's root_dir: notebooks are copied here
    home: Path  # MCP_ORCH_HOME of the server and its kernels
    client_root: Path  # MCP_ORCH_CLIENT_ROOT of the server and its kernels
    log: Path
    shots: Path
    env: dict[str, str]  # the server's environment (isolated dirs): also for nbclient
    timings: dict[str, float] = field(default_factory=dict)
    saving: subprocess.Popen[bytes] | None = None  # runs displays.ipynb headless meanwhile
    current: str = ""  # the notebook the page has open

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def set_theme(self, theme: str) -> None:
        """Store the theme in JupyterLab's settings (what Settings > Theme does)."""
        self.api(
            "PUT",
            f"lab/api/settings/{THEMES_SETTINGS}",
            {"raw": json.dumps({"theme": theme, "adaptive-theme": False})},
        )
        stored = self.api("GET", f"lab/api/settings/{THEMES_SETTINGS}")
        assert json.loads(stored["raw"])["theme"] == theme, stored

    def shutdown_kernels(self) -> None:
        for session in self.api("GET", "api/sessions") or []:
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"api/sessions/{session['id']}")
        for kernel in self.api("GET", "api/kernels") or []:
            with contextlib.suppress(urllib.error.URLError):
                self.api("DELETE", f"api/kernels/{kernel['id']}")

    def notebook_url(self, name: str) -> str:
        # ?reset: start from an empty workspace, not the layout the last test left behind
        return f"{self.url}lab/tree/{name}?reset&token={self.token}"

    def config_path(self) -> Path:
        """The client file a deploy of the flow's profile writes (read from Python, as a user
        would open it)."""
        ws = mo.Workspace(self.home, client_root=self.client_root)
        return Path(ws.profile("cursor").config_path())


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2))


def _start_lab(base: Path) -> tuple[subprocess.Popen[bytes], Lab]:
    dirs = {
        name: base / name
        for name in (
            "home",
            "root",
            "config",
            "data",
            "settings",
            "workspaces",
            "runtime",
            "ipython",
            "mcp-orch-home",
            "client-root",
        )
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    # the kernel is this venv's Python (the bundled spec says "python", whatever PATH finds)
    _write_json(
        dirs["data"] / "kernels" / "python3" / "kernel.json",
        {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        },
    )
    # only what the page needs: no language server, no terminals (faster start, less noise)
    _write_json(
        dirs["config"] / "jupyter_server_config.json",
        {
            "ServerApp": {
                "jpserver_extensions": {"jupyter_lsp": False, "jupyter_server_terminals": False}
            }
        },
    )
    settings = dirs["settings"]
    _write_json(
        settings / "@jupyterlab" / "apputils-extension" / "themes.jupyterlab-settings",
        {"theme": LIGHT, "adaptive-theme": False},
    )
    # no "news?" toast over the page, no update check (no network in tests)
    _write_json(
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    # every cell stays in the DOM (no virtual scrolling): computed styles of every output
    _write_json(
        settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
        {"windowingMode": "none"},
    )
    token = secrets.token_hex(16)
    port = free_port()
    env = {
        **os.environ,
        "HOME": str(dirs["home"]),
        "USERPROFILE": str(dirs["home"]),
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "MCP_ORCH_HOME": str(dirs["mcp-orch-home"]),
        "MCP_ORCH_CLIENT_ROOT": str(dirs["client-root"]),
        "MCP_ORCH_OFFLINE": "1",
        "TMPDIR": str(base),  # the notebooks' own sandboxes land here too
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                f"--port={port}",
                "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={token}",
                "--allow-root",  # CI containers run as root
                f"--ServerApp.root_dir={dirs['root']}",
                "--ServerApp.port_retries=0",
                "--LabApp.news_url=",
            ],
            cwd=dirs["root"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    lab = Lab(
        url=f"http://127.0.0.1:{port}/",
        token=token,
        root=dirs["root"],
        home=dirs["mcp-orch-home"],
        client_root=dirs["client-root"],
        log=log,
        shots=artifacts_dir(),
        env=env,
    )
    return proc, lab


def _wait_until_up(lab: Lab, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"jupyter lab exited with {proc.returncode}:\n{lab.log.read_text()[-3000:]}"
            )
        try:
            lab.api("GET", "api/status")
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"jupyter lab did not answer within {timeout} s:\n{lab.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    started = time.monotonic()
    proc, server = _start_lab(tmp_path_factory.mktemp("lab"))
    try:
        _wait_until_up(server, proc, timeout=90)
        server.timings["server start"] = round(time.monotonic() - started, 2)
        start_saving(server)
        yield server
    finally:
        if server.saving is not None and server.saving.poll() is None:
            server.saving.kill()
            server.saving.wait(timeout=10)
        with contextlib.suppress(Exception):
            server.shutdown_kernels()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        total = round(time.monotonic() - started, 2)
        server.timings["module wall time"] = total
        (server.shots / "timings.json").write_text(json.dumps(server.timings, indent=2))
        assert total < MODULE_BUDGET_S, (
            f"the JupyterLab browser tests took {total} s (budget {MODULE_BUDGET_S} s, target "
            f"90 s): {server.timings}"
        )


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser context for the module: JupyterLab's bundles come from its cache after the
    first page (each test still gets a fresh page, and the lab a fresh workspace)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield browser.new_context(viewport=VIEWPORT)
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, lab: Lab, request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import expect

    started = time.monotonic()
    pg = chromium.new_page()
    pg.set_default_timeout(60_000)
    expect.set_options(timeout=30_000)  # a busy CI box: kernel round trips can be slow
    try:
        yield pg
    finally:
        pg.close()
        lab.shutdown_kernels()  # two cores: no idle kernel left behind for the next test
        lab.timings[request.node.name] = round(time.monotonic() - started, 2)


# -- the page --------------------------------------------------------------------------------
@contextlib.contextmanager
def step(page: Any, lab: Lab, name: str, show: Any = None) -> Iterator[None]:
    """One user-visible step: a full-page screenshot after it (with ``show``, a locator,
    scrolled into view first: the lab scrolls its notebook inside a fixed-size page); on
    failure, one named in the error (``<name>-FAILED.png``)."""

    def shoot(path: Path) -> None:
        if show is not None:
            with contextlib.suppress(Exception):
                show.scroll_into_view_if_needed(timeout=5_000)
        page.screenshot(path=str(path), full_page=True)

    try:
        yield
    except BaseException as exc:
        shot = lab.shots / f"{name}-FAILED.png"
        with contextlib.suppress(Exception):
            shoot(shot)
        from playwright.sync_api import Error as PlaywrightError

        if isinstance(exc, AssertionError | PlaywrightError):
            raise AssertionError(f"{name}: {exc}\nscreenshot: {shot}") from exc
        raise
    shoot(lab.shots / f"{name}.png")


def open_notebook(page: Any, lab: Lab, source: Path, theme: str, *, name: str = "") -> None:
    """Copy ``source`` into the server's root, set the theme, open the notebook in the lab."""
    name = name or source.name
    if source.resolve() != (lab.root / name).resolve():
        shutil.copy(source, lab.root / name)
    lab.set_theme(theme)
    started = time.monotonic()
    page.goto(lab.notebook_url(name), wait_until="domcontentloaded", timeout=90_000)
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(state="visible", timeout=120_000)
    lab.timings[f"{name}: page shows the notebook"] = round(time.monotonic() - started, 2)
    lab.current = name
    applied = page.evaluate("document.body.dataset.jpThemeName")
    assert applied == theme, f"JupyterLab shows theme {applied!r}, not {theme!r}"


def run_all(page: Any, lab: Lab) -> None:
    """Run > Run All Cells, once the kernel is connected and idle; wait for the last cell's
    output (or fail with the first error a cell printed)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    # the status bar says "Python 3 (ipykernel) | Idle" once the session has a live kernel
    started = time.monotonic()
    page.locator(".jp-StatusBar-Item", has_text="| Idle").first.wait_for(timeout=90_000)
    ready = time.monotonic()
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for attempt in range(2):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
        try:  # the first cell is queued or has run: "[*]:" or "[1]:"
            page.wait_for_function(
                "(el) => /\\[[*0-9]+\\]/.test(el.textContent)",
                arg=first_prompt.element_handle(),
                timeout=15_000,
            )
            break
        except PlaywrightTimeout:
            if attempt:
                raise
    done = page.locator(OUTPUTS, has_text="all cells ran")
    # JupyterLab renders a cell's exception as stderr output with the traceback
    errors = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        has_text="Traceback",
    )
    done.or_(errors).first.wait_for(state="visible", timeout=120_000)
    name = lab.current
    lab.timings[f"{name}: kernel idle"] = round(ready - started, 2)
    lab.timings[f"{name}: cells ran"] = round(time.monotonic() - ready, 2)
    if errors.count():
        pytest.fail(f"a cell raised:\n{errors.first.inner_text()[:3000]}")


# Colours are normalised by the browser itself (a 1x1 canvas), so any CSS colour syntax works.
_STYLES_JS = """
(root) => {
  const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1); const d = ctx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255];
  };
  const backgrounds = (el) => {
    const out = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { out.push(c); if (c[3] >= 0.999) break; }
    }
    return out;
  };
  const outputs = [...document.querySelectorAll(root)];
  const mco = outputs.flatMap((o) => [...o.querySelectorAll('.mco')]);
  const headers = mco.flatMap((m) => [...m.querySelectorAll('th')]).map((th) => ({
    text: th.textContent.trim(), color: rgba(getComputedStyle(th).color),
    backgrounds: backgrounds(th)}));
  const cells = mco.flatMap((m) => [...m.querySelectorAll('td')]).map((td) => ({
    text: td.textContent.trim(), align: getComputedStyle(td).textAlign}));
  const lines = [];
  for (const out of outputs) {
    if (!out.textContent.includes('+++ ')) continue;  // a unified diff
    const body = out.querySelector('.jp-RenderedHTMLCommon') || out;
    const normal = rgba(getComputedStyle(body).color);
    const walker = document.createTreeWalker(out, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement; const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      const text = n.textContent;
      const starts = [0];
      for (let i = 0; i < text.length; i++) if (text[i] === '\\n') starts.push(i + 1);
      for (const s of starts) {
        const line = text.slice(s, text.indexOf('\\n', s) < 0 ? undefined : text.indexOf('\\n', s));
        if (!line.trim() || /^(\\+\\+\\+|---|@@)/.test(line)) continue;
        const kind = line[0] === '+' ? 'added' : line[0] === '-' ? 'removed' : 'other';
        lines.push({kind, text: line.slice(0, 80), color: rgba(style.color), normal});
      }
    }
  }
  const styles = outputs.reduce((n, o) => n + o.querySelectorAll('style').length, 0);
  return {outputs: outputs.length, mco: mco.length, headers, cells, lines, styles};
}
"""

OUTPUTS = ".jp-NotebookPanel .jp-OutputArea-output"


def measure(page: Any, lab: Lab, name: str) -> dict[str, Any]:
    """The computed styles the checks read, also kept as ``<name>.json`` next to the
    screenshot (the values to quote in a bug report)."""
    found: dict[str, Any] = page.evaluate(_STYLES_JS, OUTPUTS)
    (lab.shots / f"{name}.json").write_text(json.dumps(found, indent=1, ensure_ascii=False))
    return found


def _composite(top: list[float], bottom: list[float]) -> list[float]:
    a = top[3] + bottom[3] * (1 - top[3])
    if a == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [(top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a for i in range(3)] + [a]


def effective_background(layers: list[list[float]]) -> list[float]:
    """The colour behind an element: its own and its ancestors' backgrounds, composited from
    the first opaque one up (the page under everything is white if none is opaque)."""
    colour = [255.0, 255.0, 255.0, 1.0]
    for layer in reversed(layers):
        colour = _composite(layer, colour)
    return colour


def luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: list[float], bg: list[float]) -> float:
    """WCAG 2 contrast ratio of text colour ``fg`` (alpha composited) on ``bg``."""
    text = _composite(fg, bg)
    hi, lo = sorted((luminance(text), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def css(c: list[float]) -> str:
    return f"rgba({c[0]:.0f},{c[1]:.0f},{c[2]:.0f},{c[3]:.2f})"


def _same(a: list[float], b: list[float], tol: float = 6) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a[:3], b[:3], strict=True))


NUMERIC = re.compile(r"^[\d.,:%+\-\s]*$")


def diff_problems(lines: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a diff's colours (empty: added and removed lines each have a colour
    of their own, not the body text's)."""
    added = [x for x in lines if x["kind"] == "added"]
    removed = [x for x in lines if x["kind"] == "removed"]
    if not added or not removed:
        return [f"no added/removed diff lines found in the output: {lines[:5]}"]
    problems = []
    for kind, group in (("added", added), ("removed", removed)):
        plain = [x for x in group if _same(x["color"], x["normal"])]
        if plain:
            problems.append(
                f"{len(plain)} of {len(group)} {kind} lines have the body text colour "
                f"{css(plain[0]['normal'])}, e.g. {plain[0]['text']!r}"
            )
    clash = [(a, r) for a in added for r in removed if _same(a["color"], r["color"])]
    if clash:
        a, r = clash[0]
        problems.append(
            f"added and removed lines share the colour {css(a['color'])}: {a['text']!r} / "
            f"{r['text']!r}"
        )
    return problems


# -- the displays, in both themes ------------------------------------------------------------
@THEMES
def test_displays_read_well_in_jupyterlab(page: Any, lab: Lab, theme: str) -> None:
    tag = "light" if theme == LIGHT else "dark"
    with step(page, lab, f"lab-{tag}-displays"):
        open_notebook(page, lab, DATA / "displays.ipynb", theme, name=f"displays-{tag}.ipynb")
        run_all(page, lab)
    shot = lab.shots / f"lab-{tag}-displays.png"
    found = measure(page, lab, f"lab-{tag}-displays")
    assert found["mco"] >= 4 and found["headers"] and found["cells"], (
        f"no mcp-orch tables in the outputs ({found['outputs']} outputs): {shot}"
    )
    assert found["styles"] > 0, f"the notebook ran in the lab, its <style> should apply: {shot}"

    worst = min(
        found["headers"],
        key=lambda h: contrast(h["color"], effective_background(h["backgrounds"])),
    )
    bg = effective_background(worst["backgrounds"])
    ratio = contrast(worst["color"], bg)
    assert ratio >= 4.5, (
        f"{theme}: table header {worst['text']!r} is {css(worst['color'])} on {css(bg)}: "
        f"contrast {ratio:.2f}:1 < 4.5:1 (WCAG AA); screenshot {shot}"
    )

    text_cells = [c for c in found["cells"] if c["text"] and not NUMERIC.match(c["text"])]
    assert text_cells
    off = [c for c in text_cells if c["align"] != "left"]
    assert not off, (
        f"{theme}: {len(off)} of {len(text_cells)} text cells are not left-aligned, e.g. "
        f"{off[0]['text'][:40]!r} has text-align: {off[0]['align']}; screenshot {shot}"
    )

    problems = diff_problems(found["lines"])
    assert not problems, f"{theme}: the deployment diff: {'; '.join(problems)}; screenshot {shot}"


# -- saved outputs, opened untrusted ---------------------------------------------------------
SAVED = "displays-saved.ipynb"

# ``displays.ipynb`` run headless (nbclient, the server's kernelspec: this venv's Python) and saved
# with its outputs but no signature, so JupyterLab opens it untrusted. It runs in a subprocess
# started with the server, while the first tests use the page.
_SAVE_SCRIPT = """
import sys, nbclient, nbformat
source, target, cwd = sys.argv[1:]
nb = nbformat.read(source, as_version=4)
nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                        resources={"metadata": {"path": cwd}}).execute()
nb.metadata.pop("signature", None)
nbformat.write(nb, target)
"""


def start_saving(lab: Lab) -> None:
    log = lab.log.with_name("nbclient.log")
    with open(log, "wb") as out:
        lab.saving = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _SAVE_SCRIPT,
                str(DATA / "displays.ipynb"),
                str(lab.root / SAVED),
                str(lab.root),
            ],
            cwd=lab.root,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=lab.env,
        )


def saved_notebook(lab: Lab) -> str:
    """The saved-outputs notebook's name in the server's root, once nbclient has written it."""
    assert lab.saving is not None
    try:
        code = lab.saving.wait(timeout=180)
    except subprocess.TimeoutExpired:
        lab.saving.kill()
        code = -1
    log = lab.log.with_name("nbclient.log")
    assert code == 0, f"nbclient could not run displays.ipynb ({code}):\n{log.read_text()[-3000:]}"
    return SAVED


def test_saved_outputs_keep_their_meaning_untrusted(page: Any, lab: Lab) -> None:
    from playwright.sync_api import expect

    name = saved_notebook(lab)
    with step(page, lab, "lab-untrusted-saved-outputs"):
        open_notebook(page, lab, lab.root / name, LIGHT)
        expect(page.locator(OUTPUTS, has_text="+++ ")).to_have_count(1)
    shot = lab.shots / "lab-untrusted-saved-outputs.png"
    found = measure(page, lab, "lab-untrusted-saved-outputs")
    assert found["mco"] >= 4, f"the saved outputs are not shown: {found}; screenshot {shot}"
    assert found["styles"] == 0, (
        f"{found['styles']} <style> elements survived: the notebook is not untrusted, the test "
        f"proves nothing; screenshot {shot}"
    )

    # every finding says its severity in text (a word or a symbol), and in its own colour
    findings = page.evaluate(
        """(root) => {
          const canvas = document.createElement('canvas'); canvas.width = canvas.height = 1;
          const ctx = canvas.getContext('2d', {willReadFrequently: true});
          const rgba = (css) => { ctx.clearRect(0,0,1,1); ctx.fillStyle = '#000';
            ctx.fillStyle = css; ctx.fillRect(0,0,1,1); const d = ctx.getImageData(0,0,1,1).data;
            return [d[0], d[1], d[2], d[3] / 255]; };
          const out = {};
          for (const o of document.querySelectorAll(root)) {
            const body = o.querySelector('.jp-RenderedHTMLCommon') || o;
            for (const code of ['MCP002', 'MCP006']) {
              const hit = [...o.querySelectorAll('li, tr, div, p')].filter(
                (e) => e.textContent.includes(code)).pop();
              if (!hit) continue;
              const walker = document.createTreeWalker(hit, NodeFilter.SHOW_TEXT);
              let marker = null;
              for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                if (/error|warning|[✖✗✘❌⛔⚠▲!]/i.test(n.textContent)) { marker = n; break; }
              }
              out[code] = {text: hit.textContent.trim().slice(0, 120),
                marker: marker ? marker.textContent.trim().slice(0, 40) : null,
                color: marker ? rgba(getComputedStyle(marker.parentElement).color) : null,
                normal: rgba(getComputedStyle(body).color)};
            }
          }
          return out;
        }""",
        OUTPUTS,
    )
    error, warning = findings.get("MCP002"), findings.get("MCP006")
    assert error and warning, f"the report's findings are not shown: {findings}; {shot}"
    assert error["marker"] and re.search(r"error|[✖✗✘❌⛔]", error["marker"], re.I), (
        f"the error finding shows no severity word or symbol: {error['text']!r}; {shot}"
    )
    assert warning["marker"] and re.search(r"warning|[⚠▲!]", warning["marker"], re.I), (
        f"the warning finding shows no severity word or symbol: {warning['text']!r}; {shot}"
    )
    assert not _same(error["color"], error["normal"]) and not _same(
        error["color"], warning["color"]
    ), (
        f"untrusted, the severities lose their colours (inline styles missing): error marker "
        f"{error['marker']!r} {css(error['color'])}, warning marker {warning['marker']!r} "
        f"{css(warning['color'])}, body text {css(error['normal'])}; screenshot {shot}"
    )

    # the diff's markers are there, each line keeps its colour without the stylesheet
    lines = found["lines"]
    assert any(x["kind"] == "added" for x in lines) and any(
        x["kind"] == "removed" for x in lines
    ), f"the diff's +/- markers are not visible: {lines[:6]}; screenshot {shot}"
    problems = diff_problems(lines)
    assert not problems, f"untrusted, the deployment diff: {'; '.join(problems)}; screenshot {shot}"


# -- the widgets flow, clicked and typed -----------------------------------------------------
def _client_file(lab: Lab) -> dict[str, Any]:
    path = lab.config_path()
    assert path.exists(), f"no client file at {path}"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_widgets_flow_in_jupyterlab(page: Any, lab: Lab) -> None:
    from playwright.sync_api import expect

    config = lab.config_path()
    assert config.is_relative_to(lab.client_root)
    browser = page.locator(".mco-catalog-browser").first
    editor = page.locator(".mco-draft-editor").first
    history = page.locator(".mco-history-view").first
    with step(page, lab, "lab-flow-0-opened"):
        open_notebook(page, lab, DATA / "flow.ipynb", DARK)
        run_all(page, lab)
        for widget in (browser, editor, history):
            expect(widget).to_be_visible()
        expect(editor.locator(".mco-draft-server")).to_have_count(0)
        expect(history.locator(".mco-artifacts select option")).to_have_count(0)

    add = browser.locator("button.mco-add")
    field = browser.locator(".mco-input-param", has_text="allowed_directory").locator("input")
    with step(page, lab, "lab-flow-1-search-select", browser):
        browser.locator(".mco-search input").fill("filesystem")
        options = browser.locator(".mco-results select option")
        expect(options.first).to_be_visible()
        label = next(t for t in options.all_inner_texts() if t.split()[0] == "filesystem")
        browser.locator(".mco-results select").select_option(label=label)
        expect(browser.locator(".mco-detail")).to_contain_text("filesystem")
        expect(field).to_be_visible()
        # a required input left empty: Add is refused, and the reason is next to it
        expect(add).to_be_disabled()
        expect(browser.locator(".mco-required")).to_contain_text("allowed_directory")

    allowed = lab.root / "allowed"
    allowed.mkdir(exist_ok=True)
    with step(page, lab, "lab-flow-2-added", browser):
        field.fill(str(allowed))
        expect(add).to_be_enabled()
        expect(browser.locator(".mco-entry")).to_contain_text(str(allowed))
        add.click()
        expect(browser.locator(".mco-message")).to_contain_text("added filesystem")

    row = editor.locator(".mco-draft-server", has_text="filesystem")
    with step(page, lab, "lab-flow-3-draft-editor-follows", editor):
        expect(row).to_have_count(1)  # no Reload clicked
        expect(editor).to_contain_text("1 server")

    message = editor.locator(".mco-message").last
    with step(page, lab, "lab-flow-4-validated", editor):
        editor.locator("button.mco-validate").click()
        expect(editor.locator(".mco-report")).to_contain_text("0 error")
        expect(message).to_contain_text("0 error")

    with step(page, lab, "lab-flow-5-published", editor):
        editor.locator(".widget-text", has_text="changelog").locator("input").fill("add filesystem")
        editor.locator("button.mco-publish").click()
        expect(message).to_contain_text("published")
        assert not config.exists(), f"publish wrote the client file {config}"

    diff = editor.locator(".widget-html.mco-diff")
    with step(page, lab, "lab-flow-6-preview", diff):
        editor.locator("button.mco-preview").click()
        expect(diff).to_contain_text("+++ ")
        expect(diff).to_contain_text(str(allowed))
        assert not config.exists(), f"a preview (dry run) wrote the client file {config}"
    shown = page.evaluate(_STYLES_JS, ".mco-draft-editor .widget-html.mco-diff")
    added = [x for x in shown["lines"] if x["kind"] == "added"]
    plain = [x for x in added if _same(x["color"], x["normal"])]
    assert added and not plain, (
        f"the preview's added lines are not coloured: {added[:3]}; screenshot "
        f"{lab.shots / 'lab-flow-6-preview.png'}"
    )

    with step(page, lab, "lab-flow-7-deployed", message):
        editor.locator("button.mco-deploy").click()
        expect(message).to_contain_text("deployed")
        entry = _client_file(lab)["mcpServers"]["filesystem"]
        assert str(allowed) in entry["args"], entry

    artifacts = history.locator(".mco-artifacts select option")
    with step(page, lab, "lab-flow-8-history-follows", history):
        expect(artifacts).to_have_count(1)  # no Refresh clicked
        expect(artifacts.first).to_contain_text("add filesystem")

    # someone edits the managed entry by hand; the next deploy would replace that edit
    data = _client_file(lab)
    data["mcpServers"]["filesystem"]["args"].append("/hand/edited")
    config.write_text(json.dumps(data, indent=2))
    other = lab.root / "allowed-2"
    other.mkdir(exist_ok=True)
    with step(page, lab, "lab-flow-9-second-release", editor):
        row.locator(".mco-input-param", has_text="allowed_directory").locator("input").fill(
            str(other)
        )
        row.locator("button.mco-save").click()
        expect(row.locator(".mco-message")).to_contain_text("saved filesystem")
        editor.locator(".widget-text", has_text="changelog").locator("input").fill("move it")
        editor.locator("button.mco-publish").click()
        expect(message).to_contain_text("published")
        expect(artifacts).to_have_count(2)

    confirm = editor.locator("button.mco-confirm")
    with step(page, lab, "lab-flow-10-confirm-hand-edits", diff):
        editor.locator("button.mco-deploy").click()
        expect(confirm).to_be_visible()
        expect(message).to_contain_text("hand edits")
        expect(diff).to_contain_text("/hand/edited")
        assert "/hand/edited" in _client_file(lab)["mcpServers"]["filesystem"]["args"], (
            "the deploy wrote before it was confirmed"
        )

    with step(page, lab, "lab-flow-11-deployed-after-confirm", history):
        confirm.click()
        expect(message).to_contain_text("replaced hand edits")
        entry = _client_file(lab)["mcpServers"]["filesystem"]
        assert str(other) in entry["args"] and "/hand/edited" not in entry["args"], entry
        expect(confirm).to_be_hidden()
        expect(artifacts.first).to_contain_text("move it")
        expect(artifacts.first).to_contain_text("[deployed]")
