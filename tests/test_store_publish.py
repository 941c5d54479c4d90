"""Publishing and the content-addressed store (mcp_orch/store.py, publish.py, models.py).

Covers: the artifact id is the SHA-256 of the RFC 8785 envelope (recomputed here), written
``sha256:<hex>``; unique prefixes resolve, ambiguous/unknown/malformed ids are errors; a change to
any signed byte of a stored object is caught by ``store.get`` or ``verify`` (and deploy refuses);
a flipped signature byte is a ``SignatureError``; publish is idempotent for the same payload;
the same payload for two clients or two profiles gives two artifacts; invalid drafts are refused
with nothing stored; ``publish_file``; and several processes publishing to one profile at once
lose no ref update and keep the audit chain intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import rfc8785

import mcp_orch as mo
from mcp_orch.core.errors import (
    IntegrityError,
    InvalidConfig,
    NotFound,
    ParseError,
    SignatureError,
    UsageError,
)

ID_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


# ---- helpers -------------------------------------------------------------------------------------


def _entry(arg: str = "pkg", **extra: Any) -> dict[str, Any]:
    return {"command": "npx", "args": ["-y", arg], **extra}


def _publish(profile: mo.Profile, changelog: str = "", **servers: dict[str, Any]) -> mo.Artifact:
    profile.draft.clear()
    for name, entry in servers.items():
        profile.draft.add_entry(name, entry)
    return profile.draft.publish(changelog=changelog)


def _object_path(ws: mo.Workspace, artifact_id: str) -> Path:
    hexid = artifact_id.split(":", 1)[1]
    return ws.path / "objects" / "sha256" / hexid[:2] / f"{hexid}.json"


def _read_object(ws: mo.Workspace, artifact_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_object_path(ws, artifact_id).read_text(encoding="utf-8"))
    return data


def _write_object(ws: mo.Workspace, artifact_id: str, data: dict[str, Any]) -> None:
    path = _object_path(ws, artifact_id)
    os.chmod(path, 0o644)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def _audit_count(ws: mo.Workspace) -> int:
    return sum(1 for _ in ws.audit.events())


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def cursor(ws: mo.Workspace) -> mo.Profile:
    return ws.profile("cursor")


# ---- ids -----------------------------------------------------------------------------------------


def test_artifact_id_is_sha256_of_canonical_envelope(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, "first", time=_entry("time"))
    assert ID_RE.match(art.artifact_id)
    stored = _read_object(ws, art.artifact_id)
    envelope = stored["envelope"]
    assert _sha(rfc8785.dumps(envelope)) == art.artifact_id
    assert envelope["client"] == "cursor"
    assert envelope["profile"] == "default"
    assert envelope["payload"] == {"mcpServers": {"time": _entry("time")}}
    assert envelope["payload_digest"] == _sha(rfc8785.dumps(envelope["payload"]))
    assert envelope["parent"] is None
    assert envelope["changelog"] == "first"
    assert envelope["key_id"] == ws.keys.current_key_id()
    assert {"created", "type"} <= set(envelope)
    assert stored["signature"] == art.signature
    # the payload is exactly what the client will read
    assert art.payload == cursor.draft.payload
    assert art.servers == {"time": _entry("time")}


def test_second_publish_chains_to_the_first(cursor: mo.Profile) -> None:
    first = _publish(cursor, time=_entry("time"))
    second = _publish(cursor, time=_entry("time"), git=_entry("git"))
    assert second.parent == first.artifact_id
    assert cursor.latest() == second
    assert [a.artifact_id for a in cursor.history()] == [second.artifact_id, first.artifact_id]
    assert cursor.history().frame()["is_latest"].to_list() == [True, False]


def test_prefixes_resolve(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, time=_entry("time"))
    hexid = art.artifact_id.split(":", 1)[1]
    for ref in (hexid[:6], hexid[:12], "sha256:" + hexid[:8], hexid.upper()[:10], art.artifact_id):
        assert ws.store.resolve(ref) == art.artifact_id
        assert ws.store.get(ref).artifact_id == art.artifact_id
    assert cursor.artifact(hexid[:8]) == art
    assert cursor.artifact() == art


def test_loaded_artifact_equals_published(ws: mo.Workspace, cursor: mo.Profile) -> None:
    """store.py's docstring promises ``store.get(id) == artifact``."""
    art = _publish(cursor, time=_entry("time"))
    assert ws.store.get(art.artifact_id).model_dump() == art.model_dump()
    assert ws.store.get(art.artifact_id) == art


def test_a_release_read_back_by_another_process_keeps_each_entrys_key_order(
    ws: mo.Workspace, cursor: mo.Profile
) -> None:
    """The object file keeps the payload's key order (only its digest is canonical): a deploy
    from a fresh workspace writes the entry as the draft has it, not with sorted keys."""
    entry = {"type": "stdio", "command": "npx", "args": ["-y", "pkg"], "env": {"B": "1", "A": "2"}}
    art = _publish(cursor, time=entry)
    again = mo.Workspace(ws.path, client_root=ws.client_root).store.get(art.artifact_id)
    stored = again.payload["mcpServers"]["time"]
    assert list(stored) == ["type", "command", "args", "env"]
    assert list(stored["env"]) == ["B", "A"]
    assert again.artifact_id == art.artifact_id


def test_unknown_and_malformed_ids(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, time=_entry("time"))
    hexid = art.artifact_id.split(":", 1)[1]
    other = ("0" if hexid[0] != "0" else "1") + hexid[1:]
    with pytest.raises(NotFound):
        ws.store.get(other)
    with pytest.raises(NotFound):
        ws.store.get(other[:10])
    for bad in ("abc", "sha256:xyz123", "../../etc/passwd", "", "md5:" + hexid, hexid + "00"):
        with pytest.raises(UsageError):
            ws.store.get(bad)


def test_ambiguous_prefix(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, time=_entry("time"))
    hexid = art.artifact_id.split(":", 1)[1]
    # a second object whose id shares the first 8 digits (as two real ids eventually will)
    twin = hexid[:8] + ("0" if hexid[8] != "0" else "1") + hexid[9:]
    twin_path = _object_path(ws, "sha256:" + twin)
    twin_path.write_bytes(_object_path(ws, art.artifact_id).read_bytes())
    with pytest.raises(UsageError) as info:
        ws.store.resolve(hexid[:8])
    assert not isinstance(info.value, NotFound)
    assert "ambiguous" in info.value.message
    assert ws.store.resolve(hexid[:9]) == art.artifact_id


def test_profile_refuses_artifact_of_another_profile(ws: mo.Workspace) -> None:
    art = _publish(ws.profile("cursor"), time=_entry("time"))
    with pytest.raises(UsageError):
        ws.profile("cursor", "work").artifact(art.artifact_id)
    with pytest.raises(UsageError):
        ws.profile("windsurf").artifact(art.artifact_id)


def test_stored_objects_are_read_only(ws: mo.Workspace, cursor: mo.Profile) -> None:
    if sys.platform.startswith("win"):
        pytest.skip("POSIX permission bits")
    art = _publish(cursor, time=_entry("time"))
    assert _object_path(ws, art.artifact_id).stat().st_mode & 0o222 == 0


# ---- tampering -----------------------------------------------------------------------------------


def _tamper_payload(env: dict[str, Any], other: str | None) -> None:
    env["payload"]["mcpServers"]["time"]["args"][1] = "evil-pkg"


def _tamper_changelog(env: dict[str, Any], other: str | None) -> None:
    env["changelog"] += "!"


def _tamper_created(env: dict[str, Any], other: str | None) -> None:
    env["created"] = "2001-01-01T00:00:00.000000Z"


def _tamper_parent(env: dict[str, Any], other: str | None) -> None:
    env["parent"] = None if env["parent"] else other


def _tamper_key_id(env: dict[str, Any], other: str | None) -> None:
    env["key_id"] = "ed25519:" + "0" * 32


def _tamper_client(env: dict[str, Any], other: str | None) -> None:
    env["client"] = "windsurf"


def _tamper_profile(env: dict[str, Any], other: str | None) -> None:
    env["profile"] = "work"


def _tamper_payload_digest(env: dict[str, Any], other: str | None) -> None:
    env["payload_digest"] = "sha256:" + "0" * 64


def _tamper_type(env: dict[str, Any], other: str | None) -> None:
    env["type"] = "mcp-orch/artifact@2"


def _tamper_added_field(env: dict[str, Any], other: str | None) -> None:
    env["payload"]["mcpServers"]["time"]["env"] = {"X": "1"}


TAMPERS = [
    _tamper_payload,
    _tamper_changelog,
    _tamper_created,
    _tamper_parent,
    _tamper_key_id,
    _tamper_client,
    _tamper_profile,
    _tamper_payload_digest,
    _tamper_type,
    _tamper_added_field,
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=lambda f: f.__name__[len("_tamper_") :])
def test_any_changed_signed_byte_is_caught(
    ws: mo.Workspace, cursor: mo.Profile, tamper: Any
) -> None:
    first = _publish(cursor, "one", time=_entry("time"))
    art = _publish(cursor, "two", time=_entry("time-v2"))
    art.deploy()
    config = cursor.config_path()
    deployed_bytes = config.read_bytes()
    data = _read_object(ws, art.artifact_id)
    tamper(data["envelope"], first.artifact_id)
    _write_object(ws, art.artifact_id, data)

    with pytest.raises(IntegrityError):
        ws.store.get(art.artifact_id)
    with pytest.raises(IntegrityError):
        cursor.latest()
    with pytest.raises(IntegrityError):
        cursor.deploy()  # loads latest from the store: refused before anything is written
    report = ws.verify()
    assert not report["ok"]
    assert any(art.artifact_id in p or art.short_id in p for p in report["problems"])
    assert config.read_bytes() == deployed_bytes


def _rehash(ws: mo.Workspace, art: mo.Artifact, change: Any) -> str:
    """Tamper with an object AND give it the id its new content hashes to (a forger's move)."""
    data = _read_object(ws, art.artifact_id)
    change(data)
    env = data["envelope"]
    env["payload_digest"] = _sha(rfc8785.dumps(env["payload"]))
    new_id = _sha(rfc8785.dumps(env))
    path = _object_path(ws, new_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    (ws.path / "refs" / art.client / art.profile / "latest").write_text(new_id + "\n")
    return new_id


def test_rehashed_forgery_fails_signature_and_is_not_deployed(
    ws: mo.Workspace, cursor: mo.Profile
) -> None:
    art = _publish(cursor, time=_entry("time"))

    def change(data: dict[str, Any]) -> None:
        data["envelope"]["payload"]["mcpServers"]["time"]["command"] = "/tmp/evil"

    forged_id = _rehash(ws, art, change)
    forged = cursor.latest()
    assert forged is not None and forged.artifact_id == forged_id
    with pytest.raises(SignatureError):
        forged.verify()
    with pytest.raises(SignatureError):
        forged.deploy()
    assert not cursor.config_path().exists()
    assert cursor.deployed() is None
    assert not any(e["action"] == "deploy" for e in ws.audit.events())
    assert not ws.verify()["ok"]


def test_flipped_signature_byte(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, time=_entry("time"))
    data = _read_object(ws, art.artifact_id)
    sig = bytearray(base64.b64decode(data["signature"]))
    sig[10] ^= 0x01
    data["signature"] = base64.b64encode(bytes(sig)).decode()
    _write_object(ws, art.artifact_id, data)

    loaded = cursor.latest()  # the envelope is unchanged, so the id still matches
    assert loaded is not None
    with pytest.raises(SignatureError):
        loaded.verify()
    with pytest.raises(SignatureError):
        loaded.deploy()
    assert not cursor.config_path().exists()
    report = ws.verify()
    assert not report["ok"]
    assert report["problems"]


def test_damaged_object_file(ws: mo.Workspace, cursor: mo.Profile) -> None:
    art = _publish(cursor, time=_entry("time"))
    path = _object_path(ws, art.artifact_id)
    os.chmod(path, 0o644)
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(IntegrityError):
        ws.store.get(art.artifact_id)
    assert not ws.verify()["ok"]


def test_unbound_artifact_cannot_verify(cursor: mo.Profile) -> None:
    art = _publish(cursor, time=_entry("time"))
    copy = mo.Artifact.model_validate(art.model_dump())
    with pytest.raises(SignatureError):
        copy.verify()


# ---- idempotency, isolation ----------------------------------------------------------------------


def test_publish_is_idempotent_for_identical_payload(ws: mo.Workspace, cursor: mo.Profile) -> None:
    first = _publish(cursor, "one", time=_entry("time"))
    events = _audit_count(ws)
    objects = sorted(ws.store.all_ids())
    again = cursor.draft.publish(changelog="again")
    assert again.artifact_id == first.artifact_id
    assert again.changelog == "one"
    assert _audit_count(ws) == events
    assert sorted(ws.store.all_ids()) == objects
    assert ws.store.index("cursor", "default") == [first.artifact_id]
    # the same servers added in another order are the same payload too
    cursor.draft.clear()
    cursor.draft.add_entry("time", _entry("time"))
    assert cursor.draft.publish().artifact_id == first.artifact_id


def test_same_payload_for_two_clients_gives_two_artifacts(ws: mo.Workspace) -> None:
    a = _publish(ws.profile("cursor"), "x", time=_entry("time"))
    b = _publish(ws.profile("windsurf"), "x", time=_entry("time"))
    assert a.payload == b.payload
    assert a.payload_digest == b.payload_digest
    assert a.artifact_id != b.artifact_id
    assert (b.client, b.parent) == ("windsurf", None)
    assert ws.profile("cursor").latest() == a
    assert ws.profile("windsurf").latest() == b
    assert ws.store.index("cursor", "default") == [a.artifact_id]
    assert ws.store.index("windsurf", "default") == [b.artifact_id]


def test_same_payload_for_two_profiles_gives_two_artifacts(ws: mo.Workspace) -> None:
    a = _publish(ws.profile("cursor"), "x", time=_entry("time"))
    b = _publish(ws.profile("cursor", "work"), "x", time=_entry("time"))
    assert a.artifact_id != b.artifact_id
    assert (b.profile, b.parent) == ("work", None)
    assert ws.profile("cursor").latest() == a
    assert ws.profile("cursor", "work").latest() == b
    assert ws.store.get(a.artifact_id).profile == "default"


@pytest.mark.parametrize(
    "entry",
    [
        _entry("pkg", env={"GITHUB_TOKEN": "ghp_" + "a1B2" * 9}),  # literal secret (MCP003)
        _entry("{missing_param}"),  # unfilled placeholder (MCP002)
        {"command": 42},  # schema (MCP010)
    ],
    ids=["literal-secret", "placeholder", "schema"],
)
def test_publish_refuses_invalid_draft(
    ws: mo.Workspace, cursor: mo.Profile, entry: dict[str, Any]
) -> None:
    good = _publish(cursor, time=_entry("time"))
    events = _audit_count(ws)
    cursor.draft.add_entry("bad", entry)
    with pytest.raises(InvalidConfig) as info:
        cursor.draft.publish(changelog="bad")
    assert info.value.report is not None
    assert not info.value.report.ok
    assert cursor.latest() == good
    assert list(ws.store.all_ids()) == [good.artifact_id]
    assert _audit_count(ws) == events


def test_invalid_first_publish_creates_nothing(ws: mo.Workspace, cursor: mo.Profile) -> None:
    cursor.draft.add_entry("bad", _entry("{missing_param}"))
    with pytest.raises(InvalidConfig):
        cursor.draft.publish()
    assert cursor.latest() is None
    assert list(ws.store.all_ids()) == []
    assert _audit_count(ws) == 0


# ---- publish_file --------------------------------------------------------------------------------


def test_publish_file(ws: mo.Workspace, tmp_path: Path) -> None:
    file = tmp_path / "mcp.json"
    file.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "time": _entry("time"),
                    "remote": {"url": "https://example.com/mcp"},
                },
                "otherSetting": True,
            }
        ),
        encoding="utf-8",
    )
    art = ws.publish_file("cursor", "default", file, changelog="from file")
    assert art.servers == {
        "time": _entry("time"),
        "remote": {"url": "https://example.com/mcp"},
    }
    assert art.changelog == "from file"
    assert ws.profile("cursor").latest() == art
    art.verify()
    event = ws.audit.query(action="publish")[0]
    assert event["artifact_id"] == art.artifact_id
    # the same file again is the same artifact, no new event
    events = _audit_count(ws)
    assert ws.publish_file("cursor", "default", file).artifact_id == art.artifact_id
    assert _audit_count(ws) == events


def test_publish_file_errors(ws: mo.Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        ws.publish_file("cursor", "default", tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"mcpServers": {', encoding="utf-8")
    with pytest.raises(ParseError):
        ws.publish_file("cursor", "default", broken)
    secret = tmp_path / "secret.json"
    secret.write_text(
        json.dumps({"mcpServers": {"gh": _entry("gh", env={"T": "ghp_" + "Zz9" * 12})}}),
        encoding="utf-8",
    )
    with pytest.raises(InvalidConfig):
        ws.publish_file("cursor", "default", secret)
    assert list(ws.store.all_ids()) == []
    assert _audit_count(ws) == 0


# ---- concurrent publishers -----------------------------------------------------------------------

WORKERS = 4
PER_WORKER = 5

_WORKER = r"""
import json, sys, time
from pathlib import Path
import mcp_orch as mo

ws_path, root, worker, count, go = sys.argv[1:6]
ws = mo.Workspace(ws_path, client_root=root)
Path(f"{go}.ready{worker}").touch()
deadline = time.monotonic() + 120
while not Path(go).exists():
    if time.monotonic() > deadline:
        sys.exit("no go signal")
    time.sleep(0.002)
ids = []
for j in range(int(count)):
    name = f"w{worker}-{j}"
    f = Path(go).parent / f"{name}.json"
    f.write_text(json.dumps({"mcpServers": {name: {"command": "npx", "args": ["-y", name]}}}))
    ids.append(ws.publish_file("cursor", "default", f, changelog=name).artifact_id)
print(json.dumps(ids))
"""


@pytest.fixture(scope="module")
def concurrent_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """WORKERS processes publish PER_WORKER payloads each to cursor/default of one fresh
    workspace (no key yet), all released at the same moment."""
    base = tmp_path_factory.mktemp("concurrent")
    ws_path, root, home = base / "ws", base / "root", base / "home"
    for p in (root, home):
        p.mkdir()
    env = dict(os.environ)
    env.pop("MCP_ORCH_KEY_PASSPHRASE", None)
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        MCP_ORCH_HOME=str(ws_path),
        MCP_ORCH_CLIENT_ROOT=str(root),
    )
    go = base / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(ws_path),
                str(root),
                str(i),
                str(PER_WORKER),
                str(go),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(WORKERS)
    ]
    deadline = time.monotonic() + 120
    while not all((base / f"go.ready{i}").exists() for i in range(WORKERS)):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.01)
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return {"ws": ws_path, "root": root, "ids": results}


def test_concurrent_publishers_lose_no_ref_update(concurrent_run: dict[str, Any]) -> None:
    ws = mo.Workspace(concurrent_run["ws"], client_root=concurrent_run["root"])
    published = [aid for ids in concurrent_run["ids"] for aid in ids]
    assert len(published) == WORKERS * PER_WORKER
    assert len(set(published)) == len(published)
    index = ws.store.index("cursor", "default")
    assert sorted(index) == sorted(published)
    profile = ws.profile("cursor")
    latest = profile.latest()
    assert latest is not None
    chain = []
    node: mo.Artifact | None = latest
    while node is not None:
        chain.append(node.artifact_id)
        node.verify()
        node = ws.store.get(node.parent).bind(profile) if node.parent else None
    assert len(chain) == len(set(chain))
    assert sorted(chain) == sorted(published)
    # each worker's own artifacts appear in the chain in the order it published them
    for ids in concurrent_run["ids"]:
        positions = [chain.index(aid) for aid in ids]
        assert positions == sorted(positions, reverse=True)
    assert ws.verify()["ok"], ws.verify()["problems"]


def test_concurrent_publishers_keep_audit_chain(concurrent_run: dict[str, Any]) -> None:
    ws = mo.Workspace(concurrent_run["ws"], client_root=concurrent_run["root"])
    ws.audit.verify()
    publishes = [e for e in ws.audit.events() if e["action"] == "publish"]
    published = sorted(aid for ids in concurrent_run["ids"] for aid in ids)
    assert sorted(e["artifact_id"] for e in publishes) == published
    # the events' parents agree with the objects: each publish names the latest it replaced
    for e in publishes:
        assert ws.store.get(e["artifact_id"]).parent == e["details"]["parent"]


def test_concurrent_first_publish_makes_one_key(concurrent_run: dict[str, Any]) -> None:
    ws = mo.Workspace(concurrent_run["ws"], client_root=concurrent_run["root"])
    key_ids = {ws.store.get(aid).key_id for ids in concurrent_run["ids"] for aid in ids}
    assert len(key_ids) == 1
    assert ws.keys.list() == [{"key_id": key_ids.pop(), "status": "current"}]
    inits = [
        e for e in ws.audit.events() if e["action"] == "key" and e["details"].get("event") == "init"
    ]
    assert len(inits) == 1, f"{len(inits)} key-init events for one key"
