"""Issue 14, the rest of a catalog that is right at registry scale: the registry's
``deprecated`` and ``deleted`` statuses are kept but hidden from search unless asked, and warned
about when such a server is added; header templates that declare no variable (the 285
``Bearer {smithery_api_key}`` headers of the public data set) are inputs, not literal secrets;
a server with several packages lets the user pick one (``--package``)."""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client

import mcp_orch as mo
from mcp_orch.domain.catalog import iter_docs, validate_doc
from mcp_orch.domain.transport import PLACEHOLDER
from mcp_orch.frontends.cli import cli
from mcp_orch.frontends.mcp_server import build_server

DATA = Path(__file__).parent / "data" / "mcp-registry" / "servers.json.gz"
OFFICIAL = "io.modelcontextprotocol.registry/official"
SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def _record(name: str, status: str, description: str, version: str = "1.0.0") -> dict[str, Any]:
    return {
        "server": {
            "$schema": SCHEMA,
            "name": name,
            "description": description,
            "version": version,
            "packages": [
                {
                    "registryType": "npm",
                    "identifier": name.split("/")[-1],
                    "version": version,
                    "transport": {"type": "stdio"},
                }
            ],
        },
        "_meta": {OFFICIAL: {"status": status, "isLatest": True}},
    }


@pytest.fixture
def statuses(ws: mo.Workspace) -> mo.Registry:
    reg = ws.registry()
    reg.import_server_json(
        [
            _record("io.github.acme/weather-now", "active", "Current weather, maintained"),
            _record("io.github.old/weather-legacy", "deprecated", "Old weather forecasts"),
            _record("io.github.gone/weather-evil", "deleted", "Weather, pulled by the registry"),
        ]
    )
    return mo.Registry(workspace=mo.Workspace(ws.path))  # what is stored, not what is cached


def test_deprecated_and_deleted_are_kept_but_hidden_unless_asked(statuses: mo.Registry) -> None:
    assert statuses.search("weather").ids() == ["weather-now"]
    assert statuses.search("weather", status="deprecated").ids() == ["weather-legacy"]
    assert statuses.search("weather", status="deleted").ids() == ["weather-evil"]
    assert sorted(statuses.search("weather", status="any").ids()) == [
        "weather-evil",
        "weather-legacy",
        "weather-now",
    ]
    assert statuses.get("weather-legacy").status == "deprecated"
    assert statuses.find("time").status == "active"  # a record that says nothing is active
    # a partial query finds the active one; the others only by their exact id or name
    assert statuses.find("weather").id == "weather-now"
    assert statuses.find("io.github.gone/weather-evil").status == "deleted"
    with pytest.raises(mo.UsageError, match="unknown status"):
        statuses.search("weather", status="retired")


def test_adding_a_deprecated_or_deleted_server_warns(
    ws: mo.Workspace, statuses: mo.Registry
) -> None:
    profile = ws.profile("claude-code")
    with pytest.warns(mo.ServerStatusWarning, match="deprecated in the registry"):
        statuses.get("weather-legacy").add_to(profile)
    with pytest.warns(mo.ServerStatusWarning, match="deleted from the registry"):
        statuses.get("weather-evil").add_to(profile)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an active server adds without a word
        statuses.get("weather-now").add_to(profile)
    assert set(profile.draft.names) == {"weather-legacy", "weather-evil", "weather-now"}


def test_the_catalog_browser_shows_them_when_asked_and_warns(
    ws: mo.Workspace, statuses: mo.Registry
) -> None:
    from mcp_orch.frontends.widgets import CatalogBrowser

    browser = CatalogBrowser(statuses, client="cursor")
    browser.search.value = "weather"
    assert [v for _label, v in browser.results.options] == ["weather-now"]
    browser.status.value = "any"
    labels = dict((v, label) for label, v in browser.results.options)
    assert labels["weather-legacy"].endswith("[deprecated]")
    browser.results.value = "weather-legacy"
    browser.add_button.click()
    assert "added weather-legacy" in browser.message.value
    assert "warning: weather-legacy (io.github.old/weather-legacy 1.0.0) is deprecated" in (
        browser.message.value
    )
    assert ws.profile("cursor").draft.names == ["weather-legacy"]


def test_the_cli_and_the_mcp_server_say_it_too(
    ws: mo.Workspace, statuses: mo.Registry, client_root: Path
) -> None:
    base = ["--workspace", str(ws.path), "--client-root", str(client_root)]
    out = CliRunner().invoke(cli, ["list-servers", "-s", "weather", *base])
    assert out.exit_code == 0 and "weather-now" in out.output
    assert "weather-legacy" not in out.output
    out = CliRunner().invoke(cli, ["list-servers", "-s", "weather", "--status", "any", *base])
    assert "[deprecated] Old weather forecasts" in out.output
    assert "[deleted] Weather, pulled" in out.output
    added = CliRunner().invoke(cli, ["add-server", "weather-legacy", "-c", "claude-code", *base])
    assert added.exit_code == 0, added.output
    assert "warning: weather-legacy (io.github.old/weather-legacy 1.0.0) is deprecated" in (
        added.stderr
    )
    as_json = CliRunner().invoke(
        cli, ["add-server", "weather-evil", "-c", "claude-code", "--json", *base]
    )
    assert "deleted from the registry" in json.loads(as_json.stdout)["warnings"][0]

    async def calls() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with Client(build_server(mo.Workspace(ws.path))) as c:
            hidden = await c.call_tool("list_available_servers", {"search": "weather"})
            every = await c.call_tool(
                "list_available_servers", {"search": "weather", "status": "any"}
            )
            add = await c.call_tool(
                "add_server_to_config",
                {"client_id": "claude-code", "server_id": "weather-legacy", "replace": True},
            )
            return hidden.structured_content, every.structured_content, add.structured_content

    hidden, every, add = anyio.run(calls)
    assert [s["id"] for s in hidden["servers"]] == ["weather-now"]
    assert {s["id"]: s["status"] for s in every["servers"]}["weather-evil"] == "deleted"
    assert "deprecated in the registry" in add["warnings"][0]


def _undeclared_template_records() -> list[dict[str, Any]]:
    """Valid records of the public data set whose headers hold a ``{placeholder}`` they do
    not declare as a variable; the newest version of each name."""
    best: dict[str, dict[str, Any]] = {}
    for doc in iter_docs(json.loads(gzip.decompress(DATA.read_bytes()))):
        try:
            validate_doc(doc, "record")
        except mo.MCPOrchError:
            continue
        for remote in doc.get("remotes") or []:
            for h in remote.get("headers") or []:
                declared = set(h.get("variables") or {})
                if set(PLACEHOLDER.findall(str(h.get("value") or ""))) - declared:
                    best[doc["name"]] = doc
    return sorted(best.values(), key=lambda d: d["name"])


def test_a_header_template_without_variables_is_an_input_not_a_secret(ws: mo.Workspace) -> None:
    records = _undeclared_template_records()
    assert len(records) >= 80, len(records)  # the issue counted 87 servers
    view = ws.registry().import_server_json(records)
    assert view.counts["rejected"] == 0
    profile = ws.profile("claude-code")
    refused = []
    for server in view:  # rendered for a client that cannot expand variables in headers too
        try:
            server.render("claude-desktop")
        except mo.MCPOrchError as exc:
            refused.append((server.name, exc.message))
    # one in three added (each add checks the draft against the whole catalog)
    full = [s for s in view if "/" in s.id]
    for server in [*view[::3], *full]:
        try:
            server.add_to(profile, replace=True)
        except mo.MCPOrchError as exc:  # the issue: every one was a "literal secret"
            refused.append((server.name, exc.message))
    assert refused == []
    # a server whose id is its registry name (its short id was taken) gets the name's tail
    assert full and all(s.id.rsplit("/", 1)[1] in profile.draft.names for s in full)
    # also through the CLI, which shows the entry it added
    stored = next(s for s in mo.Registry(workspace=mo.Workspace(ws.path)) if "/" in s.id)
    tail = stored.id.rsplit("/", 1)[1]
    out = CliRunner().invoke(
        cli, ["add-server", stored.id, "-c", "cursor", "--workspace", str(ws.path), "--json"]
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["added"] == tail
    smithery = ws.registry().find("ai.smithery/arjunkmrm-perplexity-search")
    entry = smithery.add_to(profile, replace=True).servers[smithery.id]
    assert entry["headers"] == {"Authorization": "Bearer ${env:SMITHERY_API_KEY}"}
    row = {i["name"]: i for i in smithery.inputs()}["smithery_api_key"]
    assert row["required"] and row["secret"]
    report = profile.draft.check()
    assert not [f for f in report.findings if f.code == "MCP003"], report
    # a literal value for it is still refused: it is a secret
    with pytest.raises(mo.InvalidConfig, match="smithery_api_key is marked secret"):
        smithery.add_to(profile, params={"smithery_api_key": "sk-live-1234"}, replace=True)


def test_the_user_picks_one_of_several_packages(ws: mo.Workspace, client_root: Path) -> None:
    reg = ws.registry()
    airtable = reg.get("airtable")
    assert [p["registryType"] for p in airtable.packages] == ["npm", "oci"]
    profile = ws.profile("claude-code")
    assert airtable.add_to(profile).servers["airtable"]["command"] == "npx"
    for choice in ("oci", "2", "docker.io/domdomegg/airtable-mcp-server"):
        entry = airtable.add_to(profile, replace=True, package=choice).servers["airtable"]
        assert entry["command"] == "docker", choice
        assert entry["args"][-1] == "docker.io/domdomegg/airtable-mcp-server:1.14.0"
    # the choice stays when the version moves (upgrade renders the entry again)
    profile.draft.set_version("airtable", "1.13.0")
    assert profile.draft.servers["airtable"]["args"][-1].endswith("airtable-mcp-server:1.13.0")
    # an exact identifier wins over the image's short name
    npm = airtable.add_to(profile, replace=True, package="airtable-mcp-server")
    assert npm.servers["airtable"]["args"] == ["-y", "airtable-mcp-server@1.14.0"]
    with pytest.raises(mo.UsageError, match="no runnable package matches 'pypi'") as err:
        airtable.add_to(profile, replace=True, package="pypi")
    assert "1: npm airtable-mcp-server, 2: oci docker.io/" in err.value.hint
    base = ["--workspace", str(ws.path), "--client-root", str(client_root)]
    out = CliRunner().invoke(
        cli, ["add-server", "airtable", "-c", "cursor", "--package", "oci", *base]
    )
    assert out.exit_code == 0 and '"command": "docker"' in out.output, out.output
    out = CliRunner().invoke(
        cli,
        [
            "add-server",
            "stripe",
            "-c",
            "cursor",
            "--package",
            "npm",
            "--transport",
            "remote",
            *base,
        ],
    )
    assert out.exit_code == 2 and "exclude each other" in out.output


def test_a_refused_add_prints_its_hint_once(ws: mo.Workspace, client_root: Path) -> None:
    base = ["--workspace", str(ws.path), "--client-root", str(client_root)]
    out = CliRunner().invoke(
        cli,
        [
            "add-server",
            "stripe",
            "-c",
            "cursor",
            "--env",
            "STRIPE_SECRET_KEY=sk_live_" + "a" * 24,
            *base,
        ],
    )
    assert out.exit_code == 1, out.output
    assert "MCP003" in out.stderr  # the report is shown, with its finding's hint
    hint_lines = [line for line in out.stderr.splitlines() if "hint:" in line]
    assert len(hint_lines) == 1, out.stderr
    assert out.stderr.splitlines()[-1].startswith("hint: ")  # the hint ends the message
