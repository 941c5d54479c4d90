"""The policy gate (issue 17): a TOML policy refuses releases at publish (before signing) and at
deploy (before writing, the signature threshold included), with rule codes POL001..POL010;
the envelope records the policy's digest; ``check --policy`` evaluates any user file; co-signing
with ``approve`` from another workspace's key, and the threshold deploy honours.

Two keys are two workspaces that trust each other's exported public key. B co-signs A's release
through ``approve`` itself: A's object file is copied into B's store (what a pull does), B
approves it there, and B's approvals file is copied back beside A's object (what a push of the
approval does). Forged approvals (a changed signature, an untrusted key, a revoked key) are
written into A's approvals file directly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mcp_orch as mo
from mcp_orch.core.errors import InvalidPolicy, PolicyViolation, UsageError
from mcp_orch.frontends.cli import cli
from mcp_orch.operations import checks
from mcp_orch.operations import policy as policy_ops
from mcp_orch.services.policy import parse_policy
from mcp_orch.services.policy.evaluate import evaluate

MEMORY = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory@2026.8.31"]}


# ---- helpers -------------------------------------------------------------------------------------


def _policy(ws: mo.Workspace, text: str) -> None:
    (ws.path / "policy.toml").write_text(text, encoding="utf-8")


def _draft(ws: mo.Workspace, entries: dict[str, dict[str, Any]]) -> mo.Profile:
    profile = ws.profile("cursor")
    for name, entry in entries.items():
        profile.draft.add_entry(name, entry, replace=True)
    return profile


def _nothing_published(ws: mo.Workspace, events_before: int) -> None:
    assert list(ws.store.all_ids()) == []
    assert ws.store.get_ref("cursor", "default", "latest") is None
    assert ws.audit.event_count() == events_before


def _refused(exc: pytest.ExceptionInfo[PolicyViolation]) -> list[str]:
    return exc.value.report.codes()


def _two(tmp_path: Path) -> tuple[mo.Workspace, mo.Workspace]:
    a = mo.Workspace(tmp_path / "a", client_root=tmp_path / "root")
    b = mo.Workspace(tmp_path / "b", client_root=tmp_path / "root")
    a.keys.ensure()
    b.keys.ensure()
    a.keys.trust(b.keys.export_public())
    b.keys.trust(a.keys.export_public())
    return a, b


def _approve_from(b: mo.Workspace, a: mo.Workspace, art: mo.Artifact) -> policy_ops.ApproveResult:
    """B approves A's release: A's object into B's store, approve there, the approval back."""
    src = a.store.object_path(art.artifact_id)
    dst = b.store.object_path(art.artifact_id)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    result = policy_ops.approve(b, art.artifact_id[:15])
    shutil.copy(b.store.approvals_path(art.artifact_id), a.store.approvals_path(art.artifact_id))
    return result


# ---- the file ------------------------------------------------------------------------------------


def test_unknown_keys_and_bad_values_are_refused_naming_the_line(ws: mo.Workspace) -> None:
    with pytest.raises(InvalidPolicy) as exc:
        parse_policy("[pins]\nexact = true\n\n[signatures]\nrequred = 2\n", "p.toml")
    assert exc.value.line == 5 and "p.toml:5" in exc.value.message
    assert "requred" in exc.value.message and "required" in exc.value.hint
    with pytest.raises(InvalidPolicy, match="unknown key 'allowed'"):
        parse_policy('allowed = ["x"]\n')
    with pytest.raises(InvalidPolicy, match="not a transport"):
        parse_policy('[transports]\nallow = ["stdio", "websocket"]\n')
    with pytest.raises(InvalidPolicy, match="REGISTRY:NAME"):
        parse_policy('[packages]\nallow = ["@modelcontextprotocol/*"]\n')
    with pytest.raises(InvalidPolicy, match="key ids"):
        parse_policy('[signatures]\nrequired = 1\nsigners = ["alice"]\n')
    with pytest.raises(InvalidPolicy, match="not valid TOML") as bad:
        parse_policy("[pins\n")
    assert bad.value.line == 1
    # a broken policy file stops publish: no gate is no answer
    _policy(ws, "[pins]\nexact = 'yes'\n")
    profile = _draft(ws, {"memory": MEMORY})
    with pytest.raises(InvalidPolicy, match="true or false"):
        profile.draft.publish()
    assert list(ws.store.all_ids()) == []


def test_the_digest_covers_meaning_not_layout() -> None:
    a = parse_policy('[pins]\nexact = true\n[transports]\nallow = ["stdio"]\n')
    b = parse_policy(
        '# same\n[transports]\nallow = [ "stdio" ]   # only local\n[pins]\nexact=true\n'
    )
    c = parse_policy('[pins]\nexact = true\n[transports]\nallow = ["stdio", "sse"]\n')
    assert a.digest == b.digest != c.digest
    assert a.digest.startswith("sha256:") and len(a.digest) == 71


# ---- publish -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "entries", "code"),
    [
        (
            '[servers]\nallow = ["io.github.acme/*"]\n',
            {"memory": MEMORY},
            "POL001",
        ),
        ('[servers]\ndeny = ["mem*"]\n', {"memory": MEMORY}, "POL001"),
        (
            '[packages]\nallow = ["npm:@acme/*"]\n',
            {"memory": MEMORY},
            "POL002",
        ),
        (
            '[packages]\ndeny = ["npm:@modelcontextprotocol/*"]\n',
            {"memory": MEMORY},
            "POL002",
        ),
        (
            '[packages]\nallow = ["*:*"]\n',
            {"local": {"command": "/opt/bin/server", "args": []}},
            "POL002",
        ),
        (
            '[remotes]\nallow = ["*.acme.example"]\n',
            {"api": {"url": "https://mcp.evil.example/mcp"}},
            "POL003",
        ),
        (
            '[remotes]\ndeny = ["*.evil.example"]\n',
            {"api": {"url": "https://mcp.evil.example/m"}},
            "POL003",
        ),
        (
            '[transports]\nallow = ["stdio"]\n',
            {"api": {"url": "https://mcp.acme.example/"}},
            "POL004",
        ),
        ('[transports]\ndeny = ["stdio"]\n', {"memory": MEMORY}, "POL004"),
        (
            "[pins]\nexact = true\n",
            {"memory": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]}},
            "POL005",
        ),
        ("[pins]\nintegrity = true\n", {"memory": MEMORY}, "POL006"),  # offline: unresolved
        ("[pins]\ntools = true\n", {"memory": MEMORY}, "POL007"),
        ("[tools]\nmax_per_server = 10\n", {"memory": MEMORY}, "POL009"),  # no manifest
    ],
)
def test_publish_refuses_each_rule_with_its_code_and_writes_nothing(
    ws: mo.Workspace, policy: str, entries: dict[str, Any], code: str
) -> None:
    profile = _draft(ws, entries)
    _policy(ws, policy)
    before = ws.audit.event_count()
    with pytest.raises(PolicyViolation) as exc:
        profile.draft.validate().publish()
    assert _refused(exc) == [code]
    assert code in exc.value.message and "nothing was published" in exc.value.message
    _nothing_published(ws, before)


def test_namespaces_use_the_registry_name_and_the_envelope_records_policy_and_names(
    ws: mo.Workspace,
) -> None:
    profile = ws.profile("cursor")
    mo.Registry(workspace=ws).find("memory").add_to(profile)
    bare = profile.draft.publish()
    assert "policy" not in bare.envelope() and bare.policy is None  # no file, no field
    _policy(ws, '[servers]\nallow = ["io.github.modelcontextprotocol/*"]\n')
    art = profile.draft.publish()  # same payload, now under a policy: a new, recorded release
    assert art.artifact_id != bare.artifact_id
    assert art.envelope()["policy"] == ws.policy.digest  # type: ignore[union-attr]
    assert art.registry_names == {"memory": "io.github.modelcontextprotocol/server-memory"}
    assert ws.store.get(art.artifact_id).policy == art.policy
    art.verify()
    assert profile.draft.publish().artifact_id == art.artifact_id  # unchanged again
    _policy(ws, '[servers]\nallow = ["io.github.modelcontextprotocol/*", "io.github.acme/*"]\n')
    changed = profile.draft.publish()
    assert changed.policy != art.policy and changed.artifact_id != art.artifact_id
    # a hand-written entry has no registry name: its entry name is matched (and refused)
    profile.draft.add_entry("other", {"command": "npx", "args": ["-y", "x@1.0.0"]})
    with pytest.raises(PolicyViolation) as exc:
        profile.draft.publish()
    assert _refused(exc) == ["POL001"]
    assert "registry name is not recorded" in exc.value.report.errors[0].message


def test_publish_file_and_payload_are_gated_too(ws: mo.Workspace, tmp_path: Path) -> None:
    _policy(ws, '[remotes]\nallow = ["*.acme.example"]\n')
    file = tmp_path / "mcp.json"
    file.write_text(json.dumps({"mcpServers": {"api": {"url": "https://evil.example/mcp"}}}))
    with pytest.raises(PolicyViolation, match="POL003"):
        ws.publish_file("cursor", "default", file)
    from mcp_orch.operations import releases

    with pytest.raises(PolicyViolation, match="POL003"):
        releases.publish(
            ws, "cursor", "default", payload={"mcpServers": {"api": {"url": "https://x.example/"}}}
        )
    assert list(ws.store.all_ids()) == []


def test_the_tool_budget_counts_pinned_manifests() -> None:
    policy = parse_policy("[tools]\nmax_per_server = 2\nmax_per_profile = 3\n")
    manifest = {"tools": [{"name": f"t{i}"} for i in range(3)]}
    tools = {
        "a": {"digest": "sha256:" + "1" * 64, "manifest": manifest},
        "b": {"digest": "sha256:" + "2" * 64, "manifest": {"tools": [{"name": "x"}]}},
    }
    payload = {"mcpServers": {"a": MEMORY, "b": MEMORY}}
    report = evaluate(policy, payload, client="cursor", tools=tools)
    assert [(f.code, f.server) for f in report.errors] == [("POL008", ""), ("POL008", "a")]
    assert "4 tools" in str(report) and "3 tools" in str(report)
    small = {"tools": [{"name": "x"}]}
    fine = {k: {"digest": v["digest"], "manifest": small} for k, v in tools.items()}
    assert evaluate(policy, payload, client="cursor", tools=fine).ok


def test_a_bridged_remote_has_both_transports_and_its_host_checked() -> None:
    bridge = {"command": "npx", "args": ["-y", "mcp-remote@0.15.1", "https://mcp.evil.example/mcp"]}
    payload = {"mcpServers": {"api": bridge}}
    only_local = parse_policy(
        '[transports]\nallow = ["stdio"]\n[remotes]\ndeny = ["*.evil.example"]\n'
    )
    report = evaluate(only_local, payload, client="cursor")
    assert sorted(report.codes()) == ["POL003", "POL004"]


# ---- deploy and co-signing -------------------------------------------------------------------


def test_deploy_refuses_before_writing_and_honours_the_signature_threshold(
    tmp_path: Path,
) -> None:
    a, b = _two(tmp_path)
    profile = _draft(a, {"memory": MEMORY})
    art = profile.draft.publish()  # no policy yet
    target = tmp_path / "out" / "mcp.json"
    signers = f'["{a.keys.current_key_id()}", "{b.keys.current_key_id()}"]'
    _policy(a, f"[signatures]\nrequired = 2\nsigners = {signers}\n")
    before = a.audit.event_count()
    with pytest.raises(PolicyViolation) as exc:
        art.deploy(path=target)
    assert _refused(exc) == ["POL010"] and "1 valid signer of 2" in exc.value.message
    with pytest.raises(PolicyViolation):
        art.deploy(path=target, dry_run=True)
    assert not target.exists() and a.audit.event_count() == before
    assert a.store.get_ref("cursor", "default", "deployed") is None

    result = _approve_from(b, a, art)
    assert result.approval.added and result.approval.key_id == b.keys.current_key_id()
    assert result.to_dict()["status"] == "approved"
    again = policy_ops.approve(b, art.artifact_id)
    assert not again.approval.added and again.to_dict()["status"] == "already-approved"
    assert len(b.store.approvals(art.artifact_id)) == 1
    dep = a.profile("cursor").artifact(art.artifact_id).deploy(path=target)
    assert dep.changed and json.loads(target.read_text())["mcpServers"]["memory"] == MEMORY
    assert a.profile("cursor").artifact(art.artifact_id).to_dict()["approvals"] == [
        b.keys.current_key_id()
    ]
    # the approval is audited in B's log; A (which holds it beside its object) still verifies
    assert [e["action"] for e in b.audit.events()][-1] == "approve"
    assert a.verify().ok, a.verify().problems
    # the publisher cannot approve its own release
    with pytest.raises(UsageError, match="second signature"):
        policy_ops.approve(a, art.artifact_id)


def test_forged_untrusted_and_revoked_approvals_do_not_count(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    c = mo.Workspace(tmp_path / "c")  # a key A does not trust
    c.keys.ensure()
    c.keys.trust(a.keys.export_public())
    art = _draft(a, {"memory": MEMORY}).draft.publish()
    _policy(a, "[signatures]\nrequired = 2\n")  # any trusted key counts
    target = tmp_path / "out.json"
    _approve_from(b, a, art)
    approvals = a.store.approvals_path(art.artifact_id)
    good = approvals.read_text()

    # a changed signature
    row = json.loads(good)
    row["signature"] = row["signature"][:-4] + (
        "AAAA" if row["signature"][-4:] != "AAAA" else "BBBB"
    )
    approvals.write_text(json.dumps(row) + "\n")
    with pytest.raises(PolicyViolation, match="POL010") as exc:
        art.deploy(path=target)
    assert "not counted: approval by " + b.keys.current_key_id() in exc.value.message

    # a key A does not trust
    approvals.unlink()
    _approve_from(c, a, art)
    with pytest.raises(PolicyViolation, match="POL010"):
        art.deploy(path=target)

    # B's good approval, but B's key revoked in A
    approvals.write_text(good)
    assert art.deploy(path=target, dry_run=True).dry_run  # counts: 2 valid signers
    a.keys.revoke(b.keys.current_key_id())
    with pytest.raises(PolicyViolation, match="POL010"):
        art.deploy(path=target)
    assert not target.exists()


def test_verify_notices_a_removed_approval(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    art = _draft(a, {"memory": MEMORY}).draft.publish()
    _approve_from(b, a, art)
    # (B also reports the object copied into its store by hand: a pull would have audited it)
    assert not any("approval" in p for p in b.verify(full=True).problems)
    b.store.approvals_path(art.artifact_id).unlink()
    problems = b.verify(full=True).problems
    assert any("approval by" in p and "was removed" in p for p in problems), problems


# ---- check ---------------------------------------------------------------------------------------


def test_check_policy_evaluates_a_user_file(ws: mo.Workspace, tmp_path: Path) -> None:
    file = tmp_path / "mcp.json"
    file.write_text(
        json.dumps({"mcpServers": {"x": {"command": "npx", "args": ["-y", "left-pad"]}}})
    )
    _policy(ws, '[packages]\nallow = ["npm:@modelcontextprotocol/*"]\n[pins]\nexact = true\n')
    result = checks.check([str(file)], workspace=lambda: ws, client="cursor", policy=True)
    codes = [f.code for f in result.outcomes[0].report.findings]  # type: ignore[union-attr]
    assert {"POL002", "POL005"} <= set(codes) and result.exit_code == 1
    plain = checks.check([str(file)], workspace=lambda: ws, client="cursor", level="static")
    assert not any(c.startswith("POL") for c in plain.to_dict()["targets"][0]["errors"])
    other = tmp_path / "other.toml"
    other.write_text('[transports]\ndeny = ["stdio"]\n')
    named = checks.check([str(file)], workspace=lambda: ws, client="cursor", policy=str(other))
    assert [e["code"] for e in named.to_dict()["targets"][0]["errors"]] == ["POL004"]


# ---- the CLI -------------------------------------------------------------------------------------


def _run(tmp_path: Path, *args: str, ws: Path | None = None) -> Any:
    where = ["--workspace", str(ws or tmp_path / "ws"), "--client-root", str(tmp_path / "root")]
    return CliRunner().invoke(cli, [*args, *where])


def test_cli_publish_deploy_check_show_and_approve(tmp_path: Path) -> None:
    a, b = _two(tmp_path)
    _draft(a, {"memory": MEMORY})
    _policy(a, '[packages]\ndeny = ["npm:@modelcontextprotocol/*"]\n')
    out = _run(tmp_path, "publish-config", "--client", "cursor", ws=a.path)
    assert out.exit_code == 1, out.output
    assert "POL002" in out.output and "nothing was published" in out.output
    assert "Traceback" not in out.output and list(a.store.all_ids()) == []
    out = _run(tmp_path, "publish-config", "--client", "cursor", "--json", ws=a.path)
    doc = json.loads(out.stdout)
    assert doc["error"] == "PolicyViolation" and doc["report"]["errors"][0]["code"] == "POL002"

    (a.path / "policy.toml").unlink()
    assert _run(tmp_path, "publish-config", "--client", "cursor", ws=a.path).exit_code == 0
    _policy(a, "[signatures]\nrequired = 2\n")
    out = _run(tmp_path, "deploy-config", "--client", "cursor", ws=a.path)
    assert out.exit_code == 1 and "POL010" in out.output, out.output
    assert not (tmp_path / "root" / ".cursor" / "mcp.json").exists()

    out = _run(tmp_path, "policy", "show", ws=a.path)
    assert out.exit_code == 0 and "POL010 signatures" in out.output
    assert a.policy is not None and a.policy.digest in out.output

    art = a.profile("cursor").latest()
    assert art is not None
    shutil.copytree(a.store.objects, b.store.objects, dirs_exist_ok=True)
    out = _run(tmp_path, "approve", art.artifact_id[:14], ws=b.path)
    assert out.exit_code == 0 and "approved" in out.output, out.output
    out = _run(tmp_path, "approve", art.artifact_id[:14], ws=b.path)
    assert out.exit_code == 0 and "nothing changed" in out.output
    out = _run(tmp_path, "approve", art.artifact_id[:14], ws=a.path)
    assert out.exit_code == 2 and "second signature" in out.output
    shutil.copy(b.store.approvals_path(art.artifact_id), a.store.approvals_path(art.artifact_id))
    out = _run(tmp_path, "deploy-config", "--client", "cursor", ws=a.path)
    assert out.exit_code == 0, out.output
    out = _run(tmp_path, "get-config", "--client", "cursor", ws=a.path)
    assert f"approvals: 1 ({b.keys.current_key_id()})" in out.output

    file = tmp_path / "user.json"
    file.write_text(json.dumps({"mcpServers": {"x": {"url": "https://evil.example/mcp"}}}))
    _policy(a, '[remotes]\nallow = ["*.acme.example"]\n')
    out = _run(tmp_path, "check", str(file), "--client", "cursor", "--policy", ws=a.path)
    assert out.exit_code == 1 and "POL003" in out.output, out.output
    out = _run(tmp_path, "check", "--policy", str(file), "--client", "cursor", ws=a.path)
    assert out.exit_code == 1 and "POL003" in out.output, out.output


# ---- the MCP server ------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_mcp_publish_and_deploy_return_the_refusal_as_a_typed_tool_error(
    ws: mo.Workspace, anyio_backend: str
) -> None:
    from mcp import Client

    from mcp_orch.frontends.mcp_server import build_server

    _draft(ws, {"memory": MEMORY})
    _policy(ws, '[packages]\ndeny = ["npm:@modelcontextprotocol/*"]\n')
    async with Client(build_server(ws)) as c:
        result = await c.call_tool("publish_config", {"client_id": "cursor"})
        assert result.is_error
        data = result.structured_content or {}
        assert data["error"] == "PolicyViolation" and data["ok"] is False
        assert [f["code"] for f in data["report"]["errors"]] == ["POL002"]
        (ws.path / "policy.toml").write_text("[signatures]\nrequired = 2\n")
        assert not (await c.call_tool("publish_config", {"client_id": "cursor"})).is_error
        result = await c.call_tool("deploy_config", {"client_id": "cursor"})
        assert result.is_error
        assert (result.structured_content or {})["report"]["errors"][0]["code"] == "POL010"
    assert not (ws.client_root / ".cursor" / "mcp.json").exists()  # type: ignore[operator]
