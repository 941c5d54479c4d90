"""Work done on the big-input paths (issue 16): deploy parses the client's file once, a
validated draft is not validated again by publish (until its content changes), and the
shortcuts taken for big files keep what a user sees: comments, the diff, masked secrets.

Work is counted (parser calls, checks), never timed: the speed goals live in bench/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.core.errors import InvalidConfig
from mcp_orch.domain.clients import jsonc
from mcp_orch.facade.draft import Draft


def _vs_entry(i: int, version: int = 0) -> dict[str, Any]:
    return {"type": "stdio", "command": "npx", "args": [f"@example/server-{i}@1.{version}.0"]}


def _big_jsonc(servers: int, secret_last: str | None = None) -> str:
    lines = ["// kept by hand", "{", '  "servers": {']
    for i in range(servers):
        body: dict[str, Any] = {"type": "stdio", "command": "uvx", "args": [f"user-{i}"]}
        if secret_last and i == servers - 1:
            body["env"] = {"GITHUB_TOKEN": secret_last}
        pretty = json.dumps(body, indent=2).replace("\n", "\n    ")
        lines.append(f'    "user-{i:03d}": {pretty},  // server {i}')
    lines += ["  },", '  /* other */ "other": {"keep": true},', "}", ""]
    return "\n".join(lines)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts jsonc.parse is called on (every JSON/JSONC read and edit goes through it)."""
    seen: list[str] = []
    real = jsonc.parse

    def counting(text: str, *args: Any) -> jsonc.Node:
        seen.append(text)
        return real(text, *args)

    monkeypatch.setattr(jsonc, "parse", counting)
    return seen


def _vscode(ws: mo.Workspace, servers: int = 3) -> tuple[mo.Profile, Path]:
    profile = ws.profile("vscode")
    for i in range(servers):
        profile.draft.add_entry(f"ours-{i}", _vs_entry(i))
    target = profile.config_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    return profile, target


def test_deploy_parses_the_client_file_once(ws: mo.Workspace, parses: list[str]) -> None:
    profile, target = _vscode(ws)
    original = _big_jsonc(200)
    target.write_text(original, encoding="utf-8")
    artifact = profile.draft.publish(changelog="three")
    parses.clear()
    artifact.deploy()
    assert parses.count(original) == 1  # read, type check and edit share one parse
    # the merged text is checked from its new part alone (the rest is the old bytes)
    after = target.read_text(encoding="utf-8")
    assert after not in parses
    assert all(len(p) < len(original) / 10 for p in parses if p != original)
    assert "// server 199" in after and "/* other */" in after  # comments kept
    data = jsonc.loads(after)
    assert set(data["servers"]) == {f"user-{i:03d}" for i in range(200)} | {
        "ours-0",
        "ours-1",
        "ours-2",
    }
    assert data["other"] == {"keep": True}

    # the next release changes one entry: again one parse of the file as it is
    profile.draft.add_entry("ours-1", _vs_entry(1, 2), replace=True)
    nxt = profile.draft.publish(changelog="bump")
    before = target.read_text(encoding="utf-8")
    parses.clear()
    dep = nxt.deploy()
    assert dep.changed and parses == [before]  # one parse in all
    # only that entry's bytes changed
    new = target.read_text(encoding="utf-8")
    assert new.replace("@example/server-1@1.2.0", "@example/server-1@1.0.0") == before


def _check_hunks(diff: str, old: str, new: str) -> int:
    """Every hunk's header points at the lines it shows, in the old and the new file."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    hunks = 0
    lines = diff.splitlines(keepends=True)
    for i, line in enumerate(lines):
        m = re.match(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", line)
        if not m:
            continue
        hunks += 1
        ai, bi = int(m.group(1)) - 1, int(m.group(3)) - 1
        for body in lines[i + 1 :]:
            if body.startswith("@@"):
                break
            tag, text = body[0], body[1:]
            if tag in " -":
                assert a[ai] == text, (ai, a[ai], text)
                ai += 1
            if tag in " +":
                assert b[bi] == text, (bi, b[bi], text)
                bi += 1
    return hunks


def test_the_deploy_diff_counts_lines_of_the_whole_file(ws: mo.Workspace) -> None:
    profile, target = _vscode(ws, servers=2)
    original = _big_jsonc(150)
    target.write_text(original, encoding="utf-8")
    artifact = profile.draft.publish(changelog="two")
    preview = artifact.deploy(dry_run=True)
    artifact.deploy()
    after = target.read_text(encoding="utf-8")
    diff = preview.diff_text
    assert _check_hunks(diff, original, after) >= 1
    first = re.search(r"@@ -(\d+)", diff)
    assert first is not None and int(first.group(1)) > 600  # near the end, not line 1
    assert '+    "ours-0": {' in diff


def test_a_secret_shown_as_diff_context_is_masked(ws: mo.Workspace) -> None:
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # a GitHub token's shape: the scanner knows it
    token = token[:40]
    profile, target = _vscode(ws, servers=1)
    target.write_text(_big_jsonc(120, secret_last=token), encoding="utf-8")
    artifact = profile.draft.publish(changelog="one")
    preview = artifact.deploy(dry_run=True)
    assert "GITHUB_TOKEN" in preview.diff_text  # the neighbour's lines are the context
    assert token not in preview.diff_text


def test_validate_then_publish_checks_once(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = ws.profile("cursor").draft
    draft.add_entry("a", {"command": "npx", "args": ["-y", "pkg@1.0.0"]})
    checks: list[int] = []
    real = Draft.check

    def counting(self: Draft, **kw: Any) -> Any:
        checks.append(1)
        return real(self, **kw)

    monkeypatch.setattr(Draft, "check", counting)
    artifact = draft.validate().publish(changelog="first")
    assert artifact.servers == {"a": {"command": "npx", "args": ["-y", "pkg@1.0.0"]}}
    assert len(checks) == 1
    draft.validate()  # nothing changed since: not checked again
    assert len(checks) == 1
    draft.add_entry("b", {"command": "uvx", "args": ["tool==1.0"]})
    draft.validate().publish(changelog="second")  # changed: checked once more, not twice
    assert len(checks) == 2


def test_a_cached_validation_is_dropped_when_the_content_changes(ws: mo.Workspace) -> None:
    draft = ws.profile("cursor").draft
    draft.add_entry("a", {"command": "npx", "args": ["-y", "pkg@1.0.0"]})
    draft.validate()
    # another handle on the same draft (another process, a widget) breaks it after validate
    ws.profile("cursor").draft.add_entry("broken", {"command": ""})
    with pytest.raises(InvalidConfig) as info:
        draft.publish(changelog="must not pass")
    assert any(f.server == "broken" for f in info.value.report.errors)
    assert ws.profile("cursor").latest() is None  # nothing was published


def test_a_cached_validation_is_dropped_when_the_options_change(ws: mo.Workspace) -> None:
    draft = ws.profile("cursor").draft
    draft.add_entry("broken", {"command": ""})
    draft.validate(ignore=["MCP010"])
    with pytest.raises(InvalidConfig):
        draft.validate()  # other options: checked again, and the schema error counts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": "x // y", "b": "/* z */",}', {"a": "x // y", "b": "/* z */"}),
        ('{"a": "x,}", /* c, */ "b": [1, 2, /* d */ ], // e\n}', {"a": "x,}", "b": [1, 2]}),
        ('{"a": "\\"//", "b": 1 /* x */ ,}', {"a": '"//', "b": 1}),
        ('{"a": 1, /* two\n lines "q" , ] */ "b": 2,\n}', {"a": 1, "b": 2}),
    ],
)
def test_comments_and_trailing_commas_inside_and_outside_strings(
    text: str, expected: dict[str, Any]
) -> None:
    assert jsonc.loads(text) == expected


@pytest.mark.parametrize("text", ["[1,,]", "[,]", '{"a": 1 /* open', "{,}"])
def test_broken_jsonc_is_still_refused(text: str) -> None:
    with pytest.raises(mo.ParseError):
        jsonc.loads(text)


def test_a_deploy_that_also_removes_an_entry_is_read_back_in_full(
    ws: mo.Workspace, parses: list[str]
) -> None:
    """Removals are not among the edits checked from their bytes alone: the merged text is
    parsed again, and the result is still right."""
    profile, target = _vscode(ws, servers=2)
    target.write_text(_big_jsonc(30), encoding="utf-8")
    profile.draft.publish(changelog="two").deploy()
    profile.draft.remove("ours-0")
    profile.draft.add_entry("ours-9", _vs_entry(9))
    artifact = profile.draft.publish(changelog="swap")
    parses.clear()
    artifact.deploy()
    after = target.read_text(encoding="utf-8")
    assert after in parses  # read back whole
    data = jsonc.loads(after)["servers"]
    assert "ours-0" not in data and data["ours-9"] == _vs_entry(9) and "user-029" in data
    assert "// server 29" in after


def test_the_quick_read_back_agrees_with_a_parse_and_catches_a_bad_edit() -> None:
    text = _big_jsonc(12)
    root = jsonc.parse(text, "mcp.json", ("servers",))
    add = {"ours-0": _vs_entry(0)}
    new = jsonc.edit_map(text, ("servers",), add, "mcp.json", root=root)
    assert jsonc.edited(root, new, ("servers",), add, "mcp.json") == jsonc.loads(new)
    bump = {"user-003": {"type": "stdio", "command": "npx", "args": ["other"]}}
    new = jsonc.edit_map(text, ("servers",), bump, "mcp.json", root=root)
    assert jsonc.edited(root, new, ("servers",), bump, "mcp.json") == jsonc.loads(new)
    # a text that is not what the edit should have made is never read as if it were
    wrong = new.replace('"other"', '"else"')
    assert jsonc.edited(root, wrong, ("servers",), bump, "mcp.json") is None
    no_comma = jsonc.edit_map(text, ("servers",), add, "mcp.json", root=root).replace(
        "},  // server 11", "}  // server 11"
    )
    assert jsonc.edited(root, no_comma, ("servers",), add, "mcp.json") is None
    elsewhere = new.replace('"keep": true', '"keep": false')
    assert jsonc.edited(root, elsewhere, ("servers",), bump, "mcp.json") is None


def test_the_compiled_schemas_never_accept_what_jsonschema_refuses() -> None:
    """The quick yes of the schema rule (fastschema) against jsonschema itself, over every
    client schema and documents built from the fields the clients read, valid or not."""
    import random

    from mcp_orch.core.resources import client_schema_name, load_schema, validator
    from mcp_orch.domain.clients import list_clients
    from mcp_orch.services.validation.fastschema import accepts, compiled

    values: list[Any] = ["", "npx", "https://a.example/mcp", "${env:X}", "stdio", "http", "sse"]
    values += ["streamable-http", 1, 1.0, 1.5, True, None, [], ["a"], [1], {}, {"A": "b"}, {"a": 1}]
    keys = ["command", "args", "env", "url", "headers", "type", "transport", "cwd", "disabled"]
    keys += ["timeout", "name", "enabled", "serverUrl", "httpUrl", "x"]
    rnd = random.Random(8785)
    checked = valid = 0
    for spec in list_clients():
        name = client_schema_name(spec.id)
        try:
            schema = load_schema(name)
        except FileNotFoundError:
            continue
        assert compiled(name) is not None, name  # every client schema gets the quick path
        tops = list(schema.get("properties") or {})
        for _ in range(60):
            doc: dict[str, Any] = {}
            for top in tops[:1]:
                doc[top] = {
                    rnd.choice(["a", "b-1", "bad name", ""]): {
                        rnd.choice(keys): rnd.choice(values) for _ in range(rnd.randint(0, 4))
                    }
                    for _ in range(rnd.randint(0, 3))
                }
            truth = validator(name).is_valid(doc)
            assert accepts(name, doc) == truth, (name, doc)
            checked += 1
            valid += truth
    assert checked > 1000 and valid > 100  # both answers were exercised
