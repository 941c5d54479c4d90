"""Gemini CLI reads what mcp-orch deployed into ~/.gemini/settings.json: ``gemini mcp list``
prints each server's URL and the transport it will use, and connects to it (the MCP handshake)
when the folder is trusted. Gemini disables every server in an untrusted folder, so the sandbox
project is trusted the way the user does it: ``~/.gemini/trustedFolders.json`` (read by
``Storage.getTrustedFoldersPath`` and ``isPathTrusted`` in the bundle)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kit import NAMES, TOKEN, Everything, Sandbox, client_bin, sandbox_open

CLIENT = "gemini-cli"


@dataclass
class Reading:
    sandbox: Sandbox
    listing: dict[str, str]  # name -> the rest of its `gemini mcp list` line
    untrusted: str  # `gemini mcp list` before the folder is trusted
    since: int


@pytest.fixture(scope="module")
def gemini(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    with sandbox_open(tmp_path_factory.mktemp("gemini"), everything) as sb:
        dep = sb.deploy(CLIENT)
        assert Path(dep.path) == sb.home / ".gemini" / "settings.json"
        exe = client_bin("gemini")
        before = sb.run([exe, "mcp", "list"], timeout=120)
        trusted = sb.home / ".gemini" / "trustedFolders.json"
        trusted.write_text(json.dumps({str(sb.project): "TRUST_FOLDER"}), encoding="utf-8")
        since = everything.mark()
        listing: dict[str, str] = {}
        for _attempt in range(3):  # `mcp list` gives each server 5 s: a loaded CI box may miss it
            out = sb.run([exe, "mcp", "list"], timeout=120)
            assert out.returncode == 0, out.stderr
            for line in (out.stdout + out.stderr).splitlines():
                name, sep, rest = line.strip().lstrip("✓✗○ ").partition(": ")
                if sep and name in NAMES.values():
                    listing[name] = rest
            if all(v.endswith("- Connected") for v in listing.values()):
                break
        yield Reading(sb, listing, before.stdout + before.stderr, since)


def test_untrusted_folder_disables_servers(gemini: Reading) -> None:
    assert "untrusted" in gemini.untrusted
    assert "time:" in gemini.untrusted and "Disabled" in gemini.untrusted


def test_stdio(gemini: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    line = gemini.listing["time"]
    assert "-m mcp_server_time" in line and "(stdio)" in line, line
    assert line.endswith("- Connected"), line
    verdict(CLIENT, "stdio", "connected")


def _sent(everything: Everything, path: str, since: int) -> list[dict[str, str]]:
    return everything.headers_for(path, since)


def test_http(gemini: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "http")
    line = gemini.listing["everything-http"]
    assert line.startswith(f"{everything.http_url} (http)"), line
    assert line.endswith("- Connected"), line
    sent = _sent(everything, "/mcp", gemini.since)  # ${ACCEPT_TOKEN} expanded by Gemini
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    verdict(CLIENT, "http", "connected ✓ header expanded")


def test_sse(gemini: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    line = gemini.listing["everything-sse"]
    assert line.startswith(f"{everything.sse_url} (sse)"), line
    assert line.endswith("- Connected"), line
    sent = _sent(everything, "/message", gemini.since)
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)
    verdict(CLIENT, "sse", "connected ✓ header expanded")
