"""Kilo CLI reads what mcp-orch deployed into ~/.config/kilo/kilo.jsonc: ``kilo debug config``
prints the resolved configuration (``{env:NAME}`` substituted) and ``kilo mcp list`` connects
to every server and prints its status. Kilo's ``remote`` type tries streamable HTTP and falls
back to SSE by itself, so an SSE server needs no bridge."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kit import TOKEN, Everything, Sandbox, client_bin, sandbox_open

CLIENT = "kilo-code"


@dataclass
class Reading:
    sandbox: Sandbox
    path: Path
    config: dict[str, dict[str, Any]]  # `kilo debug config` -> mcp
    listing: dict[str, tuple[str, str]]  # name -> (status, detail line) from `kilo mcp list`
    since: int


def _listing(text: str) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", raw) for raw in text.splitlines()]
    for i, line in enumerate(lines):
        m = re.match(r"^[●•]\s+\S+\s+(\S+)\s+(.+?)\s*$", line)
        if m:
            detail = lines[i + 1].strip(" │\t") if i + 1 < len(lines) else ""
            out[m.group(1)] = (m.group(2), detail)
    return out


@pytest.fixture(scope="module")
def kilo(tmp_path_factory: pytest.TempPathFactory, everything: Everything) -> Iterator[Reading]:
    with sandbox_open(tmp_path_factory.mktemp("kilo"), everything) as sb:
        dep = sb.deploy(CLIENT)
        exe = client_bin("kilo")
        cfg = sb.run([exe, "debug", "config"], timeout=120)
        assert cfg.returncode == 0, cfg.stderr
        config = json.loads(cfg.stdout[cfg.stdout.index("{") :]).get("mcp") or {}
        since = everything.mark()
        out = sb.run([exe, "mcp", "list"], timeout=180)
        assert out.returncode == 0, out.stderr
        yield Reading(sb, Path(dep.path), config, _listing(out.stdout + out.stderr), since)


def test_file_is_kilos_global_config(kilo: Reading) -> None:
    assert kilo.path == kilo.sandbox.home / ".config" / "kilo" / "kilo.jsonc"
    assert set(kilo.config) >= {"time", "everything-http", "everything-sse"}, kilo.config


def test_stdio(kilo: Reading, verdict) -> None:
    verdict.cell(CLIENT, "stdio")
    srv = kilo.config["time"]
    assert srv["type"] == "local" and srv["command"][1:3] == ["-m", "mcp_server_time"], srv
    assert srv.get("environment", {}).get("TZ_HINT") == TOKEN, srv
    status, detail = kilo.listing["time"]
    assert status == "connected" and "mcp_server_time" in detail, kilo.listing
    verdict(CLIENT, "stdio", "connected ✓ env expanded")


def _remote(kilo: Reading, everything: Everything, name: str, url: str, path: str) -> None:
    srv = kilo.config[name]
    assert srv["type"] == "remote" and srv["url"] == url, srv
    assert srv.get("headers", {}).get("Authorization") == f"Bearer {TOKEN}", srv
    status, detail = kilo.listing[name]
    assert status == "connected" and detail == url, kilo.listing
    sent = everything.headers_for(path, kilo.since)
    assert sent and all(h.get("authorization") == f"Bearer {TOKEN}" for h in sent)


def test_http(kilo: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "http")
    _remote(kilo, everything, "everything-http", everything.http_url, "/mcp")
    verdict(CLIENT, "http", "connected ✓ header expanded")


def test_sse(kilo: Reading, everything: Everything, verdict) -> None:
    verdict.cell(CLIENT, "sse")
    _remote(kilo, everything, "everything-sse", everything.sse_url, "/message")
    verdict(CLIENT, "sse", "connected ✓ header expanded (Kilo's own SSE fallback)")
