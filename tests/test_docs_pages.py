"""Every how-to page and the README, run top to bottom as a reader would (tests/docs_runner.py).

Each page runs in its own sandbox (HOME, workspace and client root in temporary folders,
offline), every ``$ command`` through bash with the venv's ``mcp-orch`` on PATH, every Python
block in one session per page, and what each prints is compared with what the page shows.

``MCP_ORCH_UPDATE_DOCS=1 pytest -n 2 tests/test_docs_pages.py`` re-records the outputs in
place (only the blocks that differ, and in them only the lines that differ), then runs each
re-recorded page again: review the diff with ``git diff docs README.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from docs_runner import ROOT, DocPage, pages, parse, run_page, split_console

UPDATE = os.environ.get("MCP_ORCH_UPDATE_DOCS") == "1"
#: blocks a page marks as not to run (``<!-- docs: skip -->``), at most this many per page
MAX_SKIPPED = 4


@pytest.mark.parametrize("path", list(pages()), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_runs_as_written(path: Path) -> None:
    page = DocPage.load(path)
    result = run_page(page, update=UPDATE)
    if UPDATE and result.write():
        # re-recorded: run it again, so that what re-recording cannot fix (a failing setup
        # command, a traceback, a value shown two ways) still fails here
        result = run_page(DocPage.load(path))
    assert not result.failures, "\n\n".join(result.failures)
    assert result.skipped <= MAX_SKIPPED, f"{result.skipped} blocks skipped"
    if not result.commands:
        pytest.skip("the page has nothing to run")


def test_the_runner_catches_a_wrong_output_and_re_records_it(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n```console\n$ echo one; echo two\none\nthree\n$ echo same\nsame\n```\n"
    )
    result = run_page(DocPage.load(page), update=True)
    assert len(result.failures) == 1 and "-three" in result.failures[0]
    assert result.write()
    assert page.read_text() == (
        "Intro.\n\n```console\n$ echo one; echo two\none\ntwo\n$ echo same\nsame\n```\n"
    )
    assert not run_page(DocPage.load(page)).failures  # now it matches


def test_ellipsis_shapes_and_bindings(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    text = (
        "```console\n"
        "$ printf 'a\\nb\\nc\\nsha256:%s x\\n' $(printf 1%.0s {1..64})\n"
        "a\n...\nsha256:" + "9" * 64 + " ...\n"
        "$ echo sha256:1111111111111111\n"
        "sha256:9999999999999999\n"
        "$ echo 999999999999\n"
        "111111111111\n"
        "$ echo sha256:2222222222222222\n"
        "sha256:9999999999999999\n"
        "```\n"
    )
    page.write_text(text)
    result = run_page(DocPage.load(page), update=True)
    # the first three match (a recorded digest stands for the real one, in commands too); the
    # last shows the same recorded digest for another real one
    assert len(result.failures) == 1, result.failures
    assert "stood for 1111111111111111 earlier" in result.failures[0]


def test_a_page_cannot_leave_its_sandbox(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```sh\nexport MCP_ORCH_HOME=/var/tmp/elsewhere\n```\n")
    result = run_page(DocPage.load(page))
    assert any("outside the page's sandbox" in f for f in result.failures)


def test_a_failing_sh_command_fails_the_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```sh\nfalse\necho after\n```\n")
    result = run_page(DocPage.load(page))
    assert result.failures and "false" in result.failures[0]


def test_python_blocks_share_a_session_and_compare_their_output(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\nx = 41\n```\n\n```python\nprint(x + 1)\n```\n\n```text\n42\n```\n"
        "<!-- docs: skip -->\n```python\nraise SystemExit('not run')\n```\n"
    )
    result = run_page(DocPage.load(page))
    assert not result.failures and result.skipped == 1


def test_console_transcripts_split_into_commands_and_outputs() -> None:
    text = "$ cat > f <<'JSON'\n{\n$ not a command\nJSON\n$ a \\\n  b\nout\n"
    assert split_console(text) == [
        ("cat > f <<'JSON'\n{\n$ not a command\nJSON", []),
        ("a \\\n  b", ["out"]),
    ]
    assert [type(i).__name__ for i in parse("<!-- docs: sh\nls\n-->\n```sh\nls\n```\n")] == [
        "Hidden",
        "Block",
    ]
