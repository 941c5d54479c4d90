"""Signing keys and canonical JSON (mcp_orch/signing.py).

Covers: the key is created on the first publish or by ``Keyring.init()``; the private key file is
mode 0600 and encrypted with ``MCP_ORCH_KEY_PASSPHRASE`` (wrong or missing passphrase ->
``KeyringError``); the key id is a fingerprint of the public key; ``rotate()`` keeps old public
keys so earlier artifacts still verify while new ones use the new key; ``export_public``/``trust``
let an artifact signed in workspace A verify in workspace B (and only then); ``canonical()``
follows RFC 8785 (key order by UTF-16 code units, ECMAScript number forms, no whitespace).
"""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import struct
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import mcp_orch as mo
from mcp_orch.core.errors import KeyringError, NotFound, ParseError, SignatureError
from mcp_orch.core.ids import canonical
from mcp_orch.services.release.signing import Keyring

PASS_ENV = "MCP_ORCH_KEY_PASSPHRASE"


# ---- helpers -------------------------------------------------------------------------------------


def _publish(ws: mo.Workspace, name: str = "demo", arg: str = "pkg") -> mo.Artifact:
    profile = ws.profile("cursor")
    profile.draft.add_entry(name, {"command": "npx", "args": ["-y", arg]}, replace=True)
    return profile.draft.publish(changelog=f"{name} {arg}")


def _fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def _key_events(ws: mo.Workspace) -> list[dict[str, object]]:
    return [e for e in ws.audit.events() if e["action"] == "key"]


# ---- key creation --------------------------------------------------------------------------------


def test_first_publish_creates_the_key(ws: mo.Workspace) -> None:
    assert not ws.keys.exists()
    assert not (ws.path / "keys" / "private.pem").exists()
    artifact = _publish(ws)
    assert ws.keys.exists()
    assert artifact.key_id == ws.keys.current_key_id()
    events = _key_events(ws)
    assert len(events) == 1
    public = serialization.load_pem_public_key(ws.keys.export_public().encode())
    assert events[0]["details"] == {
        "event": "init",
        "key_id": artifact.key_id,
        "fingerprint": "sha256:"
        + hashlib.sha256(
            public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).hexdigest(),
    }
    # a second publish reuses the key and records no new key event
    second = _publish(ws, arg="other")
    assert second.key_id == artifact.key_id
    assert len(_key_events(ws)) == 1


def test_init_creates_key_once(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    assert not keys.exists()
    with pytest.raises(KeyringError):
        keys.current_key_id()
    kid = keys.init()
    assert keys.exists()
    assert kid.startswith("ed25519:")
    assert keys.current_key_id() == kid
    pem_before = keys.private_path.read_bytes()
    assert keys.init() == kid  # idempotent: never replaces an existing key
    assert Keyring(tmp_path / "keys").init() == kid
    assert keys.private_path.read_bytes() == pem_before


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX permission bits")
def test_private_key_file_is_0600(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    keys.init()
    assert stat.S_IMODE(keys.private_path.stat().st_mode) == 0o600
    keys.rotate()
    assert stat.S_IMODE(keys.private_path.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX permission bits")
def test_private_key_created_by_publish_is_0600(ws: mo.Workspace) -> None:
    _publish(ws)
    assert stat.S_IMODE(ws.keys.private_path.stat().st_mode) == 0o600


def test_key_is_plain_pkcs8_without_passphrase(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    keys.init()
    pem = keys.private_path.read_bytes()
    assert b"BEGIN PRIVATE KEY" in pem
    assert b"ENCRYPTED" not in pem
    serialization.load_pem_private_key(pem, None)


# ---- passphrase ----------------------------------------------------------------------------------


def test_passphrase_encrypts_the_private_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASS_ENV, "correct horse battery staple")
    keys = Keyring(tmp_path / "keys")
    kid = keys.init()
    pem = keys.private_path.read_bytes()
    assert b"ENCRYPTED" in pem
    with pytest.raises(TypeError):  # really encrypted: unreadable without a password
        serialization.load_pem_private_key(pem, None)
    private = serialization.load_pem_private_key(pem, b"correct horse battery staple")
    assert _fingerprint(private.public_key()) == kid  # type: ignore[arg-type]
    # a fresh keyring (nothing cached) signs with the passphrase set
    fresh = Keyring(tmp_path / "keys")
    signed_kid, signature = fresh.sign(b"data")
    assert signed_kid == kid
    fresh.verify(kid, b"data", signature)


def test_missing_passphrase_is_a_keyring_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASS_ENV, "s3cret-pass")
    Keyring(tmp_path / "keys").init()
    monkeypatch.delenv(PASS_ENV)
    with pytest.raises(KeyringError) as info:
        Keyring(tmp_path / "keys").sign(b"data")
    assert PASS_ENV in info.value.hint


def test_wrong_passphrase_is_a_keyring_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASS_ENV, "s3cret-pass")
    Keyring(tmp_path / "keys").init()
    monkeypatch.setenv(PASS_ENV, "not-the-pass")
    with pytest.raises(KeyringError):
        Keyring(tmp_path / "keys").sign(b"data")


def test_publish_without_passphrase_stores_nothing(
    tmp_path: Path, client_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASS_ENV, "s3cret-pass")
    ws = mo.Workspace(tmp_path / "ws", client_root=client_root)
    first = _publish(ws)
    events = ws.audit.verify()
    monkeypatch.delenv(PASS_ENV)
    ws2 = mo.Workspace(tmp_path / "ws", client_root=client_root)  # nothing cached
    with pytest.raises(KeyringError):
        _publish(ws2, arg="other")
    assert ws2.profile("cursor").latest() == first
    assert list(ws2.store.all_ids()) == [first.artifact_id]
    assert ws2.audit.verify() == events


# ---- key id --------------------------------------------------------------------------------------


def test_key_id_is_fingerprint_of_public_key(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    kid = keys.init()
    private = serialization.load_pem_private_key(keys.private_path.read_bytes(), None)
    assert _fingerprint(private.public_key()) == kid  # type: ignore[arg-type]
    exported = serialization.load_pem_public_key(keys.export_public().encode())
    assert isinstance(exported, Ed25519PublicKey)
    assert _fingerprint(exported) == kid
    assert keys.signing_key_id() == kid
    # two keyrings never share an id
    assert Keyring(tmp_path / "other").init() != kid


def test_artifact_signature_verifies_with_exported_public_key(ws: mo.Workspace) -> None:
    """Independent check: the signature covers the RFC 8785 bytes of the stored envelope."""
    import rfc8785

    artifact = _publish(ws)
    public = serialization.load_pem_public_key(ws.keys.export_public(artifact.key_id).encode())
    assert isinstance(public, Ed25519PublicKey)
    stored = json.loads(ws.store._object_path(artifact.artifact_id).read_text())
    public.verify(base64.b64decode(stored["signature"]), rfc8785.dumps(stored["envelope"]))


def test_keyring_verify_rejects_changed_bytes(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    kid, signature = keys.sign(b'{"a":1}')  # signing creates the key on demand
    keys.verify(kid, b'{"a":1}', signature)
    with pytest.raises(SignatureError):
        keys.verify(kid, b'{"a":2}', signature)
    with pytest.raises(SignatureError):
        keys.verify(kid, b'{"a":1}', base64.b64encode(b"\0" * 64).decode())
    with pytest.raises(SignatureError):
        keys.verify("ed25519:" + "0" * 32, b'{"a":1}', signature)


# ---- rotation ------------------------------------------------------------------------------------


def test_rotate_keeps_old_artifacts_verifiable(ws: mo.Workspace) -> None:
    before = _publish(ws, arg="v1")
    old, new = ws.keys.rotate()
    assert old == before.key_id
    assert new != old
    assert ws.keys.current_key_id() == new
    # the old artifact, loaded again from disk, still verifies with the retired key
    ws2 = mo.Workspace(ws.path, client_root=ws.client_root)
    reloaded = ws2.store.get(before.artifact_id).bind(ws2.profile("cursor"))
    reloaded.verify()
    # new artifacts are signed with the new key, also by a fresh process (nothing cached)
    after = _publish(ws2, arg="v2")
    assert after.key_id == new
    after.verify()
    assert after.parent == before.artifact_id
    statuses = {row["key_id"]: row["status"] for row in ws2.keys.list()}
    assert statuses == {old: "retired", new: "current"}
    assert ws2.verify()["ok"]


def test_rotate_in_same_keyring_signs_with_new_key(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    first = keys.init()
    keys.sign(b"x")  # caches the old private key
    old, new = keys.rotate()
    assert old == first
    kid, signature = keys.sign(b"x")
    assert kid == new
    keys.verify(new, b"x", signature)
    assert keys.export_public(old) != keys.export_public(new)


def test_rotate_without_key_creates_one(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    old, new = keys.rotate()
    assert old == ""
    assert keys.current_key_id() == new


# ---- export / trust between workspaces -----------------------------------------------------------


def test_artifact_from_other_workspace_verifies_only_after_trust(
    tmp_path: Path, client_root: Path
) -> None:
    ws_a = mo.Workspace(tmp_path / "a", client_root=client_root)
    ws_b = mo.Workspace(tmp_path / "b", client_root=client_root)
    artifact = _publish(ws_a)
    # ship the stored object to B
    ws_b.store.put(artifact)
    profile_b = ws_b.profile("cursor")
    in_b = ws_b.store.get(artifact.artifact_id).bind(profile_b)
    with pytest.raises(SignatureError) as info:
        in_b.verify()
    assert "trust" in info.value.hint
    with pytest.raises(SignatureError):
        in_b.deploy()
    assert not profile_b.config_path().exists()

    kid = ws_b.keys.trust(ws_a.keys.export_public())
    assert kid == artifact.key_id
    in_b.verify()
    assert {"key_id": kid, "status": "trusted"} in ws_b.keys.list()
    # B's own key is still separate
    own = _publish(ws_b, name="mine")
    assert own.key_id != kid


def test_trust_accepts_bytes_and_is_idempotent(tmp_path: Path) -> None:
    a = Keyring(tmp_path / "a")
    b = Keyring(tmp_path / "b")
    kid = a.init()
    pem = a.export_public()
    assert b.trust(pem.encode()) == kid
    assert b.trust(pem) == kid
    assert [r for r in b.list() if r["status"] == "trusted"] == [
        {"key_id": kid, "status": "trusted"}
    ]


def test_trust_rejects_garbage_and_other_key_types(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = Keyring(tmp_path / "keys")
    with pytest.raises(ParseError):
        keys.trust("not a key")
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ParseError):
        keys.trust(ec_pem)
    assert not (tmp_path / "keys" / "trusted").exists() or not list(
        (tmp_path / "keys" / "trusted").iterdir()
    )


def test_export_public_unknown_key(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    keys.init()
    with pytest.raises(NotFound):
        keys.export_public("ed25519:" + "f" * 32)


def test_export_public_never_leaks_private_key(tmp_path: Path) -> None:
    keys = Keyring(tmp_path / "keys")
    keys.init()
    pem = keys.export_public()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in pem


# ---- RFC 8785 canonical JSON ---------------------------------------------------------------------


def test_canonical_brief_vector() -> None:
    assert canonical({"b": 1, "a": [1.0, 1e21, "é"]}) == '{"a":[1,1e+21,"é"],"b":1}'.encode()


def test_canonical_rfc8785_example() -> None:
    """The example of RFC 8785 section 3.2.2 (numbers, string escapes, literals)."""
    data = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical(data) == expected.encode("utf-8")


def test_canonical_sorts_keys_by_utf16_code_units() -> None:
    """RFC 8785 section 3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33."""
    data = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical(data)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_canonical_nested_and_whitespace() -> None:
    data = {"z": {"y": [3, {"b": None, "a": True}], "x": ""}, "a": []}
    assert canonical(data) == b'{"a":[],"z":{"x":"","y":[3,{"a":true,"b":null}]}}'
    # the same data in any key order gives the same bytes
    assert canonical(json.loads(json.dumps(data, sort_keys=True, indent=4))) == canonical(data)


@pytest.mark.parametrize(
    ("bits", "expected"),
    [
        # IEEE-754 bit patterns -> expected text, from RFC 8785 Appendix B
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ],
)
def test_canonical_number_forms(bits: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonical([value]) == f"[{expected}]".encode()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_canonical_refuses_non_json_numbers(bad: float) -> None:
    with pytest.raises(ValueError):
        canonical({"x": bad})


def test_canonical_string_escapes() -> None:
    # only the mandatory escapes; everything else is raw UTF-8 (no \\u escapes for non-ASCII)
    assert canonical(["\u0007", "\b\t\n\f\r", "</script>", "日本"]) == (
        '["\\u0007","\\b\\t\\n\\f\\r","</script>","日本"]'.encode()
    )


def test_canonical_is_bytes() -> None:
    assert isinstance(canonical({"a": 1}), bytes)
