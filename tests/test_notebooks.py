"""The tutorials in ``notebooks/`` run top to bottom in a fresh kernel (nbclient), each from a copy
in the test's tmp dir, and never touch the home directory or the workspace of the environment.

Each notebook is one test (about 5-15 s: a kernel start plus the tutorial's work). The kernel
inherits the sandbox of ``tests/conftest.py`` (HOME, MCP_ORCH_HOME, MCP_ORCH_CLIENT_ROOT in tmp
dirs) and ``TMPDIR`` inside the test's tmp dir, so we can see where the tutorial's own sandbox went.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "01-quickstart",
    "02-catalog",
    "03-drafts-and-validation",
    "04-publish-deploy-rollback",
    "05-history-and-audit",
    "06-widgets",
]


def test_the_six_tutorials_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("source", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_its_own_sandbox(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = nbformat.read(source, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code").source
    for needle in ("tempfile", "MCP_ORCH_HOME", "MCP_ORCH_CLIENT_ROOT"):
        assert needle in setup, f"the first cell must set up the sandbox ({needle})"
    prose = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert prose and prose[0].startswith("# "), "a tutorial opens with a title"
    assert sum(len(p.split()) for p in prose) > 150, "a tutorial explains what happens and why"

    work = tmp_path / "run"
    work.mkdir()
    copy = work / source.name
    shutil.copy(source, copy)
    kernel_tmp = tmp_path / "kernel-tmp"
    kernel_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(kernel_tmp))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "agg")

    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    first = next(c for c in nb.cells if c.cell_type == "code")
    shown = first.outputs[0]["data"]["text/plain"]
    match = re.search(r"<Workspace (\S+)>", shown)
    assert match, shown
    assert Path(match.group(1)).is_relative_to(kernel_tmp), "the workspace is a temporary dir"

    # nothing landed in the environment's workspace, home or client root
    assert not (tmp_path / "ws").exists()
    assert not (tmp_path / "root").exists()
    home = tmp_path / "home"
    assert not [p for p in home.rglob("*") if p.is_file()], "the tutorial wrote into HOME"
    # the sandbox is gone with the kernel
    assert not list(kernel_tmp.glob("mcp-orch-tutorial-*"))

    if source.stem == "06-widgets":
        _check_widget_outputs(nb)
    if source.stem == "05-history-and-audit":
        _check_chart_outputs(nb)


def _check_chart_outputs(nb: Any) -> None:
    """The history-and-audit tutorial draws its charts offline (the Vega-Lite spec plus an SVG
    rendered in the kernel) and shows interactive tables that carry their own DataTables."""
    charts, tables = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if any(re.fullmatch(r"application/vnd\.vegalite\.v\d+\+json", k) for k in data):
                charts.append(data)
            if "new ITable(" in data.get("text/html", ""):
                tables.append(data["text/html"])
    titles = [next(v for k, v in d.items() if "vegalite" in k)["title"] for d in charts]
    assert titles == ["releases per profile", "audit activity", "probe: payload"]
    for d in charts:
        assert d["image/svg+xml"].lstrip().startswith("<svg")
    assert "cursor/default" in charts[0]["image/svg+xml"]  # a row per profile
    assert "gone (failed)" in charts[2]["image/svg+xml"]  # the probe's failed server
    assert len(tables) == 2  # the audit log and the catalog
    assert sum("injectModule" in t for t in tables) == 1  # the library, once per kernel
    assert not [t for t in tables if re.search(r"src=[\"']?https?://|unpkg|jsdelivr", t)]


def _check_widget_outputs(nb: Any) -> None:
    """Executed headless, the widgets tutorial leaves widget views, their saved state, and the
    printed state of each widget in its outputs, and no typed secret anywhere."""
    text = ""
    views = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            views += "application/vnd.jupyter.widget-view+json" in data
            text += out.get("text", "") + data.get("text/plain", "") + data.get("text/html", "")
    assert views >= 3  # the browser, the editor and the history view
    state = nb.metadata.get("widgets", {})
    assert "application/vnd.jupyter.widget-state+json" in state
    assert "<CatalogBrowser 3 of" in text and "selected: time>" in text
    assert "'${env:GITHUB_PERSONAL_ACCESS_TOKEN}'" in text
    assert "would replace hand edits: []" in text  # the preview
    assert "waiting for confirmation: True" in text  # a deploy over hand edits asks first
    assert "replaced hand edits to time" in text  # and says what it replaced once confirmed
    assert "latest is now" in text
    typed = "demo-token-not-a-real-secret"
    assert typed not in text
    assert typed not in json.dumps(state)  # the password field was cleared
