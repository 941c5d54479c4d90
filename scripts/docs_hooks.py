"""mkdocs hooks of the documentation site (``mkdocs.yml``: ``hooks: [scripts/docs_hooks.py]``).

    make docs                          # mkdocs build --strict into site/
    .venv/bin/mkdocs serve             # the same, live at http://127.0.0.1:8000

What they do, and why a hook and not a setting:

- the tutorial notebooks live in ``notebooks/``, outside ``docs/``: they are added to the site
  as ``notebooks/<name>.ipynb`` (mkdocs-jupyter renders them) with a generated overview page,
  ``notebooks/index.md``; links to them in the pages (``../notebooks/01-quickstart.ipynb``,
  right on GitHub) and between them (``02-catalog.ipynb``) are pointed at the rendered pages;
- mkdocs-click documents the commands a group has *loaded*; the ``mcp-orch`` group loads most
  commands only when they run (a light ``--help``), so every command is loaded first;
- the notebooks are executed at build: the kernels inherit a sandbox (a temporary HOME,
  workspace and client root, ``MCP_ORCH_OFFLINE=1``), on top of the sandbox each notebook makes
  for itself, so a build never reads or writes the builder's home or client configs.

- a few docstrings use Sphinx roles (``:class:`X```), shown as names in the API reference;
  nbconvert's mermaid loader (a CDN import) is left out of notebooks that draw no diagram.

``MCP_ORCH_DOCS_EXECUTE=false`` renders the notebooks as stored (no kernel);
``MCP_ORCH_DOCS_CACHE=false`` re-executes them even when ``.cache/mkdocs-jupyter`` holds a
rendering of the same notebook (the cache is keyed on the notebook, not on the code it runs).
"""

from __future__ import annotations

import atexit
import json
import os
import pkgutil
import posixpath
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import click
from mkdocs.plugins import event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files

from mcp_orch.frontends.cli import cli

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_URI = "notebooks/"  # where the notebooks sit in the site's file tree

log = get_plugin_logger("mcp_orch_docs")
_sandbox: Path | None = None


def _enter_sandbox() -> Path:
    """Point HOME, the workspace and the client root of this process (and so of every kernel
    it starts) at a temporary folder; the folder is removed when the build process exits."""
    global _sandbox
    if _sandbox is None:
        _sandbox = Path(tempfile.mkdtemp(prefix="mcp-orch-docs-"))
        atexit.register(shutil.rmtree, _sandbox, ignore_errors=True)
        for sub in ("home", "ws", "root"):
            (_sandbox / sub).mkdir()
        os.environ.update(
            {
                "HOME": str(_sandbox / "home"),
                "USERPROFILE": str(_sandbox / "home"),
                "MCP_ORCH_HOME": str(_sandbox / "ws"),
                "MCP_ORCH_CLIENT_ROOT": str(_sandbox / "root"),
                "MCP_ORCH_OFFLINE": "1",
                "MPLBACKEND": "agg",
            }
        )
        os.environ.pop("XDG_CONFIG_HOME", None)
    return _sandbox


def _load_all_commands(group: click.Group) -> None:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            _load_all_commands(command)


def on_config(config: Any) -> Any:
    _enter_sandbox()
    _load_all_commands(cli)
    return config


@event_priority(100)  # before mkdocs-jupyter, which turns .ipynb files into pages
def on_files(files: Files, config: Any) -> Files:
    # a real file (src_dir: the repository), not a generated one: mkdocs-jupyter reads the
    # notebook from its abs_src_path
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(
            File(
                NOTEBOOK_URI + path.name,
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    files.append(File.generated(config, NOTEBOOK_URI + "index.md", content=_notebooks_index()))
    return files


def _notebooks_index() -> str:
    """The notebooks' landing page: each tutorial's title and first paragraph."""
    lines = [
        "# Tutorial notebooks",
        "",
        "Jupyter tutorials that walk through mcp-orch with the Python API, each in a temporary",
        "workspace and client root of its own. They live in `notebooks/` in the repository; the",
        "pages below were executed when this site was built, so every output is real.",
        "",
    ]
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        prose = next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        title, _, rest = prose.partition("\n")
        intro = next((p.strip() for p in rest.split("\n\n") if p.strip()), "")
        intro = re.sub(r"\]\((?P<name>[\w.-]+\.ipynb)\)", r"](\g<name>)", intro)
        lines += [f"## [{title.lstrip('# ').strip()}]({path.name})", "", intro, ""]
    return "\n".join(lines)


_MD_LINK = re.compile(r"\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Pages link the notebooks where they are in the repository (``../notebooks/NAME.ipynb``,
    right on GitHub): on the site, link the rendered notebook instead."""
    src_uri = page.file.src_uri
    if page.file.abs_src_path is None or src_uri.startswith(NOTEBOOK_URI):
        return markdown
    here = Path(page.file.abs_src_path).parent

    def relink(match: re.Match[str]) -> str:
        target = match["target"]
        if "://" in target or target.startswith(("mailto:", "/")):
            return match[0]
        real = (here / target).resolve()
        if real == NOTEBOOKS:
            uri = NOTEBOOK_URI + "index.md"
        elif real.parent == NOTEBOOKS and real.suffix == ".ipynb":
            uri = NOTEBOOK_URI + real.name
        else:
            return match[0]
        relative = posixpath.relpath(uri, posixpath.dirname(src_uri) or ".")
        return f"]({relative}{match['anchor'] or ''})"

    return _MD_LINK.sub(relink, markdown)


_MERMAID_LOADER = re.compile(
    r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>', re.S
)
_NOTEBOOK_LINK = re.compile(r'href="(?P<name>[\w.-]+\.ipynb)(?P<anchor>#[^"]*)?"')


_ROLE = re.compile(r":(?:mod|class|func|meth|attr|exc|data|obj):<code>(?P<target>[^<]+)</code>")


def _drop_roles(html: str) -> str:
    """A few docstrings use Sphinx roles (``:class:`~mcp_orch.core.errors.NotFound```), which
    Markdown shows as they are: show the name (short with ``~``), linked when the page
    documents that object (by its own path, or as the public ``mcp_orch.NAME`` it is)."""
    ids = set(re.findall(r'id="([^"]+)"', html))

    def anchor(target: str) -> str | None:
        if target in ids:
            return target
        public = "mcp_orch." + target.rsplit(".", 1)[-1]
        if public not in ids:
            return None
        try:
            same = pkgutil.resolve_name(target) is pkgutil.resolve_name(public)
        except (ImportError, AttributeError, ValueError):
            return None
        return public if same else None

    def name(match: re.Match[str]) -> str:
        target = match["target"].lstrip("~")
        shown = target.rsplit(".", 1)[-1] if match["target"].startswith("~") else target
        code = f"<code>{shown}</code>"
        found = anchor(target)
        return f'<a class="autorefs" href="#{found}">{code}</a>' if found else code

    return _ROLE.sub(name, html)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Sphinx roles as names; on a notebook's page, links to the next notebook (by its file
    name) to its rendered page, and no mermaid loader when there is no diagram."""
    if _ROLE.search(html):
        html = _drop_roles(html)
    if not page.file.src_uri.startswith(NOTEBOOK_URI):
        return html
    if (
        'class="jp-Mermaid' not in html
    ):  # nbconvert's loader would fetch mermaid from a CDN: not needed
        html = _MERMAID_LOADER.sub("", html)

    def relink(match: re.Match[str]) -> str:
        target = files.get_file_from_path(NOTEBOOK_URI + match["name"])
        if target is None:
            log.warning("%s links to %s, which is not a notebook", page.file.src_uri, match[0])
            return match[0]
        return f'href="{target.url_relative_to(page.file)}{match["anchor"] or ""}"'

    return _NOTEBOOK_LINK.sub(relink, html)


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    server.watch(str(NOTEBOOKS))
    server.watch(str(ROOT / "mcp_orch"))
    return server
