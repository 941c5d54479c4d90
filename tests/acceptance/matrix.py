"""The acceptance matrix: client x transport, each cell the client's own verdict.

Tests record a cell with the ``verdict`` fixture (tests/acceptance/conftest.py), which puts it
in the test's ``user_properties``; those travel in the test reports, also from pytest-xdist
workers to the controller, where ``collect`` gathers them and ``summary`` prints the table and
writes ``.cache/acceptance-matrix.md``. tests/conftest.py wires both hooks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLUMNS = ("stdio", "http", "sse")
PROP = "acceptance-verdict"  # (client, transport, outcome)
CELL = "acceptance-cell"  # (client, transport): the cell a test is about, for its failure
MATRIX_FILE = Path(__file__).resolve().parents[2] / ".cache" / "acceptance-matrix.md"

_cells: dict[tuple[str, str], str] = {}


def _short(text: str, width: int = 70) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _failure(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, message)
        return str(longrepr[2]).removeprefix("Skipped: ").splitlines()[0]
    crash = getattr(longrepr, "reprcrash", None)
    msg = crash.message if crash is not None else str(longrepr or "")
    return msg.splitlines()[0] if msg else "failed"


def collect(report: Any) -> None:
    """Gather the verdicts of one test report (called from pytest_runtest_logreport)."""
    props = list(getattr(report, "user_properties", ()) or ())
    for key, value in props:
        if key == PROP:
            client, transport, outcome = value
            _cells[(client, transport)] = outcome
    if report.when not in ("setup", "call") or (report.passed and not hasattr(report, "wasxfail")):
        return
    cells = [tuple(v) for k, v in props if k == CELL]
    if not cells:
        return
    if hasattr(report, "wasxfail"):  # a known defect (xfail strict): the reason is the verdict
        text = "XFAIL: " + _short(str(report.wasxfail).removeprefix("reason: "))
        if report.passed:  # strict xfail that passed is reported as failed; keep the word
            text = "XPASS (defect fixed?): " + _short(str(report.wasxfail))
    elif report.skipped:
        text = "n/a: " + _short(_failure(report))
    else:
        text = "FAIL: " + _short(_failure(report))
    for client, transport in cells:
        _cells[(client, transport)] = text


def table() -> str:
    clients = sorted({c for c, _ in _cells})
    cols = list(COLUMNS) + sorted({t for _, t in _cells} - set(COLUMNS))
    rows = [["client", *cols]] + [[c, *(_cells.get((c, t), "-") for t in cols)] for c in clients]
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols) + 1)]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), sep, *(line(r) for r in rows[1:])])


def summary(terminalreporter: Any) -> None:
    """Print the matrix and write it to .cache/acceptance-matrix.md (pytest_terminal_summary)."""
    if not _cells:
        return
    text = table()
    terminalreporter.write_sep("=", "acceptance: client × transport")
    terminalreporter.write_line(text)
    terminalreporter.write_line(f"(also in {MATRIX_FILE})")
    MATRIX_FILE.parent.mkdir(parents=True, exist_ok=True)
    MATRIX_FILE.write_text(
        "# Acceptance: client × transport\n\n"
        "Each cell is what the real client itself says about the server mcp-orch deployed\n"
        "(tests/acceptance/, docs/explanation/acceptance.md).\n\n" + text + "\n",
        encoding="utf-8",
    )
