"""Validation rules MCP001..MCP011 (mcp_orch/validation/rules.py), rule selection, the
ValidationReport (ok / errors / warnings / suggestions / to_dict / frame / str) and the
literal-secret scanner (mcp_orch/secrets.py).

Each rule has one payload (or subject) that trips it and one that does not. Token-shaped test
values are assembled at run time so this file holds no credential-shaped literal.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import mcp_orch as mo
from mcp_orch.domain.clients import from_native, get_client
from mcp_orch.domain.secrets import is_reference, scan_value
from mcp_orch.services.validation import (
    RULES,
    Finding,
    Subject,
    ValidationReport,
    check_payload,
    check_subjects,
)

UNSET = "MCP_ORCH_TEST_SURELY_UNSET_VAR"

# -- token samples (assembled, never written out whole) -----------------------------------------
_ALNUM = "aB3dE6gH9jK2mN5pQ8rS1tU4vW7xY0zC"
TOKENS: dict[str, tuple[str, str]] = {
    # name: (value, expected kind)
    "github-classic": ("ghp_" + _ALNUM + "Qz12", "github-token"),
    "github-fine-grained": ("github_pat_" + "11AB" + _ALNUM + "_" + _ALNUM, "github-token"),
    "gitlab": ("glpat-" + _ALNUM[:20], "gitlab-token"),
    "openai": ("sk-" + "proj-" + _ALNUM + _ALNUM, "openai-key"),
    "openai-legacy": ("sk-" + _ALNUM + "T3BlbkFJ", "openai-key"),
    "anthropic": ("sk-" + "ant-api03-" + _ALNUM + _ALNUM, "anthropic-key"),
    "slack": ("xox" + "b-" + "1234567890-9876543210-" + _ALNUM[:24], "slack-token"),
    "aws": ("AKIA" + "IOSFODNN7EXAMPLE", "aws-access-key"),
    "google": ("AIza" + "Sy" + _ALNUM + "9", "google-api-key"),
    "stripe-live": ("sk_" + "live_" + _ALNUM[:24], "stripe-key"),
    "stripe-restricted": ("rk_" + "test_" + _ALNUM[:24], "stripe-key"),
}


def _cursor(servers: dict[str, Any]) -> dict[str, Any]:
    return {"mcpServers": servers}


def _codes(report: ValidationReport) -> list[str]:
    return report.codes()


def _subject(client: str, name: str, native: dict[str, Any], **kw: Any) -> Subject:
    return Subject(name, native, from_native(get_client(client), native), **kw)


# -- the rule table ------------------------------------------------------------------------------


def test_rule_table() -> None:
    codes = [r.code for r in RULES]
    assert codes == [f"MCP{i:03d}" for i in range(1, 16)]
    assert len({r.name for r in RULES}) == len(RULES)
    for r in RULES:
        assert r.severity in ("error", "warning", "suggestion")
        assert r.title and r.hint
        assert r.scope in ("server", "config", "probe")
        assert (r.scope == "probe") == (r.level == "live")  # MCP012 reads a probed manifest


# -- MCP001 required-input-missing ---------------------------------------------------------------


def test_mcp001_fails_when_a_required_env_is_empty() -> None:
    native = {"command": "npx", "args": ["-y", "pkg"], "env": {"API_KEY": "  "}}
    subj = _subject("cursor", "svc", native, required_env=["API_KEY", "BASE_URL"])
    report = check_subjects("cursor", [subj], _cursor({"svc": native}), select=["MCP001"])
    assert [f.field for f in report.errors] == ["env.API_KEY", "env.BASE_URL"]
    assert all(f.code == "MCP001" and f.server == "svc" for f in report.errors)


def test_mcp001_passes_when_set() -> None:
    native = {"command": "npx", "args": [], "env": {"API_KEY": "${env:API_KEY}"}}
    subj = _subject("cursor", "svc", native, required_env=["API_KEY"])
    assert check_subjects("cursor", [subj], _cursor({"svc": native}), select=["MCP001"]).ok


def test_mcp001_through_a_catalog_draft(ws: mo.Workspace, registry: mo.Registry) -> None:
    draft = registry.get("grafana").add_to(ws.profile("cursor"))
    assert _codes(draft.check(select=["MCP001"])) == ["MCP001"]
    registry.get("grafana").add_to(
        ws.profile("cursor"), env={"GRAFANA_URL": "https://g.example.com"}, replace=True
    )
    assert draft.check(select=["MCP001"]).ok


# -- MCP002 unfilled-placeholder -----------------------------------------------------------------


def test_mcp002_fails_on_a_placeholder() -> None:
    payload = _cursor(
        {
            "fs": {"command": "npx", "args": ["-y", "server-fs", "{allowed_directory}"]},
            "web": {"url": "https://{tenant}.example.com/mcp"},
        }
    )
    report = check_payload("cursor", payload, select=["MCP002"])
    assert {(f.server, f.field) for f in report.errors} == {("fs", "args[2]"), ("web", "url")}
    fs = next(f for f in report.errors if f.server == "fs")
    assert "allowed_directory" in fs.message and "allowed_directory" in fs.hint


def test_mcp002_passes_when_filled_and_ignores_env_references() -> None:
    payload = _cursor({"fs": {"command": "npx", "args": ["/data"], "env": {"T": "${env:TOKEN}"}}})
    assert check_payload("cursor", payload, select=["MCP002"]).ok


# -- MCP003 literal-secret -----------------------------------------------------------------------


def test_mcp003_fails_on_a_known_token_anywhere() -> None:
    token = TOKENS["github-classic"][0]
    payload = _cursor(
        {
            "in-env": {"command": "npx", "env": {"GH": token}},
            "in-args": {"command": "npx", "args": ["--token", token]},
            "in-header": {
                "url": "https://x.example.com",
                "headers": {"Authorization": "Bearer " + token},
            },
            "in-url": {"url": "https://x.example.com/mcp?key=" + TOKENS["google"][0]},
        }
    )
    report = check_payload("cursor", payload, select=["MCP003"])
    assert sorted(f.server for f in report.errors) == ["in-args", "in-env", "in-header", "in-url"]
    text = str(report) + json.dumps(report.to_dict()) + report.frame().write_csv()
    assert token not in text
    assert TOKENS["google"][0] not in text
    assert "ghp_" in text  # the masked form keeps a recognisable prefix


def test_mcp003_secret_input_with_any_literal_fails() -> None:
    native = {"command": "docker", "env": {"PAT": "hunter2-not-token-shaped"}}
    subj = _subject("cursor", "gh", native, secret_inputs={"PAT"})
    report = check_subjects("cursor", [subj], _cursor({"gh": native}), select=["MCP003"])
    assert _codes(report) == ["MCP003"]
    assert "hunter2" not in str(report)
    assert "${env:PAT}" in report.errors[0].hint


@pytest.mark.parametrize("value", ["${env:PAT}", "Bearer ${env:PAT}", ""])
def test_mcp003_passes_with_references(value: str) -> None:
    native = {"command": "docker", "env": {"PAT": value}}
    subj = _subject("cursor", "gh", native, secret_inputs={"PAT"})
    assert check_subjects("cursor", [subj], _cursor({"gh": native}), select=["MCP003"]).ok


# -- MCP004 invalid-server-name ------------------------------------------------------------------


def test_mcp004_fails_on_a_bad_name() -> None:
    report = check_payload("cursor", _cursor({"bad name!": {"command": "npx"}}), select=["MCP004"])
    assert _codes(report) == ["MCP004"]
    assert report.errors[0].server == "bad name!"


def test_mcp004_passes() -> None:
    payload = _cursor({"good-name.v2_x": {"command": "npx"}})
    assert check_payload("cursor", payload, select=["MCP004"]).ok


# -- MCP005 duplicate-server-name ----------------------------------------------------------------


def test_mcp005_fails_on_names_differing_in_case() -> None:
    payload = _cursor({"github": {"command": "a"}, "GitHub": {"command": "b"}})
    report = check_payload("cursor", payload, select=["MCP005"])
    assert _codes(report) == ["MCP005"]
    assert "github" in report.errors[0].message.lower()


def test_mcp005_fails_on_a_repeated_name_in_a_list_client() -> None:
    payload = {"mcpServers": [{"name": "a", "command": "x"}, {"name": "a", "command": "y"}]}
    assert _codes(check_payload("continue", payload, select=["MCP005"])) == ["MCP005"]


def test_mcp005_passes() -> None:
    payload = _cursor({"a": {"command": "x"}, "b": {"command": "y"}})
    assert check_payload("cursor", payload, select=["MCP005"]).findings == []


# -- MCP006 command-not-found --------------------------------------------------------------------


def test_mcp006_warns_when_the_command_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: npx cannot be found
    payload = _cursor({"fs": {"command": "npx", "args": []}, "x": {"command": "no-such-cmd-xyz"}})
    report = check_payload("cursor", payload, select=["MCP006"])
    assert report.ok  # a warning, not an error
    assert [f.code for f in report.warnings] == ["MCP006", "MCP006"]
    npx = next(f for f in report.warnings if f.server == "fs")
    assert "Node.js" in npx.hint


def test_mcp006_passes_for_an_existing_command() -> None:
    payload = _cursor({"py": {"command": sys.executable, "args": ["-V"]}})
    assert check_payload("cursor", payload, select=["MCP006"]).findings == []


def test_mcp006_can_be_switched_off() -> None:
    native = {"command": "no-such-cmd-xyz"}
    subj = _subject("cursor", "x", native)
    report = check_subjects(
        "cursor", [subj], _cursor({"x": native}), select=["MCP006"], check_path=False
    )
    assert report.findings == []


# -- MCP007 client-limit -------------------------------------------------------------------------


def test_mcp007_fails_over_max_servers() -> None:
    spec = dataclasses.replace(get_client("cursor"), max_servers=1)
    payload = _cursor({"a": {"command": "x"}, "b": {"command": "y"}})
    report = check_payload(spec, payload, select=["MCP007"])
    assert _codes(report) == ["MCP007"]
    assert "at most 1" in report.errors[0].message
    assert check_payload(spec, _cursor({"a": {"command": "x"}}), select=["MCP007"]).ok


def test_mcp007_fails_over_max_name_length() -> None:
    spec = dataclasses.replace(get_client("cursor"), max_name_length=5)
    report = check_payload(spec, _cursor({"much-too-long": {"command": "x"}}), select=["MCP007"])
    assert _codes(report) == ["MCP007"]
    assert check_payload(spec, _cursor({"short": {"command": "x"}}), select=["MCP007"]).ok


def test_mcp007_fails_for_a_remote_server_a_client_cannot_run() -> None:
    native = {"url": "https://mcp.example.com/mcp"}
    neutral = {"transport": "streamable-http", "url": native["url"], "headers": {}}
    subj = Subject("remote", native, neutral)
    report = check_subjects(
        "claude-desktop", [subj], _cursor({"remote": native}), select=["MCP007"]
    )
    assert _codes(report) == ["MCP007"]
    assert "natively" in report.errors[0].message


def test_mcp007_passes_for_the_mcp_remote_bridge(registry: mo.Registry) -> None:
    entry = registry.get("github").render("claude-desktop", transport="remote")
    assert check_payload("claude-desktop", _cursor({"github": entry}), select=["MCP007"]).ok


def test_mcp007_catches_a_hand_written_remote_entry_for_claude_desktop() -> None:
    # Claude Desktop ignores url entries in its file: a user who writes one should hear that
    # the client cannot run a remote server natively (and be pointed at mcp-remote).
    payload = _cursor({"remote": {"url": "https://mcp.example.com/mcp"}})
    report = check_payload("claude-desktop", payload)
    assert "MCP007" in report.codes()


# -- MCP008 insecure-remote-url ------------------------------------------------------------------


def test_mcp008_warns_on_plain_http() -> None:
    report = check_payload(
        "cursor", _cursor({"r": {"url": "http://mcp.example.com/mcp"}}), select=["MCP008"]
    )
    assert report.ok
    assert [f.code for f in report.warnings] == ["MCP008"]


def test_mcp008_warns_on_plain_http_through_mcp_remote() -> None:
    entry = {"command": "npx", "args": ["-y", "mcp-remote", "http://mcp.example.com/mcp"]}
    report = check_payload("claude-desktop", _cursor({"r": entry}), select=["MCP008"])
    assert [f.code for f in report.warnings] == ["MCP008"]


@pytest.mark.parametrize(
    "url",
    ["https://mcp.example.com/mcp", "http://localhost:3000/mcp", "http://127.0.0.1:8080/mcp"],
)
def test_mcp008_passes(url: str) -> None:
    assert check_payload("cursor", _cursor({"r": {"url": url}}), select=["MCP008"]).findings == []


# -- MCP009 unknown-field ------------------------------------------------------------------------


def test_mcp009_warns_on_an_unknown_field() -> None:
    report = check_payload(
        "cursor", _cursor({"x": {"command": "npx", "comand": "typo"}}), select=["MCP009"]
    )
    assert [f.code for f in report.warnings] == ["MCP009"]
    assert report.warnings[0].field == "comand"


def test_mcp009_passes_on_known_fields() -> None:
    payload = _cursor({"x": {"command": "npx", "args": [], "env": {}, "envFile": ".env"}})
    assert check_payload("cursor", payload, select=["MCP009"]).findings == []


# -- MCP010 schema -------------------------------------------------------------------------------


def test_mcp010_vscode_with_mcpservers_names_servers() -> None:
    payload = {
        "mcpServers": {"time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"]}}
    }
    report = check_payload("vscode", payload)
    assert not report.ok
    err = next(f for f in report.errors if f.code == "MCP010")
    assert "'servers'" in err.message
    assert err.field == "mcpServers"


def test_mcp010_passes_on_a_valid_payload() -> None:
    payload = {
        "servers": {"time": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"]}}
    }
    assert check_payload("vscode", payload, select=["MCP010"]).findings == []


def test_mcp010_wrong_type() -> None:
    report = check_payload("cursor", _cursor({"x": "npx server"}), select=["MCP010"])
    assert _codes(report) == ["MCP010"]
    assert report.errors[0].server == "x"


def test_mcp010_names_the_bad_field_of_a_stdio_entry() -> None:
    # args must be a list; the finding should point at args, not claim that 'url' is missing
    report = check_payload(
        "cursor", _cursor({"x": {"command": "npx", "args": "-y server"}}), select=["MCP010"]
    )
    assert _codes(report) == ["MCP010"]
    finding = report.errors[0]
    assert "args" in finding.field or "array" in finding.message
    assert "'url' is a required property" not in finding.message


# -- MCP011 env-reference-unset ------------------------------------------------------------------


def test_mcp011_warns_when_the_variable_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    payload = _cursor({"x": {"command": "npx", "env": {"T": "${env:" + UNSET + "}"}}})
    report = check_payload("cursor", payload, select=["MCP011"])
    assert report.ok
    assert [f.code for f in report.warnings] == ["MCP011"]
    assert UNSET in report.warnings[0].message
    # Claude Desktop cannot expand variables: deploy needs the value
    desktop = check_payload("claude-desktop", payload, select=["MCP011"])
    assert "deploy" in desktop.warnings[0].hint


def test_mcp011_passes_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(UNSET, "value")
    payload = _cursor({"x": {"command": "npx", "env": {"T": "${env:" + UNSET + "}"}}})
    assert check_payload("cursor", payload, select=["MCP011"]).findings == []


# -- select / ignore -----------------------------------------------------------------------------

_MESSY = _cursor(
    {
        "fs": {"command": "npx", "args": ["{allowed_directory}"], "extra": 1},
        "r": {"url": "http://mcp.example.com/mcp"},
    }
)


def test_select_by_code_name_and_prefix() -> None:
    assert set(check_payload("cursor", _MESSY, select=["MCP002"]).codes()) == {"MCP002"}
    assert set(check_payload("cursor", _MESSY, select=["insecure-remote-url"]).codes()) == {
        "MCP008"
    }
    both = set(check_payload("cursor", _MESSY, select=["MCP002", "unknown-field"]).codes())
    assert both == {"MCP002", "MCP009"}
    assert set(check_payload("cursor", _MESSY, select=["MCP00"]).codes()) >= {"MCP002", "MCP008"}


def test_ignore_by_code_and_name() -> None:
    full = set(check_payload("cursor", _MESSY).codes())
    assert {"MCP002", "MCP008", "MCP009"} <= full
    ignored = set(check_payload("cursor", _MESSY, ignore=["MCP002", "unknown-field"]).codes())
    assert ignored == full - {"MCP002", "MCP009"}
    assert check_payload("cursor", _MESSY, ignore=["MCP002"]).ok


def test_unknown_rule_code_in_select_is_refused() -> None:
    # a typo must not silently switch every rule off and report "ok"
    with pytest.raises(mo.UsageError):
        check_payload("cursor", _MESSY, select=["MCP0002"])


# -- ValidationReport ----------------------------------------------------------------------------


def _report() -> ValidationReport:
    findings = [
        Finding("MCP009", "unknown-field", "warning", "b", "field 'x' unknown", "remove it", "x"),
        Finding("MCP900", "style", "suggestion", "a", "consider a shorter name", "rename", "name"),
        Finding(
            "MCP002", "unfilled-placeholder", "error", "a", "placeholder {p}", "fill p", "args[0]"
        ),
        Finding("MCP007", "client-limit", "error", "", "too many servers", "remove some"),
    ]
    return ValidationReport(findings, client="cursor", target="draft cursor/default")


def test_report_partitions_and_order() -> None:
    report = _report()
    assert not report.ok and not bool(report)
    assert [f.severity for f in report.findings] == ["error", "error", "warning", "suggestion"]
    assert [f.code for f in report.errors] == [
        "MCP007",
        "MCP002",
    ]  # config-wide first, then by server
    assert [f.code for f in report.warnings] == ["MCP009"]
    assert [f.code for f in report.suggestions] == ["MCP900"]
    assert "2 errors, 1 warning, 1 suggestion" in report.summary()
    only_warnings = ValidationReport(report.warnings + report.suggestions)
    assert only_warnings.ok and bool(only_warnings)


def test_report_to_dict() -> None:
    data = _report().to_dict()
    assert data["ok"] is False
    assert data["client"] == "cursor" and data["target"] == "draft cursor/default"
    assert [f["code"] for f in data["errors"]] == ["MCP007", "MCP002"]
    assert data["warnings"][0] == {
        "code": "MCP009",
        "rule": "unknown-field",
        "severity": "warning",
        "server": "b",
        "message": "field 'x' unknown",
        "hint": "remove it",
        "field": "x",
    }
    assert len(data["suggestions"]) == 1
    assert json.loads(json.dumps(data)) == data


def test_report_frame() -> None:
    frame = _report().frame()
    assert isinstance(frame, pl.DataFrame)
    assert frame.columns == ["code", "rule", "severity", "server", "message", "hint", "field"]
    assert frame.height == 4
    assert isinstance(frame.schema["severity"], pl.Enum)
    assert frame.filter(pl.col("severity") == "error")["code"].to_list() == ["MCP007", "MCP002"]
    empty = ValidationReport([]).frame()
    assert empty.height == 0 and isinstance(empty.schema["severity"], pl.Enum)


def test_report_str() -> None:
    text = str(_report())
    lines = text.splitlines()
    assert lines[0].startswith("draft cursor/default: FAILED")
    assert "MCP002" in text and "a: placeholder {p}" in text and "[args[0]]" in text
    assert "hint: fill p" in text
    assert text.index("MCP002") < text.index("MCP009") < text.index("MCP900")
    ok = str(ValidationReport([], client="cursor"))
    assert ok.startswith("cursor: ok: 0 errors")
    assert "FAILED" in repr(_report())


def test_report_html_escapes() -> None:
    finding = Finding("MCP004", "invalid-server-name", "error", "<script>", "<b>bad</b>", "<i>")
    html = ValidationReport([finding])._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>bad</b>" not in html


def test_real_report_from_a_payload() -> None:
    report = check_payload("cursor", _MESSY, target="mcp.json")
    assert str(report).startswith("mcp.json: FAILED")
    assert report.frame().height == len(report.findings)
    assert set(report.frame()["severity"].to_list()) <= {"error", "warning", "suggestion"}


# -- the secrets scanner -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_scanner_detects_token_formats(name: str) -> None:
    token, kind = TOKENS[name]
    for text in (token, f"Bearer {token}", f"--api-key={token}"):
        found = scan_value(text)
        assert [f.kind for f in found] == [kind], text
        masked = found[0].masked
        assert token not in masked
        assert token[-6:] not in masked
        assert masked.startswith(token[:4])
        assert str(len(token)) in masked


@pytest.mark.parametrize(
    "value",
    [
        "${env:GITHUB_TOKEN}",
        "Bearer ${env:GITHUB_TOKEN}",
        "${env:AKIAIOSFODNN7EXAMPLE}",
        "npx",
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "https://api.githubcopilot.com/mcp/",
        "task-runner-configuration-file",
        "",
    ],
)
def test_scanner_ignores_references_and_ordinary_text(value: str) -> None:
    assert scan_value(value) == []


def test_references() -> None:
    assert is_reference("${env:GITHUB_TOKEN}")
    assert not is_reference("Bearer ${env:GITHUB_TOKEN}")
    assert not is_reference("${GITHUB_TOKEN}")
    assert not is_reference("${env:1BAD}")


def test_generic_high_entropy_only_when_asked() -> None:
    value = "Zx9Qp2Lm7Rt4Vb8Nc1Kd6Hf3Jg5Ws0"
    assert scan_value(value) == []
    found = scan_value(value, generic=True)
    assert [f.kind for f in found] == ["high-entropy"]
    assert value not in found[0].masked
    assert scan_value("a perfectly ordinary sentence here", generic=True) == []
