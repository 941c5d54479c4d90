"""Hostile and broken input reaches the user as a typed error that names the file, never as an
"internal error", a hang or a blown stack (issue 11, "Hostile and broken input").

- ids and names are matched in full: ``x\\n`` is not an id, and no server name with a control
  character reaches a client's file;
- documents nested deeper than ``MAX_DEPTH`` levels, YAML aliases that expand too far and files
  larger than ``MAX_READ_BYTES`` are refused before they are built in memory;
- a servers section (or an entry) of the wrong type, in every client's dialect and layout, is a
  ``ParseError`` naming the file, the key and the expected type, and nothing is written;
- a damaged draft (not JSON, or JSON of the wrong shape) is ``StoreCorrupt`` naming the file.
"""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mcp_orch as mo
from mcp_orch.core.errors import InvalidConfig, InvalidId, ParseError, StoreCorrupt
from mcp_orch.core.fs import MAX_DEPTH, MAX_READ_BYTES, nesting_depth, read_text_file
from mcp_orch.core.ids import check_id
from mcp_orch.domain.catalog import iter_docs
from mcp_orch.domain.clients import CLIENTS, ClientSpec, config_path, get_client, to_native
from mcp_orch.domain.clients.dialects import MAX_ALIAS_NODES, apply_changes, read_config
from mcp_orch.domain.clients.payload import read_server_file
from mcp_orch.domain.secrets import is_reference
from mcp_orch.frontends.cli import cli
from mcp_orch.services.validation import check_payload

CLIENT_IDS = [c.id for c in CLIENTS]


def run(ws: mo.Workspace, *argv: str) -> tuple[int, str, str]:
    args = [*argv, "--workspace", str(ws.path), "--client-root", str(ws.client_root)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def typed_failure(ws: mo.Workspace, *argv: str, code: int = 1) -> str:
    """Run a command that must fail with a typed error: an ``error:`` line and a ``hint:``
    line, no traceback and no internal error. Returns the error text."""
    exit_code, out, err = run(ws, *argv)
    text = out + err
    assert exit_code == code, (exit_code, text)
    assert "Traceback" not in text and "internal error" not in text, text
    lines = err.splitlines()
    assert lines and lines[0].startswith("error: "), err
    assert any(line.startswith("hint: ") for line in lines), err
    return err


def write(path: Path, text: str) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path.read_bytes()


def nest(spec: ClientSpec, value: Any) -> dict[str, Any]:
    for key in reversed(spec.servers_key):
        value = {key: value}
    result: dict[str, Any] = value
    return result


def dump(spec: ClientSpec, data: dict[str, Any]) -> str:
    """``data`` as the client's file would hold it (JSON is also valid YAML)."""
    if spec.dialect == "toml":
        import tomlkit

        return tomlkit.dumps(data)
    return json.dumps(data, indent=2) + "\n"


def user_file(ws: mo.Workspace, spec: ClientSpec) -> Path:
    return Path(config_path(spec, root=ws.client_root))


def native(spec: ClientSpec) -> dict[str, Any]:
    return to_native(spec, {"transport": "stdio", "command": "uvx", "args": ["mcp-server-time"]})


# ---- ids and names, matched in full ------------------------------------------------------------

BAD_IDS = ["x\n", "x\r", "x\0", "a/b", "..", "../x", "x\n.json", "\nx"]


@pytest.mark.parametrize("value", BAD_IDS, ids=repr)
def test_an_id_with_a_newline_nul_or_path_is_refused_naming_the_argument(value: str) -> None:
    with pytest.raises(InvalidId) as err:
        check_id(value, "profile id")
    assert err.value.message == f"invalid profile id {value!r}"


@pytest.mark.parametrize("value", ["x\n", "x\r", "x\0"], ids=repr)
def test_a_control_character_in_an_id_gets_its_own_hint(value: str) -> None:
    with pytest.raises(InvalidId) as err:
        check_id(value, "token name")
    assert "no control characters" in err.value.hint


def test_a_profile_id_ending_in_a_newline_creates_no_draft_file(ws: mo.Workspace) -> None:
    err = typed_failure(ws, "add-server", "time", "-c", "cursor", "-p", "x\n", code=2)
    assert "invalid profile id 'x\\n'" in err
    drafts = ws.path / "drafts" / "cursor"
    assert not drafts.exists() or list(drafts.iterdir()) == []


@pytest.mark.parametrize("name", ["time\n", "ti\nme", "time\r", "time\0"], ids=repr)
def test_a_server_name_with_a_control_character_is_refused(ws: mo.Workspace, name: str) -> None:
    err = typed_failure(ws, "add-server", "time", "-c", "cursor", "--name", name, code=2)
    assert f"invalid server name {name!r}" in err
    with pytest.raises(InvalidId):
        ws.profile("cursor").draft.add_entry(name, {"command": "uvx"})
    assert ws.profile("cursor").draft.names == []


def test_mcp004_flags_a_name_ending_in_a_newline() -> None:
    payload = {"mcpServers": {"time\n": {"command": "uvx", "args": ["mcp-server-time"]}}}
    report = check_payload("cursor", payload, select=["MCP004"])
    assert [f.code for f in report.errors] == ["MCP004"]


def test_a_reference_followed_by_a_newline_is_not_a_reference() -> None:
    assert is_reference("${env:TOKEN}")
    assert not is_reference("${env:TOKEN}\n")


@pytest.mark.parametrize("client", ["cursor", "codex", "goose", "continue"])
def test_import_reports_a_name_with_a_control_character_in_the_users_file(
    ws: mo.Workspace, client: str
) -> None:
    spec = get_client(client)
    path = user_file(ws, spec)
    servers = {"ok": native(spec), "bad\nname": native(spec)}
    if spec.layout == "map":
        data = nest(spec, servers)
    else:
        data = nest(spec, [{spec.name_field or "name": n, **e} for n, e in servers.items()])
    before = write(path, dump(spec, data))
    err = typed_failure(ws, "import", "-c", client)
    assert str(path) in err and "'bad\\nname'" in err and "control character" in err
    assert path.read_bytes() == before
    assert ws.profile(client).draft.names == []  # nothing imported, not half of it
    with pytest.raises(ParseError):
        read_server_file(spec, path)


# ---- nesting depth -----------------------------------------------------------------------------


def deep_file(spec: ClientSpec, levels: int) -> str:
    """A file of ``spec``'s dialect whose ``x`` key nests ``levels`` arrays."""
    body = "[" * levels + "]" * levels
    if spec.dialect == "toml":
        return f"x = {body}\n"
    if spec.dialect == "yaml":
        return f"x: {body}\n"
    return '{"x": ' + body + "}\n"


@pytest.mark.parametrize("client", ["cursor", "vscode", "goose", "continue"])
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 5_000, 200_000])
def test_a_document_nested_too_deep_is_a_parse_error_naming_the_file(
    client: str, levels: int
) -> None:
    spec = get_client(client)
    with pytest.raises(ParseError) as err:
        read_config(spec, deep_file(spec, levels), "deep.cfg")
    assert err.value.message.startswith(f"deep.cfg is nested deeper than {MAX_DEPTH} levels")
    assert "left untouched" in err.value.hint


def test_toml_has_its_own_lower_depth_limit() -> None:
    spec = get_client("codex")
    with pytest.raises(ParseError, match=r"nested more than 100 levels"):
        read_config(spec, deep_file(spec, 5_000), "config.toml")


@pytest.mark.parametrize("client", ["cursor", "vscode", "goose"])
def test_a_document_at_the_depth_limit_still_reads_and_deploys(
    ws: mo.Workspace, client: str
) -> None:
    spec = get_client(client)
    text = deep_file(spec, MAX_DEPTH - 1)  # the top level is one more
    assert nesting_depth(read_config(spec, text, "ok.cfg")) == MAX_DEPTH
    out = apply_changes(spec, text, {"time": native(spec)}, "ok.cfg")
    assert "time" in read_config(spec, out, "ok.cfg")[spec.servers_key[0]]


def test_nesting_depth_counts_without_recursion_and_stops_at_the_limit() -> None:
    deep: list[Any] = []
    node = deep
    for _ in range(100_000):  # far deeper than the recursion limit
        node.append([])
        node = node[0]
    assert nesting_depth(deep) == MAX_DEPTH + 1
    loop: list[Any] = []
    loop.append(loop)
    assert nesting_depth(loop) == MAX_DEPTH + 1
    assert nesting_depth({"a": [1, {"b": 2}]}) == 3 and nesting_depth("x") == 0


def deep_cursor_file(ws: mo.Workspace) -> Path:
    path = user_file(ws, get_client("cursor"))
    write(path, '{"mcpServers": {"a": {"command": "x", "env": ' + "[" * 5000 + "]" * 5000 + "}}}")
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "-c", "cursor", "FILE"],
        ["import", "-c", "cursor"],
        ["probe", "-c", "cursor", "FILE"],
        ["validate-draft", "-c", "cursor", "--file", "FILE"],
        ["publish-config", "-c", "cursor", "--file", "FILE"],
        ["detect", "--json"],
    ],
    ids=lambda a: a[0],
)
def test_a_deep_client_file_is_a_typed_error_in_every_command(
    ws: mo.Workspace, argv: list[str]
) -> None:
    path = deep_cursor_file(ws)
    argv = [str(path) if a == "FILE" else a for a in argv]
    if argv[0] == "check":
        code, out, err = run(ws, *argv)
        assert code == 1 and "Traceback" not in out + err and "internal error" not in out + err
        assert f"{path} is nested deeper than {MAX_DEPTH} levels" in out
        return
    if argv[0] == "detect":
        code, out, _ = run(ws, *argv)
        row = next(r for r in json.loads(out)["clients"] if r["client"] == "cursor")
        assert code == 0 and "nested deeper" in row["error"]
        return
    err = typed_failure(ws, *argv)
    assert f"{path} is nested deeper than {MAX_DEPTH} levels" in err


def test_deploy_into_a_deep_client_file_writes_nothing(ws: mo.Workspace) -> None:
    profile = ws.profile("cursor")
    ws.registry().find("time").add_to(profile)
    profile.draft.publish(changelog="x")
    path = deep_cursor_file(ws)
    before = path.read_bytes()
    for argv in (["deploy-config", "-c", "cursor"], ["drift", "-c", "cursor"]):
        err = typed_failure(ws, *argv, code=1 if argv[0] == "deploy-config" else 2)
        assert "nested deeper" in err or "has not been deployed" in err
    typed_failure(ws, "diff-config", "-c", "cursor")
    assert path.read_bytes() == before


def test_a_deep_server_json_import_is_a_parse_error(ws: mo.Workspace, tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    typed_failure(ws, "import-servers", str(path))
    path.write_text("[" * 300 + "{}" + "]" * 300, encoding="utf-8")
    err = typed_failure(ws, "import-servers", str(path))
    assert "nested deeper" in err
    doc: dict[str, Any] = {"name": "io.example/deep", "description": "x", "version": "1"}
    node = doc
    for _ in range(MAX_DEPTH + 5):
        node["_meta"] = {}
        node = node["_meta"]
    with pytest.raises(ParseError, match="nested deeper"):
        ws.registry().import_server_json(doc)
    deep: list[Any] = [{}]
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ParseError, match="nested deeper"):
        list(iter_docs(deep))


# ---- YAML aliases --------------------------------------------------------------------------------


def billion_laughs(levels: int = 9, key: str = "extensions") -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append(f"{key}: *a{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("client", ["goose", "continue"])
def test_a_yaml_alias_bomb_fails_fast_and_small(client: str) -> None:
    spec = get_client(client)
    text = billion_laughs(9, spec.servers_key[0])
    assert len(text) < 600
    read_config(spec, "a: 1\n", "warm.yaml")  # imports ruamel outside the measurement
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ParseError) as err:
            read_config(spec, text, "bomb.yaml")
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.message.startswith("bomb.yaml: YAML aliases expand too far")
    assert f"{MAX_ALIAS_NODES:,}" in err.value.message
    assert elapsed < 0.5, elapsed
    assert peak < 10 * 1024 * 1024, peak
    with pytest.raises(ParseError, match="YAML aliases expand too far"):
        apply_changes(spec, text, {"time": native(spec)}, "bomb.yaml")


def test_a_yaml_alias_bomb_through_the_cli(ws: mo.Workspace) -> None:
    spec = get_client("goose")
    path = user_file(ws, spec)
    before = write(path, billion_laughs(9))
    profile = ws.profile("goose")
    ws.registry().find("time").add_to(profile)
    profile.draft.publish(changelog="x")
    for argv in (["deploy-config", "-c", "goose"], ["import", "-c", "goose", "-p", "other"]):
        assert "YAML aliases expand too far" in typed_failure(ws, *argv)
    code, out, _ = run(ws, "check", "-c", "goose", str(path))
    assert code == 1 and "YAML aliases expand too far" in out
    assert path.read_bytes() == before


def test_a_yaml_alias_that_holds_itself_is_refused() -> None:
    with pytest.raises(ParseError, match="refers to a node that holds it"):
        read_config(get_client("goose"), "extensions: &a\n  x: *a\n", "loop.yaml")


def test_a_few_anchors_still_work() -> None:
    goose = get_client("goose")
    text = (
        "extensions:\n"
        "  a:\n    name: a\n    cmd: uvx\n    args: [x]\n    envs: &env {K: '1', L: '2'}\n"
        "    enabled: true\n    type: stdio\n"
        "  b:\n    name: b\n    cmd: uvx\n    args: [y]\n    envs: *env\n"
        "    enabled: true\n    type: stdio\n"
    )
    data = read_config(goose, text, "config.yaml")
    assert data["extensions"]["b"]["envs"] == {"K": "1", "L": "2"}
    cont = get_client("continue")
    text = (
        "name: x\nversion: 0.0.1\nschema: v1\n"
        "base: &base {command: uvx, env: {A: '1'}}\n"
        "mcpServers:\n  - <<: *base\n    name: a\n    args: [x]\n"
        "  - <<: *base\n    name: b\n    args: [y]\n"
    )
    servers = read_config(cont, text, "config.yaml")["mcpServers"]
    assert [s["name"] for s in servers] == ["a", "b"]
    assert servers[1]["command"] == "uvx"


# ---- sizes -------------------------------------------------------------------------------------


def test_a_client_file_larger_than_the_cap_is_refused_before_it_is_read(
    ws: mo.Workspace,
) -> None:
    path = user_file(ws, get_client("cursor"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:  # sparse: the size is checked before anything is read
        fh.truncate(MAX_READ_BYTES + 1)
    with pytest.raises(mo.FileError, match="may have at most"):
        read_text_file(path)
    for argv in (["import", "-c", "cursor"], ["probe", "-c", "cursor", str(path)]):
        assert f"{MAX_READ_BYTES:,}" in typed_failure(ws, *argv)
    assert path.stat().st_size == MAX_READ_BYTES + 1


def test_read_text_file_keeps_universal_newlines(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_bytes(b'{\r\n  "a": 1\r\n}\r\n')
    assert read_text_file(path) == '{\n  "a": 1\n}\n'


# ---- wrong-typed sections, for every client ---------------------------------------------------


def wrong_sections(spec: ClientSpec) -> dict[str, Any]:
    """Servers sections of the wrong type for ``spec``'s layout: as a string, as the other
    container, and with one entry that is a string."""
    entry = native(spec)
    if spec.layout == "map":
        return {"string": "x", "container": [entry], "entry": {"ok": entry, "bad": "npx x"}}
    named = {spec.name_field or "name": "ok", **entry}
    return {"string": "x", "container": {"ok": entry}, "entry": [named, "npx x"]}


@pytest.mark.parametrize("kind", ["string", "container", "entry"])
@pytest.mark.parametrize("client", CLIENT_IDS)
def test_a_wrong_typed_servers_section_is_a_typed_error_for_every_client(
    ws: mo.Workspace, client: str, kind: str
) -> None:
    spec = get_client(client)
    path = user_file(ws, spec)
    text = dump(spec, {"keep": "me", **nest(spec, wrong_sections(spec)[kind])})
    before = write(path, text)
    key = ".".join(spec.servers_key)

    with pytest.raises(ParseError) as err:
        read_config(spec, text, str(path))
    message, hint = err.value.message, err.value.hint
    assert message.startswith(f"{path}: `{key}")
    assert "expects" in message or "must be" in message
    assert str(path) in hint and "left untouched" in hint

    # checking a file reports it (a typed error for the target, or MCP010 when validating)
    code, out, _ = run(ws, "check", "-c", client, str(path))
    assert code == 1 and "Traceback" not in out and f"`{key}" in out
    code, out, _ = run(ws, "validate-draft", "-c", client, "--file", str(path))
    assert code == 1 and "MCP010" in out

    # reading it for use refuses it, naming the file and the key
    for argv in (
        ["import", "-c", client],
        ["probe", "-c", client, str(path)],
        ["publish-config", "-c", client, "--file", str(path)],
    ):
        err_text = typed_failure(ws, *argv)
        assert str(path) in err_text and f"`{key}" in err_text

    # deploy writes nothing
    profile = ws.profile(client, target_os="linux")
    profile.draft.add_entry("time", native(spec))
    profile.draft.publish(changelog="x")
    for argv in (["deploy-config", "-c", client], ["diff-config", "-c", client]):
        if argv[0] == "deploy-config" and not spec.deployable:  # refused before it reads
            assert "nothing was written" in typed_failure(ws, *argv, code=2)
            continue
        assert f"`{key}" in typed_failure(ws, *argv)
    assert path.read_bytes() == before
    with pytest.raises(ParseError):
        apply_changes(spec, text, {"time": native(spec)}, str(path))


def test_the_hint_names_the_key_and_the_file() -> None:
    spec = get_client("codex")
    with pytest.raises(ParseError) as err:
        read_config(spec, 'model = "o3"\nmcp_servers = "x"\n', "~/.codex/config.toml")
    assert err.value.message == (
        "~/.codex/config.toml: `mcp_servers` is a string, but OpenAI Codex expects a table of "
        "servers"
    )
    assert err.value.hint == (
        "fix or remove the `mcp_servers` key in ~/.codex/config.toml; it was left untouched"
    )


def test_a_lenient_read_leaves_the_types_to_the_checks() -> None:
    spec = get_client("goose")
    data = read_config(spec, "extensions: [1, 2]\n", "config.yaml", strict=False)
    assert data == {"extensions": [1, 2]}
    assert [f.code for f in check_payload(spec, data).errors] == ["MCP010"]


def test_a_yaml_section_with_no_value_is_empty() -> None:
    assert read_config(get_client("goose"), "extensions:\n", "config.yaml") == {"extensions": None}


# ---- damaged drafts ----------------------------------------------------------------------------

DAMAGED_DRAFTS = {
    "not-json": '{"servers": {',
    "a-list": '["servers"]',
    "servers-a-string": '{"version": 1, "servers": "time"}',
    "no-servers": '{"version": 1}',
    "record-a-number": '{"version": 1, "servers": {"time": 3}}',
    "entry-a-list": '{"version": 1, "servers": {"time": {"entry": ["uvx"]}}}',
    "too-deep": '{"servers": {"a": {"entry": {"x": ' + "[" * 5000 + "]" * 5000 + "}}}}",
    "not-utf8": b'{"servers": {"\xff": {}}}'.decode("latin-1"),
}


@pytest.fixture
def damaged(ws: mo.Workspace, request: pytest.FixtureRequest) -> Path:
    profile = ws.profile("cursor")
    ws.registry().find("time").add_to(profile)
    profile.draft.publish(changelog="one")
    draft = ws.path / "drafts" / "cursor" / "default.json"
    content = DAMAGED_DRAFTS[request.param]
    if request.param == "not-utf8":
        draft.write_bytes(b'{"servers": {"\xff": {}}}')
    else:
        draft.write_text(content, encoding="utf-8")
    return draft


@pytest.mark.parametrize("damaged", list(DAMAGED_DRAFTS), indirect=True)
@pytest.mark.parametrize(
    "argv",
    [
        ["show-draft", "-c", "cursor"],
        ["add-server", "fetch", "-c", "cursor"],
        ["remove-server", "time", "-c", "cursor"],
        ["validate-draft", "-c", "cursor"],
        ["publish-config", "-c", "cursor"],
        ["check", "draft:cursor/default"],
    ],
    ids=lambda a: a[0],
)
def test_a_damaged_draft_is_store_corrupt_in_every_command(
    ws: mo.Workspace, damaged: Path, argv: list[str]
) -> None:
    before = damaged.read_bytes()
    if argv[0] == "check":
        code, out, _ = run(ws, *argv)
        assert code == 1 and "Traceback" not in out and str(damaged) in out
    else:
        err = typed_failure(ws, *argv)
        assert f"the draft {damaged}" in err and f"fix or delete {damaged}" in err
    assert damaged.read_bytes() == before
    with pytest.raises(StoreCorrupt) as info:
        ws.profile("cursor").draft.to_dict()
    assert str(damaged) in info.value.message and "restore the file" in info.value.hint


def test_a_draft_entry_nested_too_deep_is_refused_before_it_is_written(ws: mo.Workspace) -> None:
    entry: dict[str, Any] = {"command": "x"}
    node = entry
    for _ in range(MAX_DEPTH):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(InvalidConfig, match="nested deeper"):
        ws.profile("cursor").draft.add_entry("deep", entry)
    assert not (ws.path / "drafts" / "cursor" / "default.json").exists()
