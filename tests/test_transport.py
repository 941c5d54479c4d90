"""Rendering catalog servers into client entries (mcp_orch/transport.py and ``Server.render``).

Covers npx / uvx / docker / dnx packages from the bundled catalog and the official examples,
``{placeholders}`` filled from params then defaults (an unfilled required one stays visible for
rule MCP002), remote servers (URL variables, header value templates, optional headers left
out), the ``mcp-remote`` bridge for clients without native remote support (Claude Desktop)
versus native url + headers (Cursor, VS Code), ``transport=`` selection, and the packages that
cannot be run from a config entry (mcpb).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import mcp_orch as mo
from mcp_orch.domain.pins import MCP_REMOTE_VERSION
from mcp_orch.domain.transport import choose, render_server, unfilled

EXAMPLES = Path("/work/shared/data/mcp-registry/docs/reference/server-json/examples/valid")
SEED = Path("/work/shared/data/mcp-registry/data/seed.json")
needs_registry_data = pytest.mark.skipif(
    not EXAMPLES.is_dir() or not SEED.is_file(), reason="MCP Registry copy not available"
)

GITHUB_URL = "https://api.githubcopilot.com/mcp/"
# Packages render pinned at the catalog's version (profile setting pin = "exact", the default).
FILESYSTEM = "@modelcontextprotocol/server-filesystem@2026.8.31"
GIT = "mcp-server-git@2026.10.19"
TIME = "mcp-server-time@2026.10.19"
BRIDGE = f"mcp-remote@{MCP_REMOTE_VERSION}"


def _remote_doc(remote: dict[str, Any]) -> dict[str, Any]:
    return {"name": "io.github.example/remote", "version": "1.0.0", "remotes": [remote]}


def _package_doc(pkg: dict[str, Any]) -> dict[str, Any]:
    base = {"registryType": "npm", "identifier": "@example/pkg", "transport": {"type": "stdio"}}
    return {"name": "io.github.example/pkg", "version": "1.0.0", "packages": [{**base, **pkg}]}


# -- packages ------------------------------------------------------------------------------------


def test_filesystem_npx_with_allowed_directory(registry: mo.Registry) -> None:
    fs = registry.get("filesystem")
    entry = fs.render("cursor", params={"allowed_directory": "/data"})
    assert entry == {
        "command": "npx",
        "args": ["-y", FILESYSTEM, "/data"],
    }


def test_filesystem_repeated_positional(registry: mo.Registry) -> None:
    entry = registry.get("filesystem").render(
        "claude-desktop", params={"allowed_directory": ["/a", "/b c"]}
    )
    assert entry["args"] == ["-y", FILESYSTEM, "/a", "/b c"]


def test_unfilled_required_positional_stays_as_hint(registry: mo.Registry) -> None:
    entry = registry.get("filesystem").render("cursor")
    assert entry["args"][-1] == "{allowed_directory}"
    assert unfilled(entry) == ["allowed_directory"]


@pytest.mark.parametrize("key", ["repo_path", "repository"])
def test_git_uvx_named_argument(registry: mo.Registry, key: str) -> None:
    entry = registry.get("git").render("cursor", params={key: "/src/project"})
    assert entry == {"command": "uvx", "args": [GIT, "--repository=/src/project"]}


def test_git_optional_named_argument_left_out(registry: mo.Registry) -> None:
    assert registry.get("git").render("cursor") == {"command": "uvx", "args": [GIT]}


@pytest.mark.parametrize("key", ["local_timezone", "local-timezone", "timezone"])
def test_time_with_local_timezone(registry: mo.Registry, key: str) -> None:
    entry = registry.get("time").render("cursor", params={key: "Europe/Paris"})
    assert entry == {
        "command": "uvx",
        "args": [TIME, "--local-timezone=Europe/Paris"],
    }


def test_github_docker_signs_in_with_oauth_or_takes_a_token(registry: mo.Registry) -> None:
    entry = registry.get("github").render("claude-desktop")
    assert entry["command"] == "docker"
    args = entry["args"]
    assert args[:3] == ["run", "-i", "--rm"]
    assert args[args.index("-p") + 1] == "127.0.0.1:8085:8085"  # the OAuth login callback
    forwarded = [args[i + 1] for i, a in enumerate(args) if a == "-e"]
    assert forwarded == ["GITHUB_OAUTH_CALLBACK_PORT=8085", "GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert args[-1] == "ghcr.io/github/github-mcp-server:1.11.0"
    # the token is optional (OAuth on first use): without a value it is left out
    assert not entry.get("env")
    given = registry.get("github").render(
        "claude-desktop", env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GH_PAT}"}
    )
    assert given["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GH_PAT}"}


def test_docker_with_required_secret_env_reference(registry: mo.Registry) -> None:
    entry = registry.get("airtable").render("claude-desktop", package="oci")
    assert entry["command"] == "docker"
    args = entry["args"]
    assert args[:3] == ["run", "-i", "--rm"]
    assert args[args.index("-e") + 1] == "AIRTABLE_API_KEY"
    assert args[-1] == "docker.io/domdomegg/airtable-mcp-server:1.14.0"
    assert entry["env"] == {"AIRTABLE_API_KEY": "${env:AIRTABLE_API_KEY}"}


def test_github_env_given_by_the_user_wins(registry: mo.Registry) -> None:
    entry = registry.get("github").render(
        "cursor", env={"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"}
    )
    assert entry["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_TOKEN}"}


def test_extra_env_is_kept(registry: mo.Registry) -> None:
    entry = registry.get("time").render("cursor", env={"TZ": "UTC"})
    assert entry["env"] == {"TZ": "UTC"}


def test_env_default_from_the_catalog(registry: mo.Registry) -> None:
    entry = registry.get("sequential-thinking").render("cursor")
    assert entry["env"] == {"DISABLE_THOUGHT_LOGGING": "false"}
    entry = registry.get("sequential-thinking").render(
        "cursor", env={"DISABLE_THOUGHT_LOGGING": "true"}
    )
    assert entry["env"] == {"DISABLE_THOUGHT_LOGGING": "true"}


def test_placeholder_params_then_defaults() -> None:
    doc = _package_doc(
        {
            "packageArguments": [
                {
                    "type": "named",
                    "name": "--tools",
                    "isRequired": True,
                    "valueHint": "tools",
                    "default": "all",
                },
                {"type": "named", "name": "--account", "valueHint": "account_id"},
            ]
        }
    )
    assert render_server(doc).entry["args"][-1] == "--tools=all"  # the default
    args = render_server(doc, params={"tools": "customers.read"}).entry["args"]
    assert "--tools=customers.read" in args and "--tools=all" not in args
    args = render_server(doc, params={"account_id": "acct_123"}).entry["args"]
    assert args[-2:] == ["--tools=all", "--account=acct_123"]


def test_stripe_takes_no_tools_flag(registry: mo.Registry) -> None:
    # @stripe/mcp 0.3.3 removed --tools (a restricted key decides the tools)
    stripe = registry.get("stripe")
    args = stripe.render("cursor")["args"]
    assert args == ["-y", "@stripe/mcp@0.3.3"]
    assert not any(a.startswith("--tools") for a in args)
    args = stripe.render("cursor", params={"account_id": "acct_123"})["args"]
    assert args[-1] == "--stripe-account=acct_123"


def test_docker_without_runtime_arguments_passes_env_names() -> None:
    doc = _package_doc(
        {
            "registryType": "oci",
            "identifier": "docker.io/example/server:1.0",
            "runtimeHint": "docker",
            "environmentVariables": [{"name": "API_KEY", "isRequired": True, "isSecret": True}],
        }
    )
    entry = render_server(doc).entry
    assert entry["command"] == "docker"
    assert entry["args"] == ["run", "-i", "--rm", "-e", "API_KEY", "docker.io/example/server:1.0"]
    assert entry["env"] == {"API_KEY": "${env:API_KEY}"}


def test_required_named_argument_without_value_stays_visible() -> None:
    doc = _package_doc(
        {
            "packageArguments": [
                {
                    "type": "named",
                    "name": "--token-file",
                    "isRequired": True,
                    "valueHint": "token_file",
                }
            ]
        }
    )
    rendered = render_server(doc)
    assert rendered.entry["args"] == ["-y", "@example/pkg", "--token-file={token_file}"]
    assert unfilled(rendered.entry) == ["token_file"]
    filled = render_server(doc, params={"token_file": "/t"})
    assert filled.entry["args"][-1] == "--token-file=/t"


def test_required_non_secret_env_without_value_is_reported_missing() -> None:
    doc = _package_doc({"environmentVariables": [{"name": "BASE_URL", "isRequired": True}]})
    rendered = render_server(doc)
    assert "BASE_URL" not in rendered.entry["env"]
    assert rendered.missing_env == ["BASE_URL"]


@needs_registry_data
def test_official_examples_render() -> None:
    with_package = json.loads((EXAMPLES / "with-package.json").read_text())
    entry = render_server(with_package, params={"config_path": "/etc/w.json"}).entry
    assert entry["args"] == [
        "-y",
        "@modelcontextprotocol/server-weather@1.0.0",  # the package's "version"
        "/etc/w.json",
        "--port=8080",
    ]
    assert entry["env"] == {"API_KEY": "${env:API_KEY}"}


@needs_registry_data
def test_seed_packages_nuget_and_pypi() -> None:
    seed = {d["name"]: d for d in json.loads(SEED.read_text())}
    nuget = render_server(seed["io.github.domdomegg/time-mcp-nuget"]).entry
    assert nuget["command"] == "dnx"
    assert nuget["args"][0] == "TimeMcpServer@1.0.8"
    pypi = render_server(seed["io.github.domdomegg/time-mcp-pypi"]).entry
    assert pypi == {
        "transport": "stdio",
        "command": "uvx",
        "args": ["time-mcp-pypi@1.0.6"],
        "env": {},
    }


def test_windows_wraps_shims_for_clients_that_need_it(registry: mo.Registry) -> None:
    time = registry.get("time")
    assert time.render("claude-desktop", target_os="windows") == {
        "command": "cmd",
        "args": ["/c", "uvx", TIME],
    }
    assert time.render("vscode", target_os="windows")["command"] == "uvx"
    assert time.render("claude-desktop", target_os="linux")["command"] == "uvx"


# -- remotes -------------------------------------------------------------------------------------


def test_remote_header_template_becomes_env_reference() -> None:
    doc = _remote_doc(
        {
            "type": "streamable-http",
            "url": GITHUB_URL,
            "headers": [
                {
                    "name": "Authorization",
                    "isRequired": True,
                    "isSecret": True,
                    "value": "Bearer {github_token}",
                    "variables": {"github_token": {"isRequired": True, "isSecret": True}},
                }
            ],
        }
    )
    entry = render_server(doc).entry
    assert entry["url"] == GITHUB_URL
    assert entry["headers"] == {"Authorization": "Bearer ${env:GITHUB_TOKEN}"}


def test_github_remote_signs_in_with_oauth_without_a_token(registry: mo.Registry) -> None:
    # the token header is optional: without it the client signs in with OAuth
    assert registry.get("github").oauth
    assert registry.get("github").render("cursor", transport="remote") == {"url": GITHUB_URL}


def test_remote_header_variable_from_params(registry: mo.Registry) -> None:
    entry = registry.get("github").render(
        "cursor", transport="remote", params={"github_token": "${env:MY_GH}"}
    )
    assert entry["headers"] == {"Authorization": "Bearer ${env:MY_GH}"}


def test_optional_header_left_out_without_its_variable(registry: mo.Registry) -> None:
    for server_id in ("stripe", "huggingface"):
        entry = registry.get(server_id).render("cursor", transport="remote")
        assert "headers" not in entry, server_id
        assert not unfilled(entry)
    entry = registry.get("stripe").render(
        "cursor", transport="remote", params={"stripe_api_key": "${env:STRIPE_KEY}"}
    )
    assert entry == {
        "url": "https://mcp.stripe.com",
        "headers": {"Authorization": "Bearer ${env:STRIPE_KEY}"},
    }


def test_header_given_directly(registry: mo.Registry) -> None:
    entry = registry.get("context7").render(
        "cursor", transport="remote", headers={"CONTEXT7_API_KEY": "${env:C7}"}
    )
    assert entry["headers"] == {"CONTEXT7_API_KEY": "${env:C7}"}


@needs_registry_data
def test_url_variables_params_then_defaults() -> None:
    doc = json.loads((EXAMPLES / "with-remote.json").read_text())
    assert render_server(doc).entry["url"] == "https://api.example.com/mcp"
    entry = render_server(doc, params={"host": "eu.example.com"}).entry
    assert entry["url"] == "https://eu.example.com/mcp"
    # a required secret header without a value template becomes a reference, never a literal
    assert entry["headers"]["Authorization"].startswith("${env:")


def test_url_variable_without_value_stays_visible() -> None:
    doc = _remote_doc(
        {
            "type": "streamable-http",
            "url": "https://{tenant}.example.com/mcp",
            "variables": {"tenant": {"description": "your tenant", "isRequired": True}},
        }
    )
    entry = render_server(doc).entry
    assert entry["url"] == "https://{tenant}.example.com/mcp"
    assert unfilled(entry) == ["tenant"]
    assert (
        render_server(doc, params={"tenant": "acme"}).entry["url"] == "https://acme.example.com/mcp"
    )


def test_env_references_are_not_placeholders() -> None:
    assert unfilled("Bearer ${env:TOKEN}") == []
    assert unfilled({"a": ["{x}", "${env:Y}"]}) == ["x"]


def test_claude_desktop_gets_the_mcp_remote_bridge(registry: mo.Registry) -> None:
    entry = registry.get("github").render(
        "claude-desktop", transport="remote", params={"github_token": "${env:GITHUB_TOKEN}"}
    )
    assert entry["command"] == "npx"
    assert entry["args"] == [
        "-y",
        BRIDGE,
        GITHUB_URL,
        "--header",
        "Authorization:${AUTH_HEADER}",
    ]
    assert entry["env"] == {"AUTH_HEADER": "Bearer ${env:GITHUB_TOKEN}"}
    assert "url" not in entry


def test_mcp_remote_bridge_for_sse(registry: mo.Registry) -> None:
    entry = registry.get("linear").render("claude-desktop", transport="sse")
    assert entry["args"] == [
        "-y",
        BRIDGE,
        "https://mcp.linear.app/sse",
        "--transport",
        "sse-only",
    ]
    assert "env" not in entry or entry["env"] == {}


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("cursor", {"url": GITHUB_URL, "headers": {"Authorization": "Bearer ${env:GITHUB_TOKEN}"}}),
        (
            "vscode",
            {
                "type": "http",
                "url": GITHUB_URL,
                "headers": {"Authorization": "Bearer ${env:GITHUB_TOKEN}"},
            },
        ),
        (
            "windsurf",
            {"serverUrl": GITHUB_URL, "headers": {"Authorization": "Bearer ${env:GITHUB_TOKEN}"}},
        ),
    ],
)
def test_native_remote_clients(
    registry: mo.Registry, client: str, expected: dict[str, Any]
) -> None:
    token = {"github_token": "${env:GITHUB_TOKEN}"}
    assert registry.get("github").render(client, transport="remote", params=token) == expected


# -- transport selection -------------------------------------------------------------------------


def test_default_is_the_first_runnable_package(registry: mo.Registry) -> None:
    assert registry.get("github").render("cursor")["command"] == "docker"
    assert choose(registry.get("github").doc) == ("package", 0)


@pytest.mark.parametrize("transport", ["remote", "streamable-http"])
def test_choose_a_remote_transport(registry: mo.Registry, transport: str) -> None:
    assert registry.get("github").render("cursor", transport=transport)["url"] == GITHUB_URL


def test_choose_stdio_explicitly(registry: mo.Registry) -> None:
    assert registry.get("github").render("cursor", transport="stdio")["command"] == "docker"


def test_choose_sse_among_several_remotes(registry: mo.Registry) -> None:
    linear = registry.get("linear")
    assert linear.render("cursor")["url"] == "https://mcp.linear.app/mcp"
    assert linear.render("cursor", transport="sse")["url"] == "https://mcp.linear.app/sse"


def test_remote_only_server_renders_its_remote_by_default(registry: mo.Registry) -> None:
    assert registry.get("vercel").render("cursor")["url"].startswith("https://")


@pytest.mark.parametrize(
    ("server_id", "transport", "offered"),
    [
        ("github", "sse", "stdio"),
        ("time", "remote", "stdio"),
        ("time", "streamable-http", "stdio"),
        ("vercel", "stdio", "streamable-http"),
    ],
)
def test_missing_transport_is_a_usage_error(
    registry: mo.Registry, server_id: str, transport: str, offered: str
) -> None:
    with pytest.raises(mo.UsageError) as info:
        registry.get(server_id).render("cursor", transport=transport)
    assert transport in info.value.message
    assert offered in info.value.hint


@needs_registry_data
def test_mcpb_only_package_is_a_usage_error() -> None:
    airtable = next(
        d for d in json.loads(SEED.read_text()) if d["name"].endswith("airtable-mcp-server")
    )
    mcpb = [p for p in airtable["packages"] if p["registryType"] == "mcpb"]
    assert mcpb
    doc = copy.deepcopy(airtable)
    doc["packages"] = mcpb
    with pytest.raises(mo.UsageError) as info:
        render_server(doc)
    assert info.value.hint
    with pytest.raises(mo.UsageError):
        render_server(doc, transport="stdio")
    # with the npm package still there, the runnable package is chosen
    assert render_server(airtable).entry["command"] == "npx"


def test_mcpb_package_among_runnable_ones_is_skipped() -> None:
    doc = {
        "name": "io.github.example/mixed",
        "version": "1.0.0",
        "packages": [
            {
                "registryType": "mcpb",
                "identifier": "https://example.com/x.mcpb",
                "fileSha256": "0" * 64,
                "transport": {"type": "stdio"},
            },
            {"registryType": "pypi", "identifier": "example-mcp", "transport": {"type": "stdio"}},
        ],
    }
    rendered = render_server(doc)
    assert rendered.index == 1
    assert rendered.entry["command"] == "uvx"


def test_render_does_not_touch_any_draft(ws: mo.Workspace, registry: mo.Registry) -> None:
    registry.get("time").render("cursor")
    assert len(ws.profile("cursor").draft) == 0
    assert not (ws.path / "drafts").exists()
