"""The documentation site (``mkdocs.yml``) builds in strict mode, and what it generates is complete.

One build for the module: ``mkdocs build --strict -d TMP`` in a subprocess, the tutorial
notebooks executed (no cache), in a temporary HOME and TMPDIR. Strict mode fails the build on
any warning: a broken link or anchor, a page left out of the navigation, a reference
mkdocstrings cannot resolve, a notebook cell that raises. The build takes about a minute on two
cores, most of it running the six notebooks.

The reference pages that are not how-tos run as written too (``tests/docs_runner.py``, the runner
of ``tests/test_docs_pages.py``): the Python API reference and the tutorial.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from docs_runner import DocPage, run_page

import mcp_orch as mo
from mcp_orch.frontends.cli import cli

for _plugin in (
    "mkdocs",
    "material",
    "mkdocs_click",
    "mkdocstrings_handlers.python",
    "mkdocs_jupyter",
):
    pytest.importorskip(_plugin)

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).with_name("mkdocs")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BUILD_TIMEOUT = 900  # seconds; a normal build takes about one minute

#: the public names the API reference must document (the widgets live in their front end)
API_NAMES = [
    "Workspace",
    "Profile",
    "History",
    "Registry",
    "Server",
    "CatalogView",
    "Draft",
    "ValidationReport",
    "Finding",
    "check_payload",
    "Artifact",
    "Deployment",
    "DriftReport",
    "Diff",
    "diff",
    "AuditLog",
    "AuditView",
    "probe",
    "ProbeReport",
    "ClientSpec",
    "get_client",
    "list_clients",
]
WIDGETS = ["CatalogBrowser", "DraftEditor", "HistoryView"]


class Site:
    def __init__(self, root: Path, seconds: float, log: str) -> None:
        self.root, self.seconds, self.log = root, seconds, log

    def page(self, url: str) -> str:
        path = self.root / url / "index.html"
        assert path.is_file(), f"{url} was not built"
        return path.read_text(encoding="utf-8")

    def pages(self) -> Iterator[Path]:
        yield from sorted(self.root.rglob("*.html"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    base = tmp_path_factory.mktemp("docs-site")
    out, home, tmp = base / "site", base / "home", base / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "MCP_ORCH_HOME": str(base / "ws"),
        "MCP_ORCH_CLIENT_ROOT": str(base / "root"),
        "MCP_ORCH_OFFLINE": "1",
        "MCP_ORCH_DOCS_EXECUTE": "true",
        "MCP_ORCH_DOCS_CACHE": "false",  # execute the notebooks against the code as it is now
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    start = time.monotonic()
    proc = subprocess.run(
        [str(MKDOCS), "build", "--strict", "-d", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    seconds = time.monotonic() - start
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log[-8000:]}"
    # the build and its kernels left nothing in HOME, the workspace, the client root or TMPDIR
    assert not [p for p in home.rglob("*") if p.is_file()], "the build wrote into HOME"
    assert not (base / "ws").exists() and not (base / "root").exists()
    left = [*tmp.glob("mcp-orch-tutorial-*"), *tmp.glob("mcp-orch-docs-*")]
    assert not left, "a notebook or the build left its sandbox behind"
    print(f"\nmkdocs build --strict (notebooks executed): {seconds:.1f} s")
    return Site(out, seconds, log)


def _command_paths(group: click.Group, prefix: str) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group, info_name=prefix)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = f"{prefix} {name}"
        yield path, command
        if isinstance(command, click.Group):
            yield from _command_paths(command, path)


def _sections(page: str) -> dict[str, str]:
    """The page's text by heading id: from each heading to the next one."""
    heads = list(re.finditer(r'<h[1-6] id="([^"]+)"', page))
    return {
        m[1]: page[m.start() : heads[i + 1].start() if i + 1 < len(heads) else len(page)]
        for i, m in enumerate(heads)
    }


def test_commands_page_lists_every_command_and_option(site: Site) -> None:
    sections = _sections(site.page("reference/commands"))
    commands = list(_command_paths(cli, "mcp-orch"))
    assert len(commands) > 40  # the tree, lazy commands and sub-groups included
    for path, command in commands:
        anchor = path.replace(" ", "-")
        assert anchor in sections, f"{path} is missing from the commands page"
        text = html.unescape(sections[anchor])
        assert f"{path} [OPTIONS]" in text, f"{path}: no usage line"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                for opt in param.opts:
                    assert re.search(rf"(?<![\w-]){re.escape(opt)}\b", text), f"{path}: {opt}"
    # the generated page and the hand-written one link each other
    assert 'href="../cli/"' in site.page("reference/commands")
    assert 'href="../commands/"' in site.page("reference/cli")


def test_api_page_documents_the_public_names(site: Site) -> None:
    page = site.page("reference/api")
    sections = _sections(page)
    for name in API_NAMES:
        assert f"mcp_orch.{name}" in sections, f"{name} is missing from the API reference"
    for name in WIDGETS:
        assert f"mcp_orch.frontends.widgets.{name}" in sections, name
    errors = [n for n in mo.__all__ if isinstance(getattr(mo, n), type)]
    errors = [n for n in errors if issubclass(getattr(mo, n), BaseException)]
    assert {"MCPOrchError", "NotFound", "InvalidConfig"} <= set(errors)
    for name in errors:
        assert f"mcp_orch.core.errors.{name}" in sections, f"{name} is missing"
    # docstrings and members, not just headings
    workspace = html.unescape(sections["mcp_orch.Workspace"])
    assert (mo.Workspace.__doc__ or "").split(".")[0] in workspace
    assert "mcp_orch.Workspace.profile" in sections
    assert "mcp_orch.Draft.validate" in sections and "mcp_orch.Artifact.deploy" in sections


def test_every_notebook_is_rendered_with_its_outputs(site: Site) -> None:
    assert len(NOTEBOOKS) == 6
    index = site.page("notebooks")
    for source in NOTEBOOKS:
        nb = json.loads(source.read_text(encoding="utf-8"))
        title = "".join(nb["cells"][0]["source"]).splitlines()[0].lstrip("# ").strip()
        page = html.unescape(site.page(f"notebooks/{source.stem}"))
        assert title in page, f"{source.name}: title missing"
        assert f'href="{source.stem}/"' in index, f"{source.name} is not on the notebooks page"
        # executed at build: the outputs show the sandbox the notebook made in the build's
        # TMPDIR (the stored notebook shows the one of the run that saved it)
        assert re.search(r"docs-site\d*/tmp/mcp-orch-tutorial-\w+/workspace", page), (
            f"{source.name}: the outputs are not from this build"
        )
        assert "Traceback (most recent call last)" not in page, f"{source.name} raised"


def test_links_between_pages_resolve(site: Site) -> None:
    broken = []
    for path in site.pages():
        text = path.read_text(encoding="utf-8")
        for href in re.findall(r'href="([^"#?]+)(?:[#?][^"]*)?"', text):
            if "://" in href or href.startswith(("/", "mailto:", "data:", "javascript:")):
                continue  # only 404.html links from the root: it is served at any depth
            target = (path.parent / html.unescape(href)).resolve()
            if target.is_dir():
                target /= "index.html"
            if not target.exists():
                broken.append(f"{path.relative_to(site.root)} -> {href}")
    assert not broken, "\n".join(broken)


def test_the_site_works_offline(site: Site) -> None:
    """No page loads a script, a style sheet or a font from the network (the altair charts are
    drawn as SVG in the page), except nbconvert's Jupyter widget manager on the pages of
    notebooks that show widgets: a static page cannot run them without it."""
    remote = re.compile(
        r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(https?:)?//[^"]+"'
        r"|import\(\s*[\"']https?://|fonts\.googleapis|cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare"
    )
    widget_manager = re.compile(
        r"'https://unpkg\.com/@jupyter-(?:widgets/html-manager|js-widgets)@\*/"
    )
    widgets = 0
    for path in site.pages():
        text = path.read_text(encoding="utf-8")
        if 'type="application/vnd.jupyter.widget-view+json"' in text:
            widgets += 1
            text = widget_manager.sub("", text)
        found = remote.search(text)
        assert not found, f"{path.relative_to(site.root)} loads {found[0]}"
    assert widgets >= 1  # the widgets tutorial


def test_altair_charts_are_drawn_in_the_page(site: Site) -> None:
    page = site.page("notebooks/05-history-and-audit")
    source = (ROOT / "notebooks" / "05-history-and-audit.ipynb").read_text(encoding="utf-8")
    if ".chart(" not in source:
        pytest.skip("the history tutorial draws no chart")
    # vl-convert's SVG, shown as the cell's output (not a vega-embed placeholder)
    assert 'data-mime-type="image/svg+xml"' in page, "a chart of the history tutorial is not drawn"


def test_theme_search_and_navigation(site: Site) -> None:
    home = site.page("")
    assert 'data-md-color-scheme="default"' in home and 'data-md-color-scheme="slate"' in home
    index = json.loads((site.root / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert {"tutorial/", "reference/api/", "reference/commands/"} <= locations
    nav = re.findall(
        r'class="md-nav__link[^"]*"[^>]*>\s*<span class="md-ellipsis">\s*([^<]+?)\s*<', home
    )
    assert {"Tutorial", "How-to", "Reference", "Explanation"} <= set(nav), nav
    for how_to in sorted((ROOT / "docs" / "how-to").rglob("*.md")):
        url = how_to.relative_to(ROOT / "docs").with_suffix("").as_posix()
        assert f'href="{url}/"' in home, f"{url} is not in the navigation"


@pytest.mark.parametrize("page", ["docs/reference/python-api.md", "docs/tutorial.md"])
def test_reference_pages_run_as_written(page: str) -> None:
    result = run_page(DocPage.load(ROOT / page))
    assert not result.failures, "\n\n".join(result.failures)
    assert result.skipped <= 1
    assert result.commands > 10
