"""Reading and editing client config files in their own dialect (``mcp_orch.clients.dialects``).

Example tests per dialect: JSON (Claude Desktop), JSONC (VS Code, Zed, OpenCode, and Amp with
its dotted top-level key ``"amp.mcpServers"``), TOML (Codex ``[mcp_servers.x]`` tables, Mistral
Vibe ``[[mcp_servers]]`` array of tables), YAML (Goose ``extensions`` map, Continue
``mcpServers`` list): comments, unknown keys, other tables / top-level keys and key order survive
``apply_changes``; text that does not parse raises ``ParseError``.

Property tests (hypothesis), one per dialect family: a random existing file with random
unmanaged servers, random extra top-level keys and (where the format allows) comments, then a
random sequence of set/remove batches on managed names (disjoint from the unmanaged ones). After
every batch: each unmanaged server, extra key and comment is unchanged, and the managed servers
equal the model. Results are checked with independent parsers (``json``, ``tomllib``, ruamel's
safe loader). Examples are derandomized and not shrunk, to keep the file fast and reproducible.
"""

from __future__ import annotations

import itertools
import json
import tomllib
from io import StringIO
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from mcp_orch.core.errors import ParseError
from mcp_orch.domain.clients import ClientSpec, get_client, to_native
from mcp_orch.domain.clients.dialects import apply_changes, read_config

STDIO = {"transport": "stdio", "command": "npx", "args": ["-y", "srv"], "env": {"TOKEN": "t0"}}
HTTP = {"transport": "streamable-http", "url": "https://h.example/mcp", "headers": {"A": "b"}}


def _yaml_safe(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(StringIO(text))


def _servers(spec: ClientSpec, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> entry, read independently of the library (list layouts drop the name field)."""
    node: Any = data
    for key in spec.servers_key:
        node = (node or {}).get(key) if isinstance(node, dict) else None
    if not node:
        return {}
    if spec.layout == "map":
        return dict(node)
    field = spec.name_field or "name"
    return {item[field]: {k: v for k, v in item.items() if k != field} for item in node}


def _expected_entry(spec: ClientSpec, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """How an entry written by ``apply_changes`` reads back."""
    if spec.name_in_entry:
        return {spec.name_in_entry: name, **entry}
    return entry


# ---- JSON -----------------------------------------------------------------------------------

CLAUDE_DESKTOP = """\
{
  "globalShortcut": "Ctrl+Space",
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me"],
      "x-note": {"added": "by hand"}
    }
  },
  "preferences": {"quickEntry": true}
}
"""


def test_json_keeps_unknown_keys_and_unmanaged_entries() -> None:
    spec = get_client("claude-desktop")
    entry = to_native(spec, STDIO)
    out = apply_changes(spec, CLAUDE_DESKTOP, {"github": entry}, "claude_desktop_config.json")
    data = json.loads(out)
    assert list(data) == ["globalShortcut", "mcpServers", "preferences"]
    assert data["preferences"] == {"quickEntry": True}
    assert (
        data["mcpServers"]["filesystem"] == json.loads(CLAUDE_DESKTOP)["mcpServers"]["filesystem"]
    )
    assert data["mcpServers"]["github"] == entry
    assert list(data["mcpServers"]) == ["filesystem", "github"]
    assert read_config(spec, out) == data
    back = apply_changes(spec, out, {"github": None})
    assert back == CLAUDE_DESKTOP


def test_json_creates_the_file_content_from_nothing() -> None:
    spec = get_client("claude-desktop")
    out = apply_changes(spec, "", {"a": to_native(spec, STDIO)})
    assert json.loads(out) == {"mcpServers": {"a": to_native(spec, STDIO)}}
    assert read_config(spec, "") == {}
    assert read_config(spec, " \n") == {}


# ---- JSONC ----------------------------------------------------------------------------------

VSCODE = """\
// VS Code user mcp.json
{
  "inputs": [
    {"type": "promptString", "id": "token", "description": "API token", "password": true},
  ],
  /* servers I added by hand */
  "servers": {
    "mine": {"type": "stdio", "command": "node", "args": ["mine.js"]}, // keep
  },
}
"""


def test_vscode_keeps_inputs_comments_and_trailing_commas() -> None:
    spec = get_client("vscode")
    entry = to_native(spec, HTTP)
    out = apply_changes(spec, VSCODE, {"remote": entry})
    for comment in ("// VS Code user mcp.json", "/* servers I added by hand */", "// keep"):
        assert comment in out
    data = read_config(spec, out)
    assert data["inputs"] == read_config(spec, VSCODE)["inputs"]
    assert data["servers"] == {
        "mine": {"type": "stdio", "command": "node", "args": ["mine.js"]},
        "remote": entry,
    }
    assert "mcpServers" not in out, "VS Code reads 'servers'"
    assert out.startswith(VSCODE.split('    "mine"')[0])


ZED = """\
// Zed settings
//
// For information on how to configure Zed, see the Zed
// documentation: https://zed.dev/docs/configuring-zed
{
  "ui_font_size": 16,
  "buffer_font_size": 15,
  "theme": {
    "mode": "system",
    "light": "One Light",
    "dark": "One Dark",
  },
  "context_servers": {
    "postgres": {
      "source": "custom",
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-postgres", "postgres://localhost/db"],
      "env": {},
    },
  },
  "vim_mode": false, // not yet
}
"""


def test_zed_edits_only_context_servers() -> None:
    spec = get_client("zed")
    entry = to_native(spec, STDIO)
    out = apply_changes(spec, ZED, {"github": entry})
    before, after = read_config(spec, ZED), read_config(spec, out)
    assert {k: v for k, v in after.items() if k != "context_servers"} == {
        k: v for k, v in before.items() if k != "context_servers"
    }
    assert list(after) == list(before)
    assert after["context_servers"] == {**before["context_servers"], "github": entry}
    assert entry["source"] == "custom"
    head = ZED.split('    "postgres"')[0]
    assert out.startswith(head)
    assert out.endswith('  "vim_mode": false, // not yet\n}\n')
    removed = apply_changes(spec, out, {"postgres": None, "github": None})
    assert read_config(spec, removed)["context_servers"] == {}
    assert removed.endswith('  "vim_mode": false, // not yet\n}\n')


OPENCODE = """\
{
  "$schema": "https://opencode.ai/config.json",
  // models
  "provider": {"anthropic": {"options": {"timeout": 600000}}},
  "mcp": {
    "local-tool": {"type": "local", "command": ["bun", "x", "tool"], "enabled": true}
  }
}
"""


def test_opencode_writes_command_arrays_under_mcp() -> None:
    spec = get_client("opencode")
    entry = to_native(spec, STDIO)
    assert entry["command"] == ["npx", "-y", "srv"]
    out = apply_changes(spec, OPENCODE, {"srv": entry})
    data = read_config(spec, out)
    assert data["$schema"] == "https://opencode.ai/config.json"
    assert data["provider"] == {"anthropic": {"options": {"timeout": 600000}}}
    assert list(data["mcp"]) == ["local-tool", "srv"]
    assert data["mcp"]["srv"] == entry
    assert "// models" in out


AMP = """\
{
  "amp.notifications.enabled": false,
  // my servers
  "amp.mcpServers": {
    "playwright": {"command": "npx", "args": ["-y", "@playwright/mcp@latest"]}
  },
  "amp.tools.disable": ["builtin:edit_file"]
}
"""


def test_amp_uses_one_dotted_top_level_key() -> None:
    spec = get_client("amp")
    entry = to_native(spec, HTTP)
    out = apply_changes(spec, AMP, {"remote": entry})
    data = read_config(spec, out)
    assert list(data) == ["amp.notifications.enabled", "amp.mcpServers", "amp.tools.disable"]
    assert "amp" not in data, "the key is not nested"
    assert data["amp.mcpServers"]["remote"] == entry
    assert "playwright" in data["amp.mcpServers"]
    assert "// my servers" in out
    fresh = apply_changes(spec, '{\n  "amp.notifications.enabled": false\n}\n', {"r": entry})
    assert read_config(spec, fresh) == {
        "amp.notifications.enabled": False,
        "amp.mcpServers": {"r": entry},
    }


# ---- TOML -----------------------------------------------------------------------------------

CODEX = """\
# Codex config
model = "o3"  # default model
approval_policy = "on-request"

[mcp_servers.docs]  # hand-written
command = "docker"
args = ["run", "-i", "--rm", "docs"]
env = { DOCS_TOKEN = "abc" }
startup_timeout_sec = 20

[profiles.fast]
model = "gpt-4o-mini"

[sandbox_workspace_write]
network_access = true
"""


def test_codex_adds_replaces_and_removes_tables() -> None:
    spec = get_client("codex")
    stdio, http = to_native(spec, STDIO), to_native(spec, HTTP)
    out = apply_changes(spec, CODEX, {"github": stdio, "remote": http})
    for comment in ("# Codex config", "# default model", "# hand-written"):
        assert comment in out
    data = tomllib.loads(out)
    original = tomllib.loads(CODEX)
    assert list(data) == list(original)
    assert {k: v for k, v in data.items() if k != "mcp_servers"} == {
        k: v for k, v in original.items() if k != "mcp_servers"
    }
    assert data["mcp_servers"] == {
        "docs": original["mcp_servers"]["docs"],
        "github": stdio,
        "remote": http,
    }
    assert http == {"url": HTTP["url"], "http_headers": HTTP["headers"]}
    assert "[mcp_servers.github]" in out
    replaced = apply_changes(spec, out, {"github": {"command": "uvx", "args": ["gh"]}})
    assert tomllib.loads(replaced)["mcp_servers"]["github"] == {"command": "uvx", "args": ["gh"]}
    removed = apply_changes(spec, replaced, {"github": None, "remote": None})
    assert tomllib.loads(removed) == original
    assert "# hand-written" in removed and "# default model" in removed


def test_codex_file_without_servers() -> None:
    spec = get_client("codex")
    text = 'model = "o3"  # keep\n'
    assert apply_changes(spec, text, {"absent": None}) == text
    out = apply_changes(spec, text, {"a": {"command": "x"}})
    assert tomllib.loads(out) == {"model": "o3", "mcp_servers": {"a": {"command": "x"}}}
    assert out.startswith('model = "o3"  # keep\n')
    assert tomllib.loads(apply_changes(spec, "", {"a": {"command": "x"}})) == {
        "mcp_servers": {"a": {"command": "x"}}
    }


VIBE = """\
# Mistral Vibe
active_model = "devstral-medium"

[[mcp_servers]]
name = "fetch"  # hand-written
transport = "stdio"
command = "uvx"
args = ["mcp-server-fetch"]

[[mcp_servers]]
name = "old"
transport = "http"
url = "https://old.example/mcp"

[tools.bash]
permission = "ask"
"""


def test_mistral_vibe_edits_the_array_of_tables() -> None:
    spec = get_client("mistral-vibe")
    entry = to_native(spec, STDIO)
    assert entry["transport"] == "stdio"
    out = apply_changes(spec, VIBE, {"old": None, "github": entry})
    data = tomllib.loads(out)
    assert data["active_model"] == "devstral-medium"
    assert data["tools"] == {"bash": {"permission": "ask"}}
    assert [s["name"] for s in data["mcp_servers"]] == ["fetch", "github"]
    assert data["mcp_servers"][0] == tomllib.loads(VIBE)["mcp_servers"][0]
    assert _servers(spec, data)["github"] == entry
    assert "# hand-written" in out and "# Mistral Vibe" in out
    # replacing keeps the position in the array
    http = to_native(spec, HTTP)
    replaced = apply_changes(spec, out, {"fetch": http})
    assert [s["name"] for s in tomllib.loads(replaced)["mcp_servers"]] == ["fetch", "github"]
    assert _servers(spec, tomllib.loads(replaced))["fetch"] == http


def test_mistral_vibe_remove_all_then_add_stays_valid_toml() -> None:
    spec = get_client("mistral-vibe")
    entry = to_native(spec, STDIO)
    text = 'active_model = "devstral"\n'
    text = apply_changes(spec, text, {"a": entry})  # deploy 1: one server
    text = apply_changes(spec, text, {"a": None})  # deploy 2: none
    assert tomllib.loads(text) in (
        {"active_model": "devstral"},
        {"active_model": "devstral", "mcp_servers": []},
    )
    text = apply_changes(spec, text, {"b": entry})  # deploy 3: another one
    data = tomllib.loads(text)
    assert data["active_model"] == "devstral"
    assert _servers(spec, data) == {"b": entry}


# ---- YAML -----------------------------------------------------------------------------------

GOOSE = """\
# Goose config
GOOSE_PROVIDER: openai  # provider
GOOSE_MODEL: gpt-4o
extensions:
  developer:
    bundled: true
    display_name: Developer
    enabled: true
    name: developer
    timeout: 300
    type: builtin
  # a server I wrote
  fetch:
    name: fetch
    type: stdio
    cmd: uvx
    args: [mcp-server-fetch]
    envs: {}
    enabled: true
    timeout: 300
GOOSE_MODE: smart_approve
"""


def test_goose_edits_the_extensions_map() -> None:
    spec = get_client("goose")
    entry = to_native(spec, HTTP)
    out = apply_changes(spec, GOOSE, {"remote": entry})
    for comment in ("# Goose config", "# provider", "# a server I wrote"):
        assert comment in out
    data, original = _yaml_safe(out), _yaml_safe(GOOSE)
    assert list(data) == list(original)
    assert {k: v for k, v in data.items() if k != "extensions"} == {
        k: v for k, v in original.items() if k != "extensions"
    }
    assert list(data["extensions"]) == ["developer", "fetch", "remote"]
    assert data["extensions"]["developer"] == original["extensions"]["developer"]
    assert data["extensions"]["fetch"] == original["extensions"]["fetch"]
    assert data["extensions"]["remote"] == {"name": "remote", **entry}
    assert entry["type"] == "streamable_http" and entry["uri"] == HTTP["url"]
    assert read_config(spec, out) == data
    removed = apply_changes(spec, out, {"remote": None})
    assert _yaml_safe(removed) == original


def test_goose_file_without_extensions() -> None:
    spec = get_client("goose")
    out = apply_changes(spec, "GOOSE_MODEL: gpt-4o  # mine\n", {"a": to_native(spec, STDIO)})
    assert "# mine" in out
    assert _yaml_safe(out)["extensions"]["a"]["cmd"] == "npx"
    empty = apply_changes(spec, "extensions:\n", {"a": to_native(spec, STDIO)})
    assert _servers(spec, _yaml_safe(empty)) == {"a": {"name": "a", **to_native(spec, STDIO)}}


CONTINUE = """\
name: My assistant  # shown in the UI
version: 1.0.0
schema: v1
models:
  - name: GPT-4o
    provider: openai
    model: gpt-4o
mcpServers:
  # the first one
  - name: sqlite
    command: uvx
    args:
      - mcp-server-sqlite
  - name: old
    command: npx
rules:
  - Be concise
"""


def test_continue_edits_the_mcp_servers_list() -> None:
    spec = get_client("continue")
    entry = to_native(spec, HTTP)
    out = apply_changes(spec, CONTINUE, {"old": None, "remote": entry})
    for comment in ("# shown in the UI", "# the first one"):
        assert comment in out
    data, original = _yaml_safe(out), _yaml_safe(CONTINUE)
    assert list(data) == list(original)
    assert data["models"] == original["models"] and data["rules"] == original["rules"]
    assert data["mcpServers"] == [
        original["mcpServers"][0],
        {"name": "remote", **entry},
    ]
    replaced = apply_changes(spec, out, {"sqlite": to_native(spec, STDIO)})
    assert [s["name"] for s in _yaml_safe(replaced)["mcpServers"]] == ["sqlite", "remote"]
    assert _servers(spec, _yaml_safe(replaced))["sqlite"] == to_native(spec, STDIO)


@pytest.mark.parametrize(
    ("cid", "text"),
    [
        (
            "goose",
            "extensions:\n  mine:\n    cmd: npx\n    envs: {}\n# the model\nGOOSE_MODEL: gpt-4o\n",
        ),
        (
            "continue",
            "mcpServers:\n  - name: mine\n    command: npx\n    args: []\n# the rules\nrules:\n  - x\n",
        ),
        ("goose", "extensions:\n  mine:\n    cmd: npx\n# the model\nGOOSE_MODEL: gpt-4o\n"),
        ("goose", "extensions: {}\n# the model\nGOOSE_MODEL: gpt-4o\n"),
        ("continue", "mcpServers: []\n# the rules\nrules:\n  - x\n"),
    ],
    ids=[
        "goose-flow-value",
        "continue-flow-value",
        "goose-block-value",
        "goose-empty-map",
        "continue-empty-list",
    ],
)
def test_yaml_comment_after_the_servers_survives_add_then_remove(cid: str, text: str) -> None:
    spec = get_client(cid)
    comment = next(line for line in text.splitlines() if line.startswith("#"))
    added = apply_changes(spec, text, {"managed": to_native(spec, STDIO)})
    assert comment in added
    removed = apply_changes(spec, added, {"managed": None})
    assert comment in removed, f"the user's comment was deleted with a managed server:\n{removed}"
    assert _yaml_safe(removed) == _yaml_safe(text)


def test_removing_an_absent_server_leaves_the_file_unchanged() -> None:
    cases = {
        "claude-desktop": CLAUDE_DESKTOP,
        "vscode": VSCODE,
        "zed": '{\n  "theme": "One Dark"\n}\n',
        "codex": CODEX,
        "mistral-vibe": VIBE,
        "goose": GOOSE,
        "continue": CONTINUE,
    }
    changed = [
        cid
        for cid, text in cases.items()
        if apply_changes(get_client(cid), text, {"not-there": None}) != text
    ]
    for cid, text in (
        ("goose", "GOOSE_MODEL: gpt-4o\n"),
        ("mistral-vibe", 'active_model = "devstral"\n'),
        ("claude-desktop", '{\n  "globalShortcut": ""\n}\n'),
    ):
        if apply_changes(get_client(cid), text, {"not-there": None}) != text:
            changed.append(f"{cid} (no servers key)")
    assert not changed, f"a no-op removal rewrote: {changed}"


# ---- parse errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cid", "text"),
    [
        ("claude-desktop", '{"mcpServers": {"a": {"command": "x"}'),
        ("claude-desktop", '{"mcpServers": {"a": {command: "x"}}}'),
        ("vscode", '{\n  // fine\n  "servers": {,}\n}'),
        ("zed", "{\n  /* never closed\n}"),
        ("amp", '{"amp.mcpServers": [}'),
        ("codex", '[mcp_servers.a]\ncommand = "x"\n[mcp_servers.a]\ncommand = "y"\n'),
        ("codex", "model = \n"),
        ("mistral-vibe", "[[mcp_servers]\nname = 'a'\n"),
        ("goose", "extensions:\n  a: [unclosed\n"),
        ("goose", "extensions:\n\tbad: tab\n"),
        ("continue", "mcpServers:\n  - name: a\n   command: x\n"),
        ("continue", "- just\n- a list\n"),
        ("codex", "= 2\n"),
        ("claude-desktop", "[1, 2]"),
    ],
)
def test_unparseable_text_raises_parse_error(cid: str, text: str) -> None:
    spec = get_client(cid)
    with pytest.raises(ParseError) as err:
        read_config(spec, text, "the-config")
    assert "the-config" in err.value.message
    assert err.value.hint
    with pytest.raises(ParseError):
        apply_changes(spec, text, {"a": to_native(spec, STDIO)}, "the-config")


# ---- property tests -------------------------------------------------------------------------

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Letters C, M, T, Q never occur in generated values, so a comment token cannot appear by chance.
TEXT = st.text(alphabet='abxyz 019_-/\\"*{}[],:#éü日😀', max_size=8)
SAFE_TEXT = st.text(alphabet="abxyz 019_-/.:éü日", max_size=8)
ENV_NAME = st.from_regex(r"[A-Z_]{1,6}", fullmatch=True).filter(lambda s: "CMT" not in s)
UNMANAGED = st.text(alphabet="abxyz019_-", min_size=1, max_size=6).map(lambda s: "u" + s)
MANAGED = st.text(alphabet="abxyz019_-", min_size=1, max_size=4).map(lambda s: "m" + s)


def _neutral(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    stdio = st.fixed_dictionaries(
        {
            "transport": st.just("stdio"),
            "command": st.sampled_from(["npx", "uvx", "node", "docker", "/opt/srv/bin"]),
            "args": st.lists(text, max_size=3),
            "env": st.dictionaries(ENV_NAME, text, max_size=2),
        }
    )
    remote = st.fixed_dictionaries(
        {
            "transport": st.sampled_from(["streamable-http", "sse"]),
            "url": st.from_regex(r"https://[a-z]{1,6}\.example/[a-z]{0,5}", fullmatch=True),
            "headers": st.dictionaries(
                st.sampled_from(["Authorization", "X-Api-Key"]), text, max_size=2
            ),
        }
    )
    return stdio | remote


def _native(spec: ClientSpec, text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda n, os_name: to_native(spec, n, os_name),
        _neutral(text),
        st.sampled_from(["linux", "windows"]),
    )


def _batches(
    draw: Any, spec: ClientSpec, text: st.SearchStrategy[str]
) -> list[dict[str, dict[str, Any] | None]]:
    pool = draw(st.lists(MANAGED, min_size=1, max_size=4, unique=True), label="managed names")
    # the first deploy writes a random part of the pool
    first = draw(st.fixed_dictionaries({n: st.none() | _native(spec, text) for n in pool}))
    mixed = st.dictionaries(
        st.sampled_from(pool), st.none() | _native(spec, text), min_size=1, max_size=4
    )
    # a deploy that drops several servers at once
    removals = st.lists(st.sampled_from(pool), min_size=1, unique=True).map(dict.fromkeys)
    return [first, *draw(st.lists(mixed | removals, max_size=4), label="batches")]


def _apply_model(model: dict[str, Any], changes: dict[str, Any]) -> None:
    for name, entry in changes.items():
        if entry is None:
            model.pop(name, None)
        else:
            model[name] = entry


def _check(
    spec: ClientSpec,
    out: str,
    data: dict[str, Any],
    extras: dict[str, Any],
    unmanaged: dict[str, dict[str, Any]],
    model: dict[str, Any],
    comments: list[str],
) -> None:
    servers_top = spec.servers_key[0]
    kept = {k: v for k, v in data.items() if k != servers_top}
    assert kept == extras, "extra top-level keys changed"
    assert [k for k in data if k != servers_top] == list(extras), "top-level key order changed"
    servers = _servers(spec, data)
    assert {n: e for n, e in servers.items() if n in unmanaged} == unmanaged
    assert [n for n in servers if n in unmanaged] == list(unmanaged), "unmanaged order changed"
    managed = {n: e for n, e in servers.items() if n not in unmanaged}
    assert managed == {n: _expected_entry(spec, n, e) for n, e in model.items()}
    lost = [c for c in comments if out.count(c) != 1]
    assert not lost, f"comments lost or duplicated: {lost}\n{out}"


# -- JSON / JSONC -----------------------------------------------------------------------------

JSON_SPECS = ["claude-desktop", "cursor", "vscode", "zed", "opencode", "amp"]
JSON_EXTRA_KEYS = ["theme", "editor.fontSize", "inputs", "amp.tools.disable", "$schema", "ü"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 10**9) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def json_files(
    draw: Any, spec: ClientSpec
) -> tuple[str, dict[str, Any], dict[str, Any], list[str]]:
    """(text, extra keys, unmanaged servers, comment tokens) of a plausible JSON(C) config."""
    jsonc = spec.dialect == "jsonc"
    unit = draw(st.sampled_from(["  ", "    ", "\t"]), label="indent")
    with_comments = jsonc and draw(st.booleans(), label="comments")
    trailing = jsonc and draw(st.booleans(), label="trailing commas")
    counter = itertools.count()
    comments: list[str] = []

    def comment(label: str) -> str:
        if not with_comments or not draw(st.booleans(), label=label):
            return ""
        token = f"CMT{next(counter)}Q"
        comments.append(token)
        return draw(st.sampled_from([f"// {token}", f"/* {token} */"]))

    def dump(value: Any, level: int) -> str:
        return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", "\n" + unit * level)

    key = spec.servers_key[0]
    extra_keys = [k for k in JSON_EXTRA_KEYS if k != key]
    extras = draw(st.dictionaries(st.sampled_from(extra_keys), JSON_VALUES, max_size=3))
    unmanaged = draw(st.dictionaries(UNMANAGED, _native(spec, TEXT), max_size=3))
    for name in list(unmanaged)[:1]:  # a field the client knows and mcp-orch does not
        unmanaged[name] = {**unmanaged[name], "x-custom": {"kept": [1, "two"]}}
    has_servers = bool(unmanaged) or draw(st.booleans(), label="empty servers key")
    members: list[tuple[str, Any]] = list(extras.items())
    if has_servers:
        at = draw(st.integers(0, len(members)), label="servers position")
        members.insert(at, (key, None))
    lines: list[str] = []
    if c := comment("head"):
        lines.append(c)
    lines.append("{")
    for i, (k, v) in enumerate(members):
        comma = "," if i < len(members) - 1 or trailing else ""
        if c := comment("before member"):
            lines.append(unit + c)
        if k != key:
            tail = comment("after member")
            lines.append(f"{unit}{json.dumps(k, ensure_ascii=False)}: {dump(v, 1)}{comma}")
            lines[-1] += f" {tail}" if tail else ""
            continue
        lines.append(f"{unit}{json.dumps(key)}: {{")
        for j, (name, entry) in enumerate(unmanaged.items()):
            comma_j = "," if j < len(unmanaged) - 1 or trailing else ""
            if c := comment("before server"):
                lines.append(unit * 2 + c)
            inline = draw(st.booleans(), label="inline entry")
            body = json.dumps(entry, ensure_ascii=False) if inline else dump(entry, 2)
            tail = comment("after server")
            lines.append(f"{unit * 2}{json.dumps(name)}: {body}{comma_j}")
            lines[-1] += f" {tail}" if tail else ""
        if c := comment("end of servers"):
            lines.append(unit * 2 + c)
        lines.append(f"{unit}}}{comma}")
    if c := comment("end of file"):
        lines.append(unit + c)
    lines.append("}")
    text = "\n".join(lines) + "\n"
    return text, extras, unmanaged, comments


@PROPERTY
@given(spec=st.sampled_from(JSON_SPECS).map(get_client), data=st.data())
def test_json_family_keeps_everything_it_does_not_manage(spec: ClientSpec, data: Any) -> None:
    text, extras, unmanaged, comments = data.draw(json_files(spec), label="file")
    batches = _batches(data.draw, spec, TEXT)
    model: dict[str, Any] = {}
    for changes in batches:
        text = apply_changes(spec, text, changes)
        _apply_model(model, changes)
        parsed = read_config(spec, text)
        if spec.dialect == "json":
            assert json.loads(text) == parsed, "strict JSON must stay strict JSON"
        _check(spec, text, parsed, extras, unmanaged, model, comments)


# -- TOML -------------------------------------------------------------------------------------

TOML_SCALARS = st.one_of(st.booleans(), st.integers(-1000, 10**9), SAFE_TEXT)
TOML_KEYS = st.sampled_from(["model", "approval_policy", "active_model", "notify", "theme"])


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(value)


@st.composite
def toml_files(
    draw: Any, spec: ClientSpec
) -> tuple[str, dict[str, Any], dict[str, Any], list[str]]:
    counter = itertools.count()
    comments: list[str] = []

    def comment(label: str) -> str:
        if not draw(st.booleans(), label=label):
            return ""
        token = f"CMT{next(counter)}Q"
        comments.append(token)
        return f"# {token}"

    scalars = draw(st.dictionaries(TOML_KEYS, TOML_SCALARS, max_size=3), label="top-level keys")
    tables = draw(
        st.dictionaries(
            st.sampled_from(["profiles", "tools", "history", "sandbox"]),
            st.dictionaries(st.sampled_from(["a", "b", "c"]), TOML_SCALARS, min_size=1, max_size=2),
            max_size=2,
        ),
        label="other tables",
    )
    unmanaged = draw(st.dictionaries(UNMANAGED, _native(spec, SAFE_TEXT), max_size=3))
    lines: list[str] = []
    for k, v in scalars.items():
        if c := comment("before key"):
            lines.append(c)
        tail = comment("after key")
        lines.append(f"{k} = {_toml_value(v)}" + (f"  {tail}" if tail else ""))
    blocks: list[tuple[str | None, list[str]]] = []  # (server name, lines)
    for name, entry in unmanaged.items():
        header = "[[mcp_servers]]" if spec.layout == "array-of-tables" else f"[mcp_servers.{name}]"
        block = [c] if (c := comment("before server")) else []
        tail = comment("after header")
        block.append(header + (f"  {tail}" if tail else ""))
        if spec.layout == "array-of-tables":
            block.append(f'{spec.name_field or "name"} = "{name}"')
        for k, v in entry.items():
            block.append(f"{k} = {_toml_value(v)}")
        blocks.append((name, block))
    for name, table in tables.items():
        block = [c] if (c := comment("before table")) else []
        block.append(f"[{name}.x]")
        block += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        blocks.append((None, block))
    if spec.layout == "map":  # interleaving [mcp_servers.x] with other tables is legal TOML
        blocks = draw(st.permutations(blocks), label="table order")
        unmanaged = {n: unmanaged[n] for n, _ in blocks if n is not None}  # file order
    for _, block in blocks:
        lines.append("")
        lines += block
    text = "\n".join(lines) + "\n"
    extras: dict[str, Any] = {**scalars, **{k: {"x": v} for k, v in tables.items()}}
    return text, extras, unmanaged, comments


@PROPERTY
@given(spec=st.sampled_from(["codex", "mistral-vibe"]).map(get_client), data=st.data())
def test_toml_family_keeps_everything_it_does_not_manage(spec: ClientSpec, data: Any) -> None:
    text, extras, unmanaged, comments = data.draw(toml_files(spec), label="file")
    assert tomllib.loads(text) is not None  # the generated file is valid TOML
    batches = _batches(data.draw, spec, SAFE_TEXT)
    model: dict[str, Any] = {}
    for changes in batches:
        text = apply_changes(spec, text, changes)
        _apply_model(model, changes)
        parsed = tomllib.loads(text)
        assert read_config(spec, text) == parsed
        # TOML tables may be reordered in the dict, the order of plain keys must hold
        extras_seen = {k: v for k, v in parsed.items() if k != "mcp_servers"}
        assert extras_seen == extras
        scalars = [k for k in parsed if k != "mcp_servers" and not isinstance(parsed[k], dict)]
        assert scalars == [k for k in extras if not isinstance(extras[k], dict)]
        servers = _servers(spec, parsed)
        assert {n: e for n, e in servers.items() if n in unmanaged} == unmanaged
        assert [n for n in servers if n in unmanaged] == list(unmanaged)
        managed = {n: e for n, e in servers.items() if n not in unmanaged}
        assert managed == model
        lost = [c for c in comments if text.count(c) != 1]
        assert not lost, f"comments lost or duplicated: {lost}\n{text}"


# -- YAML -------------------------------------------------------------------------------------

YAML_KEYS = ["GOOSE_MODEL", "GOOSE_PROVIDER", "models", "rules", "version", "ui"]
YAML_VALUES = st.one_of(
    TOML_SCALARS,
    st.lists(SAFE_TEXT, max_size=3),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), TOML_SCALARS, max_size=2),
)


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _yaml_block(value: Any, indent: int, seq_offset: int) -> list[str]:
    """Block-style lines of a map or list value (empty ones in flow style on the key line)."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{json.dumps(k)}:")
                child = indent + (seq_offset if isinstance(v, list) else 2)
                lines += _yaml_block(v, child, seq_offset)
            else:
                lines.append(f"{pad}{json.dumps(k)}: {_yaml_value_inline(v)}")
    else:
        for v in value:
            if isinstance(v, dict) and v:
                sub = _yaml_block(v, indent + 2, seq_offset)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines += sub[1:]
            else:
                lines.append(f"{pad}- {_yaml_value_inline(v)}")
    return lines


def _yaml_value_inline(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)  # flow style
    return _yaml_scalar(value)


@st.composite
def yaml_files(
    draw: Any, spec: ClientSpec
) -> tuple[str, dict[str, Any], dict[str, Any], list[str]]:
    counter = itertools.count()
    comments: list[str] = []
    seq_offset = draw(st.sampled_from([0, 2]), label="sequence indent")

    def comment(label: str) -> str:
        if not draw(st.booleans(), label=label):
            return ""
        token = f"CMT{next(counter)}Q"
        comments.append(token)
        return f"# {token}"

    key = spec.servers_key[0]
    extras = draw(st.dictionaries(st.sampled_from(YAML_KEYS), YAML_VALUES, max_size=3))
    unmanaged = draw(st.dictionaries(UNMANAGED, _native(spec, SAFE_TEXT), max_size=3))
    if spec.name_in_entry:
        unmanaged = {n: {spec.name_in_entry: n, **e} for n, e in unmanaged.items()}
    members: list[tuple[str, Any]] = list(extras.items())
    if unmanaged or draw(st.booleans(), label="empty servers key"):
        members.insert(draw(st.integers(0, len(members)), label="servers position"), (key, None))
    lines: list[str] = []
    for k, v in members:
        if c := comment("before key"):
            lines.append(c)
        if k == key:
            if not unmanaged:
                lines.append(f"{key}: {'[]' if spec.layout == 'list' else '{}'}")
                continue
            lines.append(f"{key}:")
            for name, entry in unmanaged.items():
                if c := comment("before server"):
                    lines.append("  " + c)
                if spec.layout == "list":
                    item = {spec.name_field or "name": name, **entry}
                    lines += _yaml_block([item], seq_offset, seq_offset)
                else:
                    lines.append(f"  {name}:")
                    lines += _yaml_block(entry, 4, seq_offset)
            continue
        if isinstance(v, dict | list) and v:
            lines.append(f"{k}:")
            lines += _yaml_block(v, seq_offset if isinstance(v, list) else 2, seq_offset)
        else:
            tail = comment("after key")
            lines.append(f"{k}: {_yaml_value_inline(v)}" + (f"  {tail}" if tail else ""))
    text = "\n".join(lines) + "\n"
    return text, extras, unmanaged, comments


@PROPERTY
@given(spec=st.sampled_from(["goose", "continue"]).map(get_client), data=st.data())
def test_yaml_family_keeps_everything_it_does_not_manage(spec: ClientSpec, data: Any) -> None:
    text, extras, unmanaged, comments = data.draw(yaml_files(spec), label="file")
    assert _servers(spec, _yaml_safe(text) or {}) == unmanaged  # the generator is right
    batches = _batches(data.draw, spec, SAFE_TEXT)
    model: dict[str, Any] = {}
    for changes in batches:
        text = apply_changes(spec, text, changes)
        _apply_model(model, changes)
        parsed = _yaml_safe(text) or {}  # a whitespace-only file stays as it is
        assert read_config(spec, text) == parsed
        _check(spec, text, parsed, extras, unmanaged, model, comments)


def test_a_new_continue_file_starts_with_its_header() -> None:
    spec = get_client("continue")
    text = apply_changes(spec, "", {"m": to_native(spec, STDIO)})
    data = _yaml_safe(text)
    assert (data["name"], data["version"], data["schema"]) == ("mcp-orch servers", "0.0.1", "v1")
    assert [s["name"] for s in data["mcpServers"]] == ["m"]
    # an existing file keeps its own top-level keys, and gets no header
    assert "schema" not in _yaml_safe(
        apply_changes(spec, "rules: []\n", {"m": to_native(spec, STDIO)})
    )
