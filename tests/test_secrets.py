"""The secret scanner (mcp_orch/domain/secrets.py) beyond token formats: passwords in connection
URLs, secret options (``--api-key=VALUE``, ``--access-token VALUE``), secret headers inside
arguments (mcp-remote's ``--header "Authorization: Bearer X"``), as rule MCP003 reports them;
and the free-text check that keeps secrets out of changelogs, names and descriptions.

Secret-shaped values are assembled at run time so this file holds no credential-shaped literal.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mcp_orch.core.errors import UsageError
from mcp_orch.domain.secrets import (
    field_findings,
    mask_secrets,
    refuse_secret_text,
    scan_entry,
    scan_field,
    secret_in_text,
)
from mcp_orch.services.validation import check_payload

PW = "pw" + "9Xq2"  # a short password: no token shape, only its place says it is secret
KEY = "abc123" + "def456ghi"  # an API key with no known prefix
LIVE = "sk-" + "live-" + "7Hq2Lm9"  # short: not long enough for the OpenAI key pattern
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2


def _mcp003(entry: dict[str, Any], name: str = "svc") -> list[str]:
    """The fields MCP003 reports for one cursor entry (the report never holds ``PW`` etc.)."""
    report = check_payload("cursor", {"mcpServers": {name: entry}}, select=["MCP003"])
    text = str(report) + json.dumps(report.to_dict())
    for secret in (PW, KEY, LIVE, GHP):
        assert secret not in text
    return sorted(f.field for f in report.errors)


# ---- passwords in connection URLs --------------------------------------------------------------


def test_a_password_in_a_url_argument_is_mcp003() -> None:
    entry = {"command": "npx", "args": ["-y", "server-postgres", f"postgres://user:{PW}@host/db"]}
    assert _mcp003(entry) == ["args[2]"]
    hit = scan_entry(entry, server="pg")[0]
    assert hit.kind == "url-password"
    assert hit.env_name == "POSTGRES_PASSWORD"
    assert hit.replacement == "postgres://user:${env:POSTGRES_PASSWORD}@host/db"


def test_a_password_in_a_url_env_value_is_mcp003() -> None:
    entry = {"command": "uvx", "args": ["mcp-pg"], "env": {"DATABASE_URL": f"postgres://u:{PW}@h"}}
    assert _mcp003(entry) == ["env.DATABASE_URL"]
    hit = scan_entry(entry)[0]
    # an env value moves whole to its own variable (the naming rule of env fields)
    assert (hit.env_name, hit.replacement) == ("DATABASE_URL", "${env:DATABASE_URL}")


def test_a_password_in_a_remote_url_and_a_header_url() -> None:
    assert _mcp003({"url": f"https://me:{PW}@mcp.example.com/mcp"}) == ["url"]
    hit = scan_entry({"url": f"https://me:{PW}@mcp.example.com/mcp"}, server="wx")[0]
    assert hit.env_name == "WX_PASSWORD"


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user@host/db",  # no password
        "https://mcp.example.com:8443/mcp",
        "postgres://user:${env:PG_PASSWORD}@host/db",
        "postgres://user:{password}@host/db",  # an unfilled catalog placeholder
        "postgresql://user:password@localhost:5432/dbname",  # the documentation's example
        "redis://:@localhost:6379",
    ],
)
def test_urls_without_a_literal_password_pass(url: str) -> None:
    assert _mcp003({"command": "npx", "args": [url], "env": {"URL": url}}) == []


# ---- secret options ----------------------------------------------------------------------------


def test_an_api_key_option_is_mcp003() -> None:
    entry = {"command": "npx", "args": ["-y", "weather-mcp", f"--api-key={KEY}"]}
    assert _mcp003(entry, "weather") == ["args[2]"]
    hit = scan_entry(entry, server="weather")[0]
    assert hit.replacement == "--api-key=${env:WEATHER_API_KEY}"
    assert "export WEATHER_API_KEY=" in hit.suggestion


@pytest.mark.parametrize("option", ["--token", "--password", "--secret", "--github-token"])
def test_other_secret_options_with_equals(option: str) -> None:
    assert _mcp003({"command": "x", "args": [f"{option}={KEY}"]}) == ["args[0]"]


def test_a_secret_option_followed_by_its_value_is_mcp003() -> None:
    entry = {"command": "x", "args": ["--access-token", KEY, "--verbose"]}
    assert _mcp003(entry) == ["args[1]"]
    assert scan_entry(entry, server="api")[0].replacement == "${env:API_ACCESS_TOKEN}"


@pytest.mark.parametrize(
    "args",
    [
        ["--api-key=${env:API_KEY}"],
        ["--api-key=${input:api_key}"],
        ["--api-key={api_key}"],
        ["--api-key="],
        ["--access-token", "${env:TOKEN}"],
        ["--token-file=/run/secrets/token"],
        ["--max-token=4096"],
        ["--password", "--verbose"],
    ],
)
def test_secret_options_holding_references_or_nothing_pass(args: list[str]) -> None:
    assert _mcp003({"command": "x", "args": args}) == []


def test_a_known_token_after_an_option_keeps_its_usual_name() -> None:
    entry = {"command": "x", "args": ["serve", "--token", GHP]}
    hit = scan_entry(entry, server="gh")[0]
    assert (hit.field, hit.kind, hit.env_name) == ("args[2]", "github-token", "GITHUB_TOKEN")


# ---- secret headers inside arguments (mcp-remote) ----------------------------------------------


def test_a_bearer_header_argument_of_mcp_remote_is_mcp003() -> None:
    args = ["-y", "mcp-remote", "https://x.example.com/mcp", "--header"]
    entry = {"command": "npx", "args": [*args, f"Authorization: Bearer {LIVE}"]}
    assert _mcp003(entry, "remote") == ["args[4]"]
    hit = scan_entry(entry, server="remote")[0]
    assert hit.replacement == "Authorization: Bearer ${env:REMOTE_TOKEN}"


def test_an_api_key_header_argument_is_mcp003() -> None:
    entry = {
        "command": "npx",
        "args": ["-y", "mcp-remote", "https://x/mcp", f"--header=X-Api-Key: {KEY}"],
    }
    assert _mcp003(entry) == ["args[3]"]


@pytest.mark.parametrize(
    "header",
    [
        "Authorization:${AUTH}",  # what mcp-orch itself writes for the bridge
        "Authorization: Bearer ${AUTH_TOKEN}",
        "Authorization: Bearer ${env:AUTH_TOKEN}",
        "Accept: application/json",
        "Authorization:",
    ],
)
def test_header_arguments_with_references_pass(header: str) -> None:
    entry = {"command": "npx", "args": ["-y", "mcp-remote", "https://x/mcp", "--header", header]}
    assert _mcp003(entry) == []


def test_a_literal_authorization_header_value_is_mcp003() -> None:
    assert _mcp003({"url": "https://x/mcp", "headers": {"Authorization": f"Bearer {PW}"}}) == [
        "headers.Authorization"
    ]
    assert _mcp003({"url": "https://x/mcp", "headers": {"Authorization": "Bearer ${env:T}"}}) == []


def test_scan_field_is_what_import_uses() -> None:
    [found] = scan_field("args[0]", f"--api-key={KEY}")
    assert found.kind == "secret-option" and KEY not in found.masked
    assert field_findings("args[1]", KEY, "--api-key")[0].kind == "secret-option"


# ---- masking for display -----------------------------------------------------------------------


def test_mask_secrets_masks_every_flagged_part_and_nothing_else() -> None:
    entry = {
        "command": "npx",
        "args": [
            "-y",
            "mcp-remote",
            "https://x.example.com/mcp",
            "--header",
            f"Authorization: Bearer {LIVE}",
            f"postgres://app:{PW}@db/app",
            "--access-token",
            KEY,
        ],
        "env": {"GITHUB_TOKEN": GHP, "LOG": "debug", "REF": "${env:X}"},
    }
    shown = mask_secrets(entry)
    text = json.dumps(shown)
    for secret in (PW, KEY, LIVE, GHP):
        assert secret not in text
    assert shown["args"][:4] == entry["args"][:4]
    assert shown["args"][4].startswith("Authorization: Bearer sk-l")
    assert shown["args"][5] == "postgres://app:****@db/app"
    assert shown["env"]["LOG"] == "debug" and shown["env"]["REF"] == "${env:X}"
    assert entry["args"][7] == KEY  # a copy: the entry itself is unchanged


# ---- free text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"rotate the token: {GHP}",
        "key " + "AKIA" + "IOSFODNN7EXAMPLE",
        "Bearer " + "Zk3Lm8Np2Qr7St1Uv6Wx",
        f"db is postgres://app:{PW}@db.internal/app",
        f"set password={PW}",
        f"run with --api-key={KEY}",
        "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N_XgL0",
        "Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hf3Jg5Ws0",
    ],
)
def test_secret_in_text_finds_a_secret_and_never_echoes_it(text: str) -> None:
    found = secret_in_text(text)
    assert found
    assert all(len(w) < 6 or w not in found for w in text.split())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "add github and time",
        "rotate token: see the runbook",
        "use ${env:GITHUB_TOKEN} instead of a literal",
        "bump ghcr.io/github/github-mcp-server:sha-1a2b3c4d5e6f",
        "revert to sha256:0afe1234567890abcdef1234567890abcdef1234567890abcdef1234567890ab",
        "fix ValidationReport.raise_for_errors for MCP003 (postgresql://user:password@host/db)",
        "update @modelcontextprotocol/server-filesystem to 2025.8.21",
        "password=<the new one>, token=${env:T}",
    ],
)
def test_secret_in_text_leaves_ordinary_text_alone(text: str) -> None:
    assert secret_in_text(text) is None


def test_refuse_secret_text_names_the_field_and_not_the_value() -> None:
    with pytest.raises(UsageError) as info:
        refuse_secret_text(f"add github ({GHP})", "changelog")
    exc = info.value
    assert GHP not in str(exc) and GHP[:10] not in str(exc)
    assert "changelog" in exc.message and "GitHub token" in exc.message
    assert exc.hint == (
        "remove the token from the changelog: the changelog is signed and kept in the "
        "append-only audit log forever"
    )
    assert exc.inputs == ("changelog",)
    refuse_secret_text("add github", "changelog")  # clean text passes
