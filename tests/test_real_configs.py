"""Real users' files (issue 12): ``check`` and ``import`` on the fixtures in
tests/data/real_configs/ (one folder per client id; README.md there says what each is modelled
on), and one regression test per false positive the issue lists.

Every fixture checks with no errors (exit 0), imports every server mcp-orch can deploy and names
the others with a reason, and the imported draft validates and publishes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import mcp_orch as mo
from mcp_orch.domain.clients import config_path, get_client
from mcp_orch.frontends.cli import cli
from mcp_orch.services.validation.suite import NO_SERVERS

DATA = Path(__file__).parent / "data" / "real_configs"
FIXTURES = sorted(p for p in DATA.glob("*/*") if p.is_file())

#: fixture -> (the servers import takes, the entries it skips)
IMPORTS: dict[str, tuple[set[str], set[str]]] = {
    "claude-code/project.mcp.json": ({"sentry", "postgres", "api"}, set()),
    "claude-desktop/preferences-only.json": (set(), set()),
    "claude-desktop/servers-and-preferences.json": ({"filesystem", "memory", "time"}, set()),
    "cline/cline_mcp_settings.json": (
        {
            "github.com/modelcontextprotocol/servers/tree/main/src/filesystem",
            "brave-search",
            "remote-tools",
        },
        set(),
    ),
    "codex/mcp-servers.toml": ({"context7", "github", "playwright", "postgres"}, set()),
    "codex/model-and-profiles.toml": (set(), set()),
    "continue/config.yaml": ({"SQLite", "github", "deepwiki"}, set()),
    "continue/models-only.yaml": (set(), set()),
    "cursor/dotted-names.json": (
        {"browser-tools.v2", "mcp.context7.com", "Figma_Dev_Mode", "sequential-thinking"},
        set(),
    ),
    "goose/builtins-and-stdio.yaml": (
        {"github"},
        {"developer", "computercontroller", "memory", "todo", "extensionmanager"},
    ),
    "goose/builtins-only.yaml": (set(), {"developer"}),
    "goose/provider-only.yaml": (set(), set()),
    "goose/remote-extensions.yaml": ({"deepwiki"}, {"developer"}),
    "opencode/opencode.json": ({"context7", "playwright", "sentry", "memory"}, set()),
    "vscode/empty.json": (set(), set()),
    "vscode/gallery.json": (
        {
            "io.github.github/github-mcp-server",
            "io.github.upstash/context7",
            "microsoft/playwright-mcp",
            "fetch",
        },
        set(),
    ),
    "vscode/workspace-inputs.json": ({"github", "filesystem", "app-tools", "legacy-sse"}, set()),
    "zed/context-servers.json": ({"filesystem", "sqlite", "deepwiki"}, {"mcp-server-context7"}),
    "zed/themes-only.json": (set(), set()),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def rel(path: Path) -> str:
    return path.relative_to(DATA).as_posix()


def client_of(path: Path) -> str:
    return path.parent.name


def check_json(path: Path, client: str | None = None, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run("check", "--client", client or client_of(path), str(path), *extra, "--json")
    return result.exit_code, json.loads(result.output)


def import_json(path: Path, profile: str = "default") -> dict[str, Any]:
    client = client_of(path)
    result = run("import", "--client", client, "--profile", profile, "--path", str(path), "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_the_collection_covers_fifteen_files_over_eight_clients() -> None:
    assert len(FIXTURES) >= 15
    assert len({client_of(p) for p in FIXTURES}) >= 8
    assert {rel(p) for p in FIXTURES} == set(IMPORTS)
    readme = (DATA / "README.md").read_text()
    for path in FIXTURES:  # every fixture's provenance is written down
        assert rel(path) in readme


# ---- every fixture ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=rel)
def test_every_real_file_checks_without_errors(path: Path) -> None:
    code, data = check_json(path)
    target = data["targets"][0]
    assert code == 0, target
    assert target["errors"] == [] and "error" not in target
    assert target["servers"] or target["notes"] == [NO_SERVERS]


@pytest.mark.parametrize("path", FIXTURES, ids=rel)
def test_every_real_file_imports_what_can_be_deployed_and_names_the_rest(
    path: Path, ws: mo.Workspace
) -> None:
    imported, skipped = IMPORTS[rel(path)]
    data = import_json(path)
    assert set(data["servers"]) == imported
    assert {s["server"] for s in data["skipped"]} == skipped
    assert all(s["reason"] for s in data["skipped"])
    draft = ws.profile(client_of(path)).draft
    assert set(draft.names) == imported
    if not imported:
        return
    draft.validate()  # the imported draft is valid for its client...
    artifact = draft.publish(changelog="imported")  # ...and publishes
    assert set(artifact.servers) == imported


# ---- the false positives of issue 12, one test each ------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    [
        "codex/model-and-profiles.toml",  # was: 'mcp_servers' is a required property
        "zed/themes-only.json",  # was: 'context_servers' is a required property
        "goose/provider-only.yaml",  # was: 'extensions' is a required property
        "claude-desktop/preferences-only.json",
        "continue/models-only.yaml",
    ],
)
def test_a_file_without_an_mcp_section_is_no_servers_here_not_an_error(fixture: str) -> None:
    code, data = check_json(DATA / fixture)
    target = data["targets"][0]
    assert code == 0
    assert target["errors"] == [] and target["servers"] == []
    assert target["notes"] == [NO_SERVERS]
    text = run("check", "--client", client_of(DATA / fixture), str(DATA / fixture)).output
    assert f"info       {NO_SERVERS}" in text


def test_a_file_without_an_mcp_section_imports_nothing_with_a_note(ws: mo.Workspace) -> None:
    data = import_json(DATA / "codex" / "model-and-profiles.toml")
    assert data["servers"] == [] and data["skipped"] == []
    assert data["notes"] == ["no MCP servers configured here: nothing to import"]
    assert len(ws.profile("codex").draft) == 0


def test_goose_builtin_and_platform_extensions_and_its_own_fields_are_valid() -> None:
    code, data = check_json(DATA / "goose" / "builtins-and-stdio.yaml")
    target = data["targets"][0]
    assert code == 0 and target["errors"] == []
    # display_name, bundled, available_tools are Goose's own: not "unknown" (MCP009)
    assert [w for w in target["warnings"] if w["code"] == "MCP009"] == []
    assert "developer" in target["notes"][0] and "todo" in target["notes"][0]


def test_an_imported_goose_draft_validates_publishes_and_deploys_back(ws: mo.Workspace) -> None:
    source = DATA / "goose" / "builtins-and-stdio.yaml"
    ws.import_client("goose", path=source)
    artifact = ws.profile("goose").draft.publish(changelog="imported from goose")
    assert sorted(artifact.servers) == ["github"]
    target = Path(config_path(get_client("goose"), root=ws.client_root))
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)  # the user's own file, builtins and all
    artifact.deploy(adopt=True)  # the file's own github entry is taken over, as after an import
    code, data = check_json(target, "goose")
    assert code == 0 and data["targets"][0]["errors"] == []
    assert "developer" in target.read_text()  # the builtin extensions are left alone


def test_vscode_gallery_names_and_fields_are_valid() -> None:
    code, data = check_json(DATA / "vscode" / "gallery.json")
    target = data["targets"][0]
    assert code == 0 and target["errors"] == []
    assert "io.github.github/github-mcp-server" in target["servers"]
    assert [w for w in target["warnings"] if w["code"] == "MCP009"] == []  # gallery, version


def test_import_takes_every_gallery_server_not_up_to_the_first(ws: mo.Workspace) -> None:
    data = import_json(DATA / "vscode" / "gallery.json")
    assert len(data["servers"]) == 4 and data["skipped"] == []
    entry = ws.profile("vscode").draft.servers["io.github.upstash/context7"]
    # an ${input:ID} is VS Code asking the user: kept as it is, not moved to ${env:...}
    assert entry["env"] == {"CONTEXT7_API_KEY": "${input:CONTEXT7_API_KEY}"}
    assert data["secrets"] == []


def test_a_name_the_client_cannot_use_is_skipped_with_a_reason(
    tmp_path: Path, ws: mo.Workspace
) -> None:
    path = tmp_path / "mcp.json"
    servers = {
        "good": {"command": "npx", "args": ["-y", "x"]},
        "io.github.acme/tool": {"command": "npx", "args": ["-y", "y"]},  # no "/" in Cursor
        "also-good": {"url": "https://example.com/mcp"},
    }
    path.write_text(json.dumps({"mcpServers": servers}))
    result = ws.import_client("cursor", path=path)
    assert result.servers == ["good", "also-good"]
    assert [s["server"] for s in result.skipped] == ["io.github.acme/tool"]
    assert "name" in result.skipped[0]["reason"]
    assert "skipped 1 entry:" in str(result)


def test_an_import_that_fails_leaves_the_draft_as_it_was(
    ws: mo.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcp_orch.facade import sync

    calls: list[str] = []

    def broken(registry: Any, neutral: dict[str, Any]) -> str | None:
        calls.append("x")
        if len(calls) == 3:
            raise RuntimeError("the catalog went away")
        return None

    monkeypatch.setattr(sync, "_catalog_match", broken)
    with pytest.raises(RuntimeError):
        ws.import_client("vscode", path=DATA / "vscode" / "gallery.json")
    assert len(ws.profile("vscode").draft) == 0  # not the first two of four
    assert ws.audit.query(action="import") == []


def test_a_placeholder_for_a_prompted_value_is_not_a_literal_secret() -> None:
    code, data = check_json(DATA / "vscode" / "gallery.json", None, "--select", "MCP003")
    assert code == 0 and data["targets"][0]["errors"] == []


def test_a_url_starting_with_the_clients_variable_is_valid() -> None:
    code, data = check_json(DATA / "claude-code" / "project.mcp.json", None, "--select", "MCP010")
    assert code == 0 and data["targets"][0]["errors"] == []  # ${API_BASE_URL:-https://...}/mcp


# ---- hints never propose a change that breaks a working file ---------------------------------

GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # a GitHub-shaped token (fake)


def _secret_hint(tmp_path: Path, client: str, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    code, data = check_json(path, client, "--select", "MCP003")
    assert code == 1
    hint: str = data["targets"][0]["errors"][0]["hint"]
    return hint


def test_a_secret_hint_for_a_file_is_in_the_clients_own_syntax(tmp_path: Path) -> None:
    entry = {"command": "npx", "args": ["-y", "s"], "env": {"GITHUB_TOKEN": GHP}}
    text = json.dumps({"mcpServers": {"gh": entry}})
    # Claude Desktop expands no variables: ${env:...} written in its file would break the server
    hint = _secret_hint(tmp_path, "claude-desktop", "claude_desktop_config.json", text)
    assert "${env:" not in hint.split("(")[0] and "import" in hint
    # Claude Code expands ${NAME}, not ${env:NAME}
    hint = _secret_hint(tmp_path, "claude-code", ".mcp.json", text)
    assert "${GITHUB_TOKEN}" in hint and "${env:" not in hint
    # Codex passes variables through env_vars
    toml = f'[mcp_servers.gh]\ncommand = "npx"\nenv = {{ GITHUB_TOKEN = "{GHP}" }}\n'
    hint = _secret_hint(tmp_path, "codex", "config.toml", toml)
    assert "env_vars" in hint and "${" not in hint


def test_every_hint_on_the_real_files_keeps_them_working() -> None:
    for path in FIXTURES:
        _code, data = check_json(path)
        for finding in data["targets"][0]["warnings"] + data["targets"][0]["suggestions"]:
            hint = finding["hint"]
            # no advice to write mcp-orch's own reference syntax into a client's file
            if get_client(client_of(path)).placeholder != "${env:NAME}":
                assert "${env:" not in hint, (rel(path), finding)
            assert not hint.startswith("remove"), (rel(path), finding)
