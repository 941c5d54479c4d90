"""Exact formatting (issue 12, item 4): every byte outside the managed entries stays.

Example tests, one per measured defect of the round-trip editors (each failed before the text
editors ``yamledit`` / ``tomledit`` and the newline/BOM handling): CRLF kept in every dialect, a
UTF-8 BOM kept (and a TOML file with one accepted), a comment after a managed entry kept (it is
about what follows), YAML not re-serialised (``null``, anchors, ``%YAML``, a header comment
before ``---``, ``yes`` under YAML 1.1), and removing the last server of a Continue list
followed by a comment leaves a file that parses.

Property tests (hypothesis): random YAML (Goose map, Continue list) and TOML (Codex, Mistral
Vibe) files with CRLF or LF, with or without a BOM, comments before, after and between entries,
anchors and aliases, flow style, ``%YAML 1.1`` with ``---``/``...``, ``null``/``~``/``yes``; then
random add / change / remove batches of managed entries through ``apply_changes``. After every
batch the file parses to exactly the intended servers and, with the managed entries' spans cut
out (found independently, from the parser's node positions: a block entry is its lines that are
not blank or a comment, a flow entry its characters and the comma before it), the text is the
original's, byte for byte; newlines and BOM are the original's.
"""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from mcp_orch.core.fs import join_form, read_config_text, split_form
from mcp_orch.domain.clients import ClientSpec, get_client, server_map, to_native
from mcp_orch.domain.clients.dialects import apply_changes, read_config
from mcp_orch.domain.clients.yamledit import Node, parse

STDIO = {"transport": "stdio", "command": "npx", "args": ["-y", "srv"], "env": {"T": "yes"}}
HTTP = {"transport": "streamable-http", "url": "https://h.example/mcp", "headers": {"A": "b"}}


def _set(cid: str, text: str, changes: dict[str, dict[str, Any] | None]) -> str:
    spec = get_client(cid)
    native = {k: to_native(spec, v) if v is not None else None for k, v in changes.items()}
    out = apply_changes(spec, text, native)
    servers = server_map(spec, read_config(spec, out))
    for name, entry in native.items():
        if entry is not None and spec.name_in_entry:
            entry = {spec.name_in_entry: name, **entry}
        assert servers.get(name) == entry, out
    return out


# ---- newlines and BOM, every dialect ------------------------------------------------------

FILES = {
    "claude-desktop": '{\n  "a": 1,\n  "mcpServers": {\n    "u": {"command": "x"}\n  }\n}\n',
    "vscode": '// c\n{\n  "servers": {\n    "u": {"command": "x"}, // mine\n  },\n}\n',
    "codex": 'model = "o3"\n\n[mcp_servers.u]\ncommand = "x"\n\n# about tools\n[tools]\na = 1\n',
    "mistral-vibe": '[[mcp_servers]]\nname = "u"\ncommand = "x"\n# about tools\n[tools]\na = 1\n',
    "goose": "GOOSE_MODEL: gpt\nextensions:\n  u:\n    cmd: x\n# the mode\nGOOSE_MODE: auto\n",
    "continue": "name: a\nmcpServers:\n  - name: u\n    command: x\n# rules\nrules: []\n",
}


@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("cid", sorted(FILES))
def test_crlf_and_bom_survive_add_change_remove(cid: str, bom: str) -> None:
    original = bom + FILES[cid].replace("\n", "\r\n")
    text = _set(cid, original, {"m": STDIO})
    assert text.startswith(bom + FILES[cid][:3].replace("\n", "\r\n"))
    assert text.count("\n") == text.count("\r\n"), f"a LF line in a CRLF file:\n{text!r}"
    assert text.count("\ufeff") == len(bom)
    text = _set(cid, text, {"m": HTTP})
    text = _set(cid, text, {"m": None})
    assert text == original


def test_a_toml_file_with_a_bom_is_read_and_edited() -> None:
    spec = get_client("codex")
    text = '\ufeffmodel = "o3"\n[mcp_servers.u]\ncommand = "x"\n'
    assert read_config(spec, text)["mcp_servers"] == {"u": {"command": "x"}}
    out = _set("codex", text, {"m": STDIO})
    assert out.startswith('\ufeffmodel = "o3"\n[mcp_servers.u]\ncommand = "x"\n')


def test_read_config_text_keeps_the_bytes(tmp_path: Path) -> None:
    raw = '\ufeff{\r\n  "a": 1\r\n}\r\n'.encode()
    path = tmp_path / "f.json"
    path.write_bytes(raw)
    text = read_config_text(path)
    assert text.encode() == raw
    body, newline, bom = split_form(text)
    assert (body, newline, bom) == ('{\n  "a": 1\n}\n', "\r\n", "\ufeff")
    assert join_form(body, newline, bom) == text
    mixed = "a\r\nb\nc\r\n"
    assert split_form(mixed) == (mixed, "\n", "")  # a mixed file is edited as it is
    assert read_config_text(tmp_path / "missing", missing_ok=True) == ""


def test_a_mixed_newline_file_keeps_every_line_ending() -> None:
    text = "GOOSE_MODEL: gpt\r\nextensions:\n  u:\r\n    cmd: x\n# c\r\nGOOSE_MODE: auto\n"
    out = _set("goose", text, {"m": STDIO})
    assert _set("goose", out, {"m": None}) == text


# ---- comments after a managed entry (5 clients) ---------------------------------------------


@pytest.mark.parametrize(
    ("cid", "text", "comment"),
    [
        ("codex", '[mcp_servers.m]\ncommand = "x"\n\n# about profiles\n[profiles]\na = 1\n', None),
        ("mistral-vibe", '[[mcp_servers]]\nname = "m"\ncommand = "x"\n# tools\n[tools]\n', None),
        ("goose", "extensions:\n  m:\n    cmd: x\n  # about u\n  u:\n    cmd: y\n", None),
        ("continue", "mcpServers:\n  - name: m\n    command: x\n  # about u\n  - name: u\n", None),
        (
            "vscode",
            '{\n  "servers": {\n    "m": {"command": "x"},\n    // about u\n    "u": {}\n  }\n}\n',
            None,
        ),
    ],
)
def test_a_comment_after_a_managed_entry_stays(cid: str, text: str, comment: Any) -> None:
    comment = next(ln for ln in text.splitlines() if ln.strip().startswith(("#", "//")))
    replaced = _set(cid, text, {"m": HTTP})
    assert comment in replaced.splitlines(), replaced
    removed = _set(cid, text, {"m": None})
    assert comment in removed.splitlines(), removed
    assert text.split(comment)[1] in removed, "what follows the comment changed"


# ---- YAML is not re-serialised ---------------------------------------------------------------

GOOSE = """\
# my goose config, top comment
%YAML 1.1
---
GOOSE_PROVIDER: openai   # provider
GOOSE_MODEL: null
GOOSE_TEMPERATURE: ~
GOOSE_AUTO: yes
defaults: &defaults {timeout: 300, enabled: true}
unused_anchor: &spare 'single quoted'
extensions:
  developer:
    <<: *defaults
    name: developer
    type: builtin
  m:
    name: m
    cmd: old
# after the servers
GOOSE_MODE: smart_approve
...
"""


@pytest.mark.parametrize("step", ["add", "change", "remove"])
def test_yaml_edit_keeps_every_unmanaged_line(step: str) -> None:
    changes: dict[str, Any] = {"add": {"new": STDIO}, "change": {"m": HTTP}, "remove": {"m": None}}[
        step
    ]
    out = _set("goose", GOOSE, changes)
    before = GOOSE.split("  m:\n")[0]
    after = "# after the servers\nGOOSE_MODE: smart_approve\n...\n"
    assert out.startswith(before), out
    assert out.endswith(after), out
    data = read_config(get_client("goose"), out)
    assert data["GOOSE_AUTO"] is True and data["GOOSE_MODEL"] is None


def test_yes_stays_a_string_under_yaml_1_1() -> None:
    out = _set("goose", GOOSE, {"new": {**STDIO, "args": ["yes", "on", "010"]}})
    assert read_config(get_client("goose"), out)["extensions"]["new"]["args"] == [
        "yes",
        "on",
        "010",
    ]


def test_flow_style_servers_stay_flow() -> None:
    text = "extensions: {u: {cmd: x}}  # flow\nGOOSE_MODEL: gpt\n"
    out = _set("goose", text, {"m": STDIO})
    assert out.startswith("extensions: {u: {cmd: x}, ") and out.endswith(
        "}  # flow\nGOOSE_MODEL: gpt\n"
    )
    assert _set("goose", out, {"m": None}) == text


@pytest.mark.parametrize(
    "text",
    [
        "mcpServers:\n  - name: m\n    command: x\n# a comment\nrules:\n  - x\n",
        "mcpServers:\n- name: m\n  command: x\n  # a comment\n",
        "mcpServers:  # mine\n  - name: m\n    command: x\n",
    ],
)
def test_removing_the_last_continue_server_leaves_a_file_that_parses(text: str) -> None:
    out = _set("continue", text, {"m": None})
    data = YAML(typ="safe", pure=True).load(StringIO(out))
    assert data["mcpServers"] == []
    assert [ln for ln in out.splitlines() if "#" in ln or "rules" in ln or "- x" in ln] == [
        ln.replace(":  #", ": []  #")
        for ln in text.splitlines()
        if "#" in ln or "rules" in ln or "- x" in ln
    ]


# ---- property tests -------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SAFE = st.text(alphabet="abxyz 019_-/.:éü日", max_size=8)
UNMANAGED = st.text(alphabet="abxyz019", min_size=1, max_size=5).map(lambda s: "u" + s)
MANAGED = st.text(alphabet="abxyz019", min_size=1, max_size=4).map(lambda s: "m" + s)


def _neutral() -> st.SearchStrategy[dict[str, Any]]:
    stdio = st.fixed_dictionaries(
        {
            "transport": st.just("stdio"),
            "command": st.sampled_from(["npx", "uvx", "yes", "null"]),
            "args": st.lists(SAFE | st.sampled_from(["yes", "no", "~", "on", "010"]), max_size=3),
            "env": st.dictionaries(st.sampled_from(["A", "B_C"]), SAFE, max_size=2),
        }
    )
    remote = st.fixed_dictionaries(
        {
            "transport": st.just("streamable-http"),
            "url": st.from_regex(r"https://[a-z]{1,6}\.example/[a-z]{0,5}", fullmatch=True),
            "headers": st.dictionaries(st.sampled_from(["X-Key"]), SAFE, max_size=1),
        }
    )
    return stdio | remote


def _batches(draw: Any, spec: ClientSpec) -> list[dict[str, Any]]:
    pool = draw(st.lists(MANAGED, min_size=1, max_size=4, unique=True), label="managed names")
    native = _neutral().map(lambda n: to_native(spec, n))
    first = draw(st.fixed_dictionaries({n: st.none() | native for n in pool}), label="first")
    more = st.dictionaries(st.sampled_from(pool), st.none() | native, min_size=1, max_size=4)
    return [first, *draw(st.lists(more, max_size=4), label="batches")]


def _form(draw: Any, text: str) -> str:
    crlf = draw(st.booleans(), label="crlf")
    bom = draw(st.booleans(), label="bom")
    return ("\ufeff" if bom else "") + (text.replace("\n", "\r\n") if crlf else text)


@st.composite
def yaml_files(draw: Any, spec: ClientSpec) -> tuple[str, dict[str, Any]]:
    """(text, unmanaged servers as read) of a YAML config with every formatting feature."""
    counter = itertools.count()

    def comment(indent: str, label: str) -> list[str]:
        if not draw(st.booleans(), label=label):
            return []
        return [f"{indent}# CMT{next(counter)}Q {label}"]

    key = spec.servers_key[0]
    v11 = draw(st.booleans(), label="%YAML 1.1")
    dash = draw(st.sampled_from([0, 2]), label="dash offset")
    lines: list[str] = comment("", "header")
    if v11:
        lines.append("%YAML 1.1")
    if v11 or draw(st.booleans(), label="---"):
        lines.append("--- # document start" if draw(st.booleans()) else "---")
    lines += comment("", "first key")
    lines += ["base: &base {timeout: 300}", "plain_null: null", "tilde: ~", "empty:"]
    lines += ["truthy: yes", "quoted: 'single'  # trailing", "list:", " " * dash + "- *base"]
    unmanaged: dict[str, Any] = {}
    names = draw(st.lists(UNMANAGED, max_size=3, unique=True), label="unmanaged")
    flow = bool(names) and draw(st.booleans(), label="flow servers")
    items: list[tuple[str, str]] = []
    for name in names:
        entry: dict[str, Any] = {"cmd" if spec.id == "goose" else "command": f"x{name}"}
        if spec.name_in_entry:
            entry = {spec.name_in_entry: name, **entry}
        if spec.layout == "list":
            entry = {spec.name_field or "name": name, **entry}
        unmanaged[name] = entry
        items.append((name, json.dumps(entry)))
    if spec.layout == "list":
        unmanaged = {n: {k: v for k, v in e.items() if k != "name"} for n, e in unmanaged.items()}
    if not names:
        lines.append(
            f"{key}: "
            + draw(
                st.sampled_from(["[]" if spec.layout == "list" else "{}", "null", "~", ""])
            ).rstrip()
        )
    elif flow:
        inner = ", ".join(b if spec.layout == "list" else f"{n}: {b}" for n, b in items)
        lines.append(
            f"{key}: {'[' if spec.layout == 'list' else '{'}{inner}{']' if spec.layout == 'list' else '}'}"
        )
    else:
        lines.append(f"{key}:")
        for name, entry in zip(names, [json.loads(b) for _, b in items], strict=True):
            lines += comment("  ", "before entry")
            if spec.layout == "list":
                first, *rest = entry.items()
                lines.append(f"{' ' * dash}- {first[0]}: {first[1]}")
                lines += [f"{' ' * (dash + 2)}{k}: {v}" for k, v in rest]
                lines.append(f"{' ' * (dash + 2)}opts: *base")
            else:
                lines.append(f"  {name}:")
                lines += [f"    {k}: {v}" for k, v in entry.items()]
            if draw(st.booleans(), label="blank after entry"):
                lines.append("")
    lines += comment("", "after servers")
    lines += ["alias_user: *base", "tail: [1, 2]"]
    lines += comment("", "end")
    if draw(st.booleans(), label="..."):
        lines.append("...")
    if spec.layout == "list" and not flow:
        for e in unmanaged.values():
            e["opts"] = {"timeout": 300}
    return _form(draw, "\n".join(lines) + "\n"), unmanaged


def _cut_yaml(spec: ClientSpec, text: str, managed: set[str]) -> str:
    """``text`` with the managed entries' own bytes cut out and the servers key's empty value
    (``{}``, ``[]``, ``null``, ``~``, nothing) normalised."""
    root, _ = parse(text)
    assert root is not None and root.kind == "map"
    node: Node | None = None
    after = len(text)  # where the next top-level key starts
    pairs = root.pairs()
    for i, (k, v) in enumerate(pairs):
        if k.value == spec.servers_key[0]:
            node = v
            after = pairs[i + 1][0].start if i + 1 < len(pairs) else len(text)
    cuts: list[tuple[int, int]] = []
    if node is not None and node.kind in ("map", "seq") and node.children:
        kids = node.pairs() if node.kind == "map" else [(c, c) for c in node.children]
        for i, (k, v) in enumerate(kids):
            if node.kind == "map":
                name = k.value
            else:
                name = next((b.value for a, b in v.pairs() if a.value == "name"), None)
            if name not in managed:
                continue
            if node.flow:  # its characters and the comma before it
                cuts.append((kids[i - 1][1].end, v.end))
                continue
            # its lines, up to the next entry (or key), that are not blank or a comment
            pos = text.rfind("\n", 0, k.start) + 1
            stop = kids[i + 1][0].start if i + 1 < len(kids) else after
            stop = text.rfind("\n", 0, stop) + 1
            for line in text[pos:stop].splitlines(keepends=True):
                if line.strip() and not line.strip().startswith("#"):
                    cuts.append((pos, pos + len(line)))
                pos += len(line)
    out = text
    for a, b in sorted(cuts, reverse=True):
        out = out[:a] + out[b:]
    key = re.escape(spec.servers_key[0])
    return re.sub(
        rf"(?m)^{key}:[ \t]*(?:\{{\}}|\[\]|null|~)?[ \t]*(?=\r?$)", f"{spec.servers_key[0]}:", out
    )


def _cut_toml(spec: ClientSpec, text: str, managed: set[str]) -> str:
    """``text`` with the managed tables' lines (and the one blank line before each) cut out."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    cutting = False
    pending_blank: str | None = None
    name_re = re.compile(r'^name = "(.*)"')
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("["):
            if pending_blank is not None:
                out.append(pending_blank)
                pending_blank = None
            if spec.layout == "array-of-tables" and s == "[[mcp_servers]]":
                m = name_re.match(lines[i + 1]) if i + 1 < len(lines) else None
                cutting = bool(m and m.group(1) in managed)
            elif spec.layout == "array-of-tables" and s.startswith("[mcp_servers."):
                pass  # a sub-table of the element before
            else:
                m = re.match(r"^\[mcp_servers\.([^.\]]+)", s)
                cutting = bool(m and m.group(1) in managed)
            if cutting:
                if out and not out[-1].strip() and (len(out) < 2 or out[-2].strip()):
                    out.pop()  # the blank line mcp-orch writes before a table
                continue
            out.append(line)
            continue
        if cutting and s and not s.startswith("#"):
            continue
        if cutting and not s:
            pending_blank = line if pending_blank is None else pending_blank
            out.append(line)
            pending_blank = None
            continue
        if s.startswith("#"):
            cutting = False
        out.append(line)
    return "".join(out)


def _check_form(original: str, text: str) -> None:
    _, newline, bom = split_form(original)
    assert text.startswith(bom) and text.count("\ufeff") == len(bom)
    if newline == "\r\n":
        assert text.count("\n") == text.count("\r\n"), f"LF in a CRLF file: {text!r}"
    else:
        assert "\r" not in text


def _model_servers(
    spec: ClientSpec, unmanaged: dict[str, Any], model: dict[str, Any]
) -> dict[str, Any]:
    named = {
        n: ({spec.name_in_entry: n, **e} if spec.name_in_entry else e) for n, e in model.items()
    }
    return {**unmanaged, **named}


@PROPERTY
@given(spec=st.sampled_from(["goose", "continue"]).map(get_client), data=st.data())
def test_yaml_edits_touch_only_the_managed_entries(spec: ClientSpec, data: Any) -> None:
    original, unmanaged = data.draw(yaml_files(spec), label="file")
    assert server_map(spec, read_config(spec, original)) == unmanaged  # the generator is right
    body0 = split_form(original)[0]
    skeleton = _cut_yaml(spec, body0, set())
    text = original
    model: dict[str, Any] = {}
    for changes in _batches(data.draw, spec):
        text = apply_changes(spec, text, changes)
        for n, e in changes.items():
            if e is None:
                model.pop(n, None)
            else:
                model[n] = e
        _check_form(original, text)
        assert server_map(spec, read_config(spec, text)) == _model_servers(spec, unmanaged, model)
        body = split_form(text)[0]
        assert _cut_yaml(spec, body, set(model) | set(changes)) == skeleton, body


@st.composite
def toml_files(draw: Any, spec: ClientSpec) -> tuple[str, dict[str, Any]]:
    counter = itertools.count()

    def comment(label: str) -> list[str]:
        if not draw(st.booleans(), label=label):
            return []
        return [f"# CMT{next(counter)}Q {label}"]

    lines = [*comment("header"), 'model = "o3"  # default', "flag = true"]
    names = draw(st.lists(UNMANAGED, max_size=3, unique=True), label="unmanaged")
    unmanaged: dict[str, Any] = {}
    blocks: list[list[str]] = []
    for name in names:
        block = comment("before table")
        if spec.layout == "array-of-tables":
            block += ["[[mcp_servers]]", f'name = "{name}"']
        else:
            block.append(f"[mcp_servers.{name}]  # hand-written")
        block += [f'command = "x{name}"', "args = [", '  "[not a header]",', "]"]
        unmanaged[name] = {"command": f"x{name}", "args": ["[not a header]"]}
        block += comment("after table")
        blocks.append(block)
    blocks.append([*comment("before tools"), "[tools.bash]", 'permission = """', "[x]", '"""'])
    if spec.layout == "map":
        blocks = draw(st.permutations(blocks), label="order")
        order = [b for b in blocks if any(ln.startswith("[mcp_servers.") for ln in b)]
        unmanaged = {
            n: unmanaged[n]
            for b in order
            for n in names
            if f"[mcp_servers.{n}]  # hand-written" in b
        }
    for block in blocks:
        if draw(st.booleans(), label="blank before"):
            lines.append("")
        lines += block
    return _form(draw, "\n".join(lines) + "\n"), unmanaged


@PROPERTY
@given(spec=st.sampled_from(["codex", "mistral-vibe"]).map(get_client), data=st.data())
def test_toml_edits_touch_only_the_managed_tables(spec: ClientSpec, data: Any) -> None:
    original, unmanaged = data.draw(toml_files(spec), label="file")
    assert server_map(spec, read_config(spec, original)) == unmanaged
    skeleton = _cut_toml(spec, split_form(original)[0], set())
    text = original
    model: dict[str, Any] = {}
    for changes in _batches(data.draw, spec):
        text = apply_changes(spec, text, changes)
        for n, e in changes.items():
            if e is None:
                model.pop(n, None)
            else:
                model[n] = e
        _check_form(original, text)
        body = split_form(text)[0]
        assert tomllib.loads(body) is not None
        assert server_map(spec, read_config(spec, text)) == {**unmanaged, **model}
        managed = set(model) | set(changes)
        assert _cut_toml(spec, body, managed) == skeleton, body
