"""Sharing releases through a real OCI registry (CNCF distribution on loopback, htpasswd auth).

Covers: push from one workspace and pull into another that trusts the first's key, then verify
and deploy there; a second push uploads nothing; a blob tampered in the registry's storage, an
unknown signer, a replayed older release and a diverged history are refused with nothing
written; two workspaces pushing at once: one wins, the other gets the conflict with the diff and
nothing is lost; approvals travel with the release (untrusted ones are dropped); wrong or missing
credentials and a registry that is down are clear errors; the audit anchor catches a rewritten
log; the CLI commands end to end with --json.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import oci_kit
import pytest
from click.testing import CliRunner

import mcp_orch as mo
from mcp_orch.core.errors import (
    HistoryRewritten,
    IntegrityError,
    RemoteAuthError,
    RemoteConflict,
    RemoteError,
    SignatureError,
)
from mcp_orch.frontends.cli import cli
from mcp_orch.operations import remote
from mcp_orch.services.release import remote as oci


@pytest.fixture(scope="session")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oci_kit.Registry]:
    if oci_kit.binary() is None:
        message = "no docker-registry (Debian's docker-registry; scripts/ci-system-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with oci_kit.oci_registry(tmp_path_factory.mktemp("oci")) as reg:
        yield reg


@pytest.fixture
def repo(request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]
    return f"t/{name}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(autouse=True)
def _docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


@pytest.fixture(autouse=True)
def _quick_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oci, "SETTLE_SECONDS", 0.05)


def workspace(tmp_path: Path, name: str) -> mo.Workspace:
    return mo.Workspace(tmp_path / name, client_root=tmp_path / f"{name}-root")


def publish(ws: mo.Workspace, arg: str) -> mo.Artifact:
    profile = ws.profile("cursor")
    profile.draft.add_entry("demo", {"command": "npx", "args": ["-y", arg]}, replace=True)
    return profile.draft.publish(changelog=f"use {arg}")


def connect(
    ws: mo.Workspace, reg: oci_kit.Registry, repo: str, machine: str, *, login: bool = False
) -> None:
    creds: dict[str, Any] = (
        {"username": oci_kit.USER, "password": oci_kit.PASSWORD} if login else {}
    )
    remote.remote_add(ws, "origin", reg.url(repo), machine=machine, **creds)


def trusting(tmp_path: Path, name: str, *publishers: mo.Workspace) -> mo.Workspace:
    ws = workspace(tmp_path, name)
    ws.keys.ensure()
    for p in publishers:
        ws.keys.trust(p.keys.export_public())
    return ws


def latest(ws: mo.Workspace) -> str | None:
    return ws.store.get_ref("cursor", "default", "latest")


def actions(ws: mo.Workspace) -> list[str]:
    return [e["action"] for e in ws.audit.events()]


def raw_client(reg: oci_kit.Registry, repo: str) -> oci.OCIClient:
    url = oci.RemoteURL.parse(reg.url(repo))
    return oci.OCIClient(url, oci.Credentials(oci.basic_auth(oci_kit.USER, oci_kit.PASSWORD), "t"))


# ---- the round trip ----------------------------------------------------------------------------


def test_push_then_pull_verify_and_deploy_in_another_workspace(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    first, second = publish(a, "one"), publish(a, "two")
    connect(a, registry_server, repo, "alice", login=True)
    pushed = remote.push(a)
    [row] = pushed.profiles
    assert row.status == "pushed" and row.releases == [first.artifact_id, second.artifact_id]
    assert pushed.anchor is not None and pushed.anchor.seq == a.audit.event_count()
    # the blob is exactly the canonical envelope: its digest is the artifact id
    raw = registry_server.blob_path(second.artifact_id).read_bytes()
    assert raw == second.canonical_bytes()

    again = remote.push(a)
    assert again.profiles[0].status == "up to date"
    assert (again.profiles[0].blobs_uploaded, again.profiles[0].manifests_uploaded) == (0, 0)
    assert actions(a).count("push") == 1  # nothing new, nothing recorded

    b = trusting(tmp_path, "b", a)
    connect(b, registry_server, repo, "bob")
    pulled = remote.pull(b)
    assert pulled.profiles[0].status == "pulled"
    assert pulled.profiles[0].releases == [first.artifact_id, second.artifact_id]
    assert latest(b) == second.artifact_id
    assert b.store.index("cursor", "default") == [first.artifact_id, second.artifact_id]
    assert "pull" in actions(b) and b.verify().ok, b.verify().problems

    runner = CliRunner()
    args = ["--workspace", str(b.path), "--client-root", str(b.client_root), "--json"]
    result = runner.invoke(cli, ["deploy-config", "-c", "cursor", *args])
    assert result.exit_code == 0, result.output
    written = json.loads((b.client_root / ".cursor" / "mcp.json").read_text())
    assert written["mcpServers"]["demo"]["args"] == ["-y", "two"]
    assert b.verify().ok
    assert remote.pull(b).profiles[0].status == "up to date"


# ---- refusals on pull --------------------------------------------------------------------------


def test_a_blob_tampered_in_the_registry_storage_is_refused(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    art = publish(a, "tamper-me")
    connect(a, registry_server, repo, "alice", login=True)
    remote.push(a)
    path = registry_server.blob_path(art.artifact_id)
    path.write_bytes(path.read_bytes().replace(b"tamper-me", b"tamper-us"))
    b = trusting(tmp_path, "b", a)
    connect(b, registry_server, repo, "bob")
    with pytest.raises(IntegrityError, match="does not match its digest"):
        remote.pull(b)
    assert latest(b) is None and not list(b.store.all_ids()) and "pull" not in actions(b)


def test_an_unknown_signer_is_refused_with_a_hint_to_trust(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    publish(a, "signed")
    connect(a, registry_server, repo, "alice", login=True)
    remote.push(a)
    stranger = trusting(tmp_path, "c")  # trusts nobody
    connect(stranger, registry_server, repo, "carol")
    with pytest.raises(SignatureError) as info:
        remote.pull(stranger)
    assert a.keys.current_key_id() in info.value.message
    assert "keys trust" in info.value.hint and "never trusted on its own" in info.value.hint
    assert latest(stranger) is None and not list(stranger.store.all_ids())


def test_a_replayed_older_release_does_not_move_latest_back_and_a_fork_is_refused(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    old = publish(a, "old")
    connect(a, registry_server, repo, "alice", login=True)
    remote.push(a)
    new = publish(a, "new")
    remote.push(a)
    b = trusting(tmp_path, "b", a)
    connect(b, registry_server, repo, "bob")
    remote.pull(b)
    assert latest(b) == new.artifact_id
    # someone with write access points the tag back at the older (validly signed) release
    raw = raw_client(registry_server, repo)
    got = raw.get_manifest_bytes(oci.release_tag(old.artifact_id))
    assert got is not None
    raw.put_manifest("cursor.default", got[0])
    replay = remote.pull(b)
    assert replay.profiles[0].status == "remote behind" and latest(b) == new.artifact_id
    assert actions(b).count("pull") == 1
    # a release signed by a trusted key that does not descend from local latest: diverged
    fork_ws = workspace(tmp_path, "fork")
    fork = publish(fork_ws, "fork")
    b.keys.trust(fork_ws.keys.export_public())
    raw.put_blob(fork.canonical_bytes())
    raw.put_manifest("cursor.default", oci.release_manifest(fork, None))
    with pytest.raises(RemoteConflict, match="diverged") as info:
        remote.pull(b)
    assert [d["artifact_id"] for d in info.value.diff] == [fork.artifact_id]
    assert latest(b) == new.artifact_id and not b.store.has(fork.artifact_id)
    assert b.verify().ok


# ---- push conflicts ----------------------------------------------------------------------------


def test_two_workspaces_pushing_at_once_one_wins_and_nothing_is_lost(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    base = publish(a, "base")
    connect(a, registry_server, repo, "alice", login=True)
    remote.push(a)
    x = trusting(tmp_path, "x", a)
    connect(x, registry_server, repo, "xavier")
    remote.pull(x)
    mine, theirs = publish(a, "from-a"), publish(x, "from-x")
    assert mine.parent == theirs.parent == base.artifact_id
    outcomes: dict[str, Any] = {}
    start = threading.Barrier(2)

    def go(name: str, ws: mo.Workspace) -> None:
        start.wait()
        try:
            outcomes[name] = remote.push(ws)
        except RemoteConflict as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=go, args=p) for p in (("a", a), ("x", x))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    conflicts = {n: o for n, o in outcomes.items() if isinstance(o, RemoteConflict)}
    winners = {n: o for n, o in outcomes.items() if not isinstance(o, RemoteConflict)}
    assert len(conflicts) == 1 and len(winners) == 1, outcomes
    [(loser, exc)] = conflicts.items()
    won = mine if "a" in winners else theirs
    lost = theirs if loser == "x" else mine
    assert [d["artifact_id"] for d in exc.diff] == [won.artifact_id]
    assert exc.diff[0]["changelog"] == won.changelog and exc.diff[0]["signer"] == won.key_id
    raw = raw_client(registry_server, repo)
    head = oci.fetch_release(raw, "cursor.default")
    assert head is not None and head.artifact_id == won.artifact_id
    assert raw.has_manifest(oci.release_tag(lost.artifact_id))  # uploaded, not lost
    loser_ws = x if loser == "x" else a
    assert latest(loser_ws) == lost.artifact_id  # and the local release is untouched
    # the CLI shows the same refusal: exit 1, the diff in the JSON document
    out = CliRunner().invoke(
        cli, ["push", "--workspace", str(loser_ws.path), "--json"], catch_exceptions=False
    )
    assert out.exit_code == 1
    doc = json.loads(out.stdout)
    assert doc["error"] == "RemoteConflict" and doc["diff"][0]["artifact_id"] == won.artifact_id


# ---- approvals ---------------------------------------------------------------------------------


def test_approvals_travel_with_the_release_and_untrusted_ones_are_dropped(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    art = publish(a, "approved")
    approver = workspace(tmp_path, "approver")
    kid, sig = approver.keys.sign(art.canonical_bytes())
    a.store.add_approval(art.artifact_id, kid, sig, "2026-01-01T00:00:00Z")
    connect(a, registry_server, repo, "alice", login=True)
    assert remote.push(a).profiles[0].approvals == 1
    assert remote.push(a).profiles[0].approvals == 0  # already there

    both = trusting(tmp_path, "both", a, approver)
    connect(both, registry_server, repo, "bob")
    remote.pull(both)
    assert [x["key_id"] for x in both.store.approvals(art.artifact_id)] == [kid]
    (event,) = both.audit.query(action="pull")
    assert event["details"]["approved"] == [{"artifact_id": art.artifact_id, "key_id": kid}]
    assert both.verify().ok, both.verify().problems
    # the pull recorded the approval: removing it from the store is noticed
    saved = both.store.approvals_path(art.artifact_id).read_bytes()
    both.store.approvals_path(art.artifact_id).unlink()
    report = both.verify()
    assert not report.ok
    assert any(f"the approval by {kid}" in p and "was removed" in p for p in report.problems)
    both.store.approvals_path(art.artifact_id).write_bytes(saved)
    assert both.verify().ok

    only_a = trusting(tmp_path, "only-a", a)
    connect(only_a, registry_server, repo, "carol")
    result = remote.pull(only_a)
    assert latest(only_a) == art.artifact_id and only_a.store.approvals(art.artifact_id) == []
    assert any("dropped an approval" in n and kid in n for n in result.profiles[0].notes)


# ---- credentials and reachability --------------------------------------------------------------


def test_wrong_or_missing_credentials_and_a_registry_that_is_down(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    publish(a, "creds")
    with pytest.raises(RemoteAuthError, match="refused the credentials"):
        remote.remote_add(a, "origin", registry_server.url(repo), username="alice", password="no")
    assert not (tmp_path / "docker" / "config.json").exists()  # nothing stored
    assert remote.remote_list(a).remotes == []
    remote.remote_add(a, "origin", registry_server.url(repo))  # no credentials at all
    with pytest.raises(RemoteAuthError, match="asks for credentials"):
        remote.push(a)
    remote.remote_add(a, "down", f"oci://127.0.0.1:{oci_kit.free_port()}/x/y")
    with pytest.raises(RemoteError, match="cannot reach the registry") as info:
        remote.push(a, "down")
    assert not isinstance(info.value, RemoteAuthError)
    # stored like docker login: base64 user:password, mode 0600, never in the workspace
    remote.remote_add(
        a, "ok", registry_server.url(repo), username=oci_kit.USER, password=oci_kit.PASSWORD
    )
    config = tmp_path / "docker" / "config.json"
    assert config.stat().st_mode & 0o777 == 0o600
    assert json.loads(config.read_text())["auths"][registry_server.host]["auth"]
    assert oci_kit.PASSWORD not in (a.path / "remotes.json").read_text()
    assert remote.push(a, "ok").profiles[0].status == "pushed"


# ---- the audit anchor --------------------------------------------------------------------------


def test_the_anchor_catches_a_rewritten_audit_log(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    publish(a, "anchored")
    connect(a, registry_server, repo, "alice", login=True)
    anchor = remote.push(a).anchor
    assert anchor is not None
    # the history is rewritten: the log and head replaced by a shorter, self-consistent one
    log = a.audit.path
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]))
    last = json.loads(lines[-2])
    a.audit.head_path.write_text(
        json.dumps({"seq": last["seq"], "hash": last["hash"], "size": log.stat().st_size})
    )
    with pytest.raises(HistoryRewritten, match="rewritten") as info:
        remote.push(a)
    assert str(anchor.seq) in info.value.message
    raw = raw_client(registry_server, repo)
    got = oci.read_anchor(a, raw, "alice")
    assert got is not None and got.seq == anchor.seq  # the evidence is kept


def test_two_workspaces_on_one_host_under_one_machine_name_each_keep_their_own_anchor(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    """Both default to the host name: the teammate's pull is not refused as a rewritten
    history (the anchor is another workspace's, signed by a key it trusts but does not own),
    and its push anchors under a name of its own, kept for the next runs."""
    a = workspace(tmp_path, "a")
    art = publish(a, "one-host")
    connect(a, registry_server, repo, "vm", login=True)
    assert remote.push(a).anchor is not None
    b = trusting(tmp_path, "b", a)
    connect(b, registry_server, repo, "vm")
    pulled = remote.pull(b)
    assert latest(b) == art.artifact_id and pulled.anchor is None
    assert any("another workspace's" in n for n in pulled.notes)
    publish(b, "from-b")  # b's own release, on top of a's: a fast-forward
    pushed = remote.push(b)
    own = "vm-" + b.keys.signing_key_id().split(":", 1)[1][:8]
    assert pushed.anchor is not None and pushed.anchor.machine == own
    assert remote.remote_list(b).machine == own
    assert any(f"anchors its audit log as {own}" in n for n in pushed.notes)
    # a's anchor is untouched, and each workspace's next push and pull check its own
    raw = raw_client(registry_server, repo)
    got = oci.read_anchor(a, raw, "vm")
    assert got is not None and got.key_id == a.keys.signing_key_id()
    a.keys.trust(b.keys.export_public())  # to take b's release
    assert remote.pull(a).anchor is not None and remote.pull(b).notes == []
    assert remote.push(b).anchor.machine == own


def test_a_teammate_on_one_host_who_does_not_trust_the_anchors_key_anchors_under_its_own_name(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    """An anchor that names a key this workspace does not own is another workspace's, whether
    it trusts that key or not: not a rewritten history of its own, not a signature error."""
    a = workspace(tmp_path, "a")
    publish(a, "one-host")
    connect(a, registry_server, repo, "vm", login=True)
    assert remote.push(a).anchor is not None
    b = workspace(tmp_path, "b")  # trusts nobody
    solo = b.profile("cursor", "solo")
    solo.draft.add_entry("demo", {"command": "npx", "args": ["-y", "solo"]})
    solo.draft.publish(changelog="b's own")
    connect(b, registry_server, repo, "vm")
    pushed = remote.push(b, client="cursor", profile="solo")
    own = "vm-" + b.keys.signing_key_id().split(":", 1)[1][:8]
    assert pushed.anchor is not None and pushed.anchor.machine == own
    assert any(f"anchors its audit log as {own}" in n for n in pushed.notes)
    got = oci.read_anchor(b, raw_client(registry_server, repo), "vm")  # a's, read as foreign
    assert got is not None and got.key_id == a.keys.signing_key_id()
    assert remote.push(b, client="cursor", profile="solo").anchor.machine == own
    with pytest.raises(SignatureError, match="does not trust"):  # a's release: told why
        remote.pull(b, client="cursor", profile="default")


# ---- the CLI -----------------------------------------------------------------------------------


def test_the_cli_adds_lists_pushes_pulls_and_removes_with_json(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    art = publish(a, "cli")
    runner = CliRunner()

    def run(ws: mo.Workspace, *argv: str, stdin: str | None = None) -> tuple[int, Any]:
        args = [*argv, "--workspace", str(ws.path), "--client-root", str(ws.client_root)]
        out = runner.invoke(cli, [*args, "--json"], input=stdin, catch_exceptions=False)
        return out.exit_code, json.loads(out.stdout)

    url = registry_server.url(repo)
    code, doc = run(a, "remote", "add", "origin", url, "--username", "alice", "--password-stdin",
                    stdin="wrong\n")  # fmt: skip
    assert code == 1 and doc["error"] == "RemoteAuthError" and "hint" in doc
    code, doc = run(a, "remote", "add", "origin", url, "--username", "alice", "--password-stdin",
                    "--machine", "alice", stdin=oci_kit.PASSWORD + "\n")  # fmt: skip
    assert code == 0 and doc["default"] is True and doc["plain_http"] is True
    code, doc = run(a, "remote", "add", "bad", url, "--username", "alice")
    assert code == 2 and "password" in doc["message"]
    code, doc = run(a, "remote", "list")
    assert [r["name"] for r in doc["remotes"]] == ["origin"] and doc["machine"] == "alice"
    code, doc = run(a, "push", "--client", "cursor", "--profile", "default")
    assert code == 0 and doc["profiles"][0]["artifact_id"] == art.artifact_id
    assert doc["requests"] > 0 and doc["anchor"]["machine"] == "alice"

    b = trusting(tmp_path, "b")
    code, doc = run(b, "remote", "add", "origin", url, "--machine", "bob")
    assert code == 0
    code, doc = run(b, "pull")
    assert code == 1 and doc["error"] == "SignatureError"
    b.keys.trust(a.keys.export_public())
    code, doc = run(b, "pull", "--remote", "origin")
    assert code == 0 and doc["profiles"][0]["status"] == "pulled"
    code, doc = run(b, "remote", "remove", "origin")
    assert code == 0 and doc == {"removed": "origin"}
    code, doc = run(b, "pull")
    assert code == 2 and doc["error"] == "NotFound"
    text = runner.invoke(cli, ["push", "--workspace", str(b.path)])
    assert text.exit_code == 2 and "Traceback" not in text.output


# ---- the shared policy -------------------------------------------------------------------------

TWO_SIGNATURES = "# the team baseline\n[signatures]\nrequired = 2\n"


def test_a_shared_policy_travels_signed_and_gates_the_machines_that_pull_it(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    publish(a, "gated")
    a.policy_path.write_text(TWO_SIGNATURES)
    connect(a, registry_server, repo, "alice", login=True)
    remote.push(a)  # releases only: a policy is shared on purpose
    assert oci.read_shared_policy(a, raw_client(registry_server, repo)) is None
    shared = remote.push(a, policy=True)
    assert shared.policy is not None and shared.policy["status"] == "pushed"
    assert shared.policy["digest"] == a.policy.digest  # type: ignore[union-attr]
    assert remote.push(a, policy=True).policy["status"] == "up to date"  # type: ignore[index]

    # a machine that does not trust the signer gets neither the policy nor the releases
    stranger = trusting(tmp_path, "c")
    connect(stranger, registry_server, repo, "carol")
    with pytest.raises(SignatureError):
        remote.pull(stranger)
    assert not stranger.policy_path.exists() and latest(stranger) is None

    b = trusting(tmp_path, "b", a)
    connect(b, registry_server, repo, "bob")
    pulled = remote.pull(b)
    assert pulled.policy is not None and pulled.policy["status"] == "pulled"
    assert b.policy_path.read_text() == TWO_SIGNATURES
    assert [e for e in b.audit.events() if e["details"].get("policy")]
    # the machine now enforces the team's policy: one signature is not enough to deploy
    runner = CliRunner()
    args = ["--workspace", str(b.path), "--client-root", str(b.client_root)]
    result = runner.invoke(cli, ["deploy-config", "-c", "cursor", *args])
    assert result.exit_code == 1 and "POL010" in result.output, result.output
    assert not (b.client_root / ".cursor" / "mcp.json").exists()
    assert b.verify().ok, b.verify().problems

    # an edit on the machine is never overwritten by a later pull
    b.policy_path.write_text(TWO_SIGNATURES + "[pins]\nexact = true\n")
    a.policy_path.write_text(TWO_SIGNATURES.replace("2", "1"))
    remote.push(a, policy=True)
    kept = remote.pull(b)
    assert kept.policy is not None and kept.policy["status"] == "kept"
    assert any("kept this workspace's own policy.toml" in n for n in kept.notes)
    assert "exact = true" in b.policy_path.read_text()


def test_a_shared_policy_is_pushed_fast_forward_and_a_replayed_one_is_refused(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    a = workspace(tmp_path, "a")
    a.keys.ensure()
    a.policy_path.write_text(TWO_SIGNATURES)
    connect(a, registry_server, repo, "alice", login=True)
    first = remote.push(a, policy=True).policy
    b = trusting(tmp_path, "b", a)
    connect(b, registry_server, repo, "bob")
    a.keys.trust(b.keys.export_public())
    remote.pull(b)
    b.policy_path.write_text(TWO_SIGNATURES.replace("2", "1"))
    assert remote.push(b, policy=True).policy["status"] == "pushed"  # type: ignore[index]
    # a has not pulled b's change: its push is refused, showing the remote's policy
    a.policy_path.write_text(TWO_SIGNATURES + "[pins]\nexact = true\n")
    with pytest.raises(RemoteConflict) as info:
        remote.push(a, policy=True)
    assert info.value.diff and info.value.diff[0]["policy"]["key_id"] == b.keys.current_key_id()
    assert "exact = true" in a.policy_path.read_text()  # nothing lost
    # someone points the policy tag back at the first (validly signed) document: refused
    raw = raw_client(registry_server, repo)
    assert first is not None
    old = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": oci.MANIFEST_TYPE,
            "artifactType": oci.POLICY_TYPE,
            "config": oci.EMPTY_DESCRIPTOR,
            "layers": [{"mediaType": oci.POLICY_TYPE, "digest": first["blob"], "size": 1}],
        }
    )
    current = raw.get_manifest_bytes(oci.POLICY_TAG)
    assert current is not None
    doc = json.loads(current[0])
    doc["layers"][0] = json.loads(old)["layers"][0]
    doc["annotations"][oci.NS + "signature"] = _signature_of(raw, first["blob"], a)
    raw.put_manifest(oci.POLICY_TAG, json.dumps(doc).encode())
    with pytest.raises(RemoteConflict, match="replayed policy"):
        remote.pull(b)
    assert b.policy_path.read_text() == TWO_SIGNATURES.replace("2", "1")


def _signature_of(raw: oci.OCIClient, blob: str, signer: mo.Workspace) -> str:
    return signer.keys.sign(raw.read_blob(blob))[1]


# ---- the whole team flow -----------------------------------------------------------------------


def test_ci_publishes_a_teammate_co_signs_and_a_machine_deploys_only_with_both(
    tmp_path: Path, registry_server: oci_kit.Registry, repo: str
) -> None:
    """CI publishes and shares a policy needing two signers of a named set; an approver pulls,
    `approve`s and pushes the approval; a machine that trusts both deploys, one that trusts
    only CI cannot (its one valid signer is not enough), and a policy naming another signer
    set refuses the same release."""
    ci = workspace(tmp_path, "ci")
    ci.keys.ensure()
    alice = trusting(tmp_path, "alice", ci)
    ci.keys.trust(alice.keys.export_public())
    pair = f'"{ci.keys.current_key_id()}", "{alice.keys.current_key_id()}"'
    ci.policy_path.write_text(f"[signatures]\nrequired = 2\nsigners = [{pair}]\n")
    art = publish(ci, "team")
    assert art.to_dict()["policy"] == ci.policy.digest  # type: ignore[union-attr]
    connect(ci, registry_server, repo, "ci", login=True)
    remote.push(ci)
    remote.push(ci, policy=True)

    connect(alice, registry_server, repo, "alice")
    remote.pull(alice)
    runner = CliRunner()
    args = ["--workspace", str(alice.path), "--client-root", str(alice.client_root), "--json"]
    approved = runner.invoke(cli, ["approve", art.artifact_id[7:19], *args])
    assert approved.exit_code == 0, approved.output
    assert remote.push(alice).profiles[0].approvals == 1

    laptop = trusting(tmp_path, "laptop", ci, alice)
    connect(laptop, registry_server, repo, "laptop")
    pulled = remote.pull(laptop)
    assert pulled.policy is not None and pulled.profiles[0].approvals == 1
    deployed = runner.invoke(
        cli,
        [
            "deploy-config",
            "-c",
            "cursor",
            "--workspace",
            str(laptop.path),
            "--client-root",
            str(laptop.client_root),
        ],
    )
    assert deployed.exit_code == 0, deployed.output
    assert (laptop.client_root / ".cursor" / "mcp.json").exists()
    assert laptop.verify().ok, laptop.verify().problems

    # a machine that does not trust the approver: the approval is dropped, one signer remains
    lone = trusting(tmp_path, "lone", ci)
    connect(lone, registry_server, repo, "lone")
    remote.pull(lone)
    refused = runner.invoke(
        cli,
        [
            "deploy-config",
            "-c",
            "cursor",
            "--workspace",
            str(lone.path),
            "--client-root",
            str(lone.client_root),
        ],
    )
    assert refused.exit_code == 1 and "POL010" in refused.output, refused.output
    assert not (lone.client_root / ".cursor" / "mcp.json").exists()

    # the same two signatures under a policy that names another signer set: refused
    other = '"ed25519:' + "0" * 32 + '"'
    laptop.policy_path.write_text(
        f'[signatures]\nrequired = 2\nsigners = ["{ci.keys.current_key_id()}", {other}]\n'
    )
    again = runner.invoke(
        cli,
        [
            "deploy-config",
            "-c",
            "cursor",
            "--workspace",
            str(laptop.path),
            "--client-root",
            str(laptop.client_root),
        ],
    )
    assert again.exit_code == 1 and "POL010" in again.output, again.output
