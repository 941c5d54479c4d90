"""Ed25519 keys, RFC 8785 canonical JSON, signing and verification.

    >>> from mcp_orch.services.release.signing import Keyring
    >>> from mcp_orch.core.ids import canonical
    >>> keys = Keyring(ws.path / "keys")
    >>> key_id, signature = keys.sign(canonical({"a": 1}))
    >>> keys.verify(key_id, canonical({"a": 1}), signature)      # raises SignatureError if not

The private key (``keys/private.pem``, mode 0600) is encrypted when ``MCP_ORCH_KEY_PASSPHRASE``
is set. A key id is ``ed25519:`` plus the first 32 hex digits of the SHA-256 of the raw public
key (:func:`is_key_id` checks the form). ``rotate()`` makes a new key and keeps the old public
key, so old artifacts still verify; ``trust()`` adds a team member's public key; ``revoke()``
moves a trusted or retired key to ``keys/revoked/``, after which its signatures are refused.

A signature is checked only against the workspace's own keys (``keys/public/``) and the keys
it trusts (``keys/trusted/``), each found by the fixed file name of its id; the file must be a
regular file (no symbolic link) holding exactly the key of that id. Every change of the key set
is one ``key`` audit event, and :meth:`Keyring.trust_problems` compares the key files with what
those events say.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

from mcp_orch.core.errors import (
    KeyringError,
    NotFound,
    ParseError,
    SignatureError,
    UsageError,
)
from mcp_orch.core.fs import atomic_write, locked
from mcp_orch.core.markup import badge, html_table, page, safe_html
from mcp_orch.core.text import plural

if TYPE_CHECKING:
    from mcp_orch.services.release.audit import AuditLog

PASSPHRASE_ENV = "MCP_ORCH_KEY_PASSPHRASE"
#: The one form of a key id: ``ed25519:`` and exactly 32 lowercase hex digits.
KEY_ID_PATTERN = r"ed25519:[0-9a-f]{32}"
KEY_ID_FORM = "ed25519: and 32 lowercase hex digits"
#: The folders of a keyring, and what a key in each of them is.
FOLDERS = {"public": "own", "trusted": "trusted", "revoked": "revoked"}
_MAX_KEY_FILE = 64 * 1024  # a PEM public key is ~113 bytes


def is_key_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` has the form of a key id (never a path, never with a newline)."""
    return isinstance(value, str) and re.fullmatch(KEY_ID_PATTERN, value) is not None


def bad_key_id(value: object) -> str:
    """The message for a value that is not a key id (repr-escaped: a path or a newline shows)."""
    return f"key id {value!r} is not a key id ({KEY_ID_FORM})"


def key_id_of(public_key: Any) -> str:
    return "ed25519:" + _raw_digest(public_key)[:32]


def fingerprint_of(public_key: Any) -> str:
    """``sha256:`` and the whole SHA-256 of the raw public key (the key id is its first half)."""
    return "sha256:" + _raw_digest(public_key)


def _raw_digest(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    import hashlib  # stdlib; loaded with the key code it belongs to

    return hashlib.sha256(raw).hexdigest()


def _file_name(key_id: str) -> str:
    return key_id.replace(":", "-") + ".pub"


def _key_id_of_name(name: str) -> str:
    return name.removesuffix(".pub").replace("ed25519-", "ed25519:", 1)


class _BadKeyFile(Exception):
    """A key file that cannot be used; the message says why (without the file's content)."""


class _NotEd25519(_BadKeyFile):
    """A well-formed public key of another type."""


def _read_key_file(path: Path) -> bytes:
    """The bytes of a key file: a regular file, not a symbolic link, of a sane size."""
    import stat  # stdlib

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _BadKeyFile(f"cannot be read ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        raise _BadKeyFile("is a symbolic link, not a key file of this workspace")
    if not stat.S_ISREG(st.st_mode):
        raise _BadKeyFile("is not a regular file")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _BadKeyFile(f"cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)  # the file opened, not the name: nothing swapped in between
        if not stat.S_ISREG(st.st_mode):
            raise _BadKeyFile("is not a regular file")
        data = os.read(fd, _MAX_KEY_FILE + 1)
    finally:
        os.close(fd)
    if len(data) > _MAX_KEY_FILE:
        raise _BadKeyFile(f"is larger than {_MAX_KEY_FILE} bytes, so it is not a public key")
    return data


def _parse_public(data: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise _BadKeyFile("is damaged: it is not a PEM public key") from None
    except Exception as exc:  # cryptography's UnsupportedAlgorithm and kin
        raise _BadKeyFile(f"is damaged: {type(exc).__name__}") from None
    if not isinstance(public, Ed25519PublicKey):
        raise _NotEd25519("is not an Ed25519 public key")
    return public


def _load_public_file(path: Path, key_id: str | None) -> Any:
    """The Ed25519 public key in ``path``; with ``key_id``, it must be exactly that key."""
    public = _parse_public(_read_key_file(path))
    if key_id is not None and key_id_of(public) != key_id:
        raise _BadKeyFile(
            f"holds key {key_id_of(public)}, not {key_id} (a key file renamed to another id)"
        )
    return public


@dataclass
class KeyState:
    """The key set as the audit log tells it (see :meth:`Keyring.replay`)."""

    own: dict[str, str | None] = field(default_factory=dict)  # key id -> fingerprint
    trusted: dict[str, str | None] = field(default_factory=dict)
    revoked: dict[str, str | None] = field(default_factory=dict)
    current: str | None = None  # the key of the last init or rotate

    def folder(self, name: str) -> dict[str, str | None]:
        return {"public": self.own, "trusted": self.trusted, "revoked": self.revoked}[name]


class Keyring:
    """The signing keys of one workspace, plus the public keys it trusts (and has revoked)."""

    def __init__(self, path: Path, audit: AuditLog | None = None) -> None:
        self.path = Path(path)
        self._private: Any = None
        self.audit = audit  # the workspace's AuditLog: key events are recorded there

    def __repr__(self) -> str:
        try:
            current = (self.path / "current").read_text().strip() if self.exists() else ""
        except OSError:  # a repr never raises
            current = "?"
        return f"<Keyring {self.path}: {'signing key ' + current if current else 'no signing key'}>"

    def _repr_html_(self) -> str:
        def render() -> str:
            keys = self.list()
            look = {"current": "ok", "trusted": "info", "retired": "muted", "revoked": "error"}
            rows = [
                (
                    k["key_id"],
                    badge("error", "damaged")
                    if k.get("damaged")
                    else badge(look.get(k["status"], "info"), k["status"]),
                    k.get("damaged", ""),
                )
                for k in keys
            ]
            current = next((k["key_id"] for k in keys if k["status"] == "current"), "")
            head = (
                f"<div><b>Keys</b> <code>{escape(str(self.path))}</code>: "
                + (
                    f"signing key <code>{escape(current)}</code>"
                    if current
                    else str(badge("warning", "no signing key"))
                )
                + f" · {escape(plural(len(keys), 'key file'))}</div>"
            )
            return page(head, html_table(["key", "status", "problem"], rows) if rows else "")

        return safe_html(render, self)

    def _record(self, **details: Any) -> None:
        if self.audit is not None:
            self.audit.append("key", details=details)

    @property
    def private_path(self) -> Path:
        return self.path / "private.pem"

    def key_path(self, folder: str, key_id: str) -> Path:
        """The one file a key id may live in, in ``public``, ``trusted`` or ``revoked``."""
        if not is_key_id(key_id):  # never a path: the id is checked before it names a file
            raise SignatureError(bad_key_id(key_id), "do not use an artifact that names it")
        return self.path / folder / _file_name(key_id)

    def exists(self) -> bool:
        return self.private_path.exists()

    def _passphrase(self) -> bytes | None:
        value = os.environ.get(PASSPHRASE_ENV)
        return value.encode() if value else None

    def init(self) -> str:
        """Create the signing key if there is none; return the current key id."""
        return self.ensure()[0]

    def ensure(self) -> tuple[str, bool]:
        """(current key id, whether this call created it) — decided under the keyring lock, so
        processes racing to make the first key agree on who made it."""
        fingerprint = ""
        with locked(self.path / "keyring"):
            created = not self.exists()
            if created:
                self._generate()
                fingerprint = fingerprint_of(self._private.public_key())
        kid = self.current_key_id()
        if created:
            self._record(event="init", key_id=kid, fingerprint=fingerprint)
        return kid, created

    def _generate(self) -> str:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        passphrase = self._passphrase()
        encryption: Any = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        kid = key_id_of(key.public_key())
        self._write_public(self.path / "public" / _file_name(kid), key.public_key())
        atomic_write(self.private_path, pem, mode=0o600)
        atomic_write(self.path / "current", kid + "\n", mode=0o644)
        self._private = key
        return kid

    def _write_public(self, path: Path, public_key: Any) -> None:
        from cryptography.hazmat.primitives import serialization

        pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        atomic_write(path, pem, mode=0o644)

    def rotate(self) -> tuple[str, str]:
        """A new signing key; the old public key stays so old artifacts verify. (old, new)."""
        with locked(self.path / "keyring"):
            old = self.current_key_id() if self.exists() else ""
            self._private = None
            new = self._generate()
            fingerprint = fingerprint_of(self._private.public_key())
        self._record(event="rotate", old=old, key_id=new, fingerprint=fingerprint)
        return old, new

    def current_key_id(self) -> str:
        try:
            return (self.path / "current").read_text().strip()
        except FileNotFoundError:
            raise KeyringError(
                "this workspace has no signing key yet", "create the signing key first (keys init)"
            ) from None

    def _load_private(self) -> Any:
        if self._private is not None:
            try:  # another process may have rotated the key since it was loaded
                current = (self.path / "current").read_text().strip()
            except FileNotFoundError:
                current = ""
            if current == key_id_of(self._private.public_key()):
                return self._private
            self._private = None
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if not self.exists():
            self.init()
            return self._private
        where = str(self.private_path)
        try:
            data = self.private_path.read_bytes()
        except OSError as exc:
            raise KeyringError(
                f"the signing key {where} cannot be read ({exc.strerror})",
                "check the file's permissions, or restore it from a backup",
            ) from None
        passphrase = self._passphrase()
        try:
            key = serialization.load_pem_private_key(data, passphrase)
        except TypeError:
            if passphrase:  # a passphrase is set, but this key is stored unencrypted
                raise KeyringError(
                    f"the signing key {where} is not encrypted, but {PASSPHRASE_ENV} is set",
                    f"unset {PASSPHRASE_ENV} to sign with it",
                ) from None
            raise KeyringError(
                "the signing key is encrypted",
                f"set {PASSPHRASE_ENV} to its passphrase",
            ) from None
        except Exception:  # ValueError for damaged bytes; UnsupportedAlgorithm and kin
            if passphrase and b"ENCRYPTED" in data:
                raise KeyringError(
                    f"the signing key {where} cannot be decrypted: wrong passphrase",
                    f"check {PASSPHRASE_ENV}",
                ) from None
            raise KeyringError(
                f"the signing key {where} is damaged: it is not a PEM private key",
                "restore keys/private.pem from a backup, or make a new signing key (keys "
                "rotate); artifacts signed before still verify with their public key",
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyringError(
                f"the signing key {where} is not an Ed25519 key",
                "restore keys/private.pem from a backup, or make a new signing key (keys rotate)",
            )
        self._private = key
        return self._private

    def sign(self, data: bytes) -> tuple[str, str]:
        """Sign bytes with the current key: (key id, base64 signature)."""
        key = self._load_private()
        import base64  # stdlib, with the signing code

        return key_id_of(key.public_key()), base64.b64encode(key.sign(data)).decode()

    def signing_key_id(self) -> str:
        return key_id_of(self._load_private().public_key())

    def own_key_ids(self) -> set[str]:
        """This workspace's own keys, current and retired (not the ones it trusts)."""
        return {_key_id_of_name(p.name) for p in (self.path / "public").glob("*.pub")}

    # -- verification ------------------------------------------------------------------------
    def is_revoked(self, key_id: str) -> bool:
        return os.path.lexists(self.key_path("revoked", key_id))

    def public_key(self, key_id: str) -> Any:
        """The public key of ``key_id``, from the workspace's own or trusted keys only;
        ``SignatureError`` (naming the key) for a malformed id, a revoked, unknown or damaged
        key, or a file that does not hold exactly that key."""
        if self.is_revoked(key_id):  # the id's form is checked here too
            raise SignatureError(
                f"signed by revoked key {key_id}",
                "the key was revoked in this workspace; do not deploy what it signed, and "
                "publish the config again with a key this workspace trusts",
            )
        for folder in ("public", "trusted"):
            path = self.key_path(folder, key_id)
            try:
                return _load_public_file(path, key_id)
            except FileNotFoundError:
                continue
            except _BadKeyFile as exc:
                raise SignatureError(
                    f"key {key_id}: {path} {exc}", self._repair_hint(folder)
                ) from None
        raise SignatureError(
            f"key {key_id} is not trusted by this workspace",
            "ask its owner to export the public key, and trust that key here",
        )

    @staticmethod
    def _repair_hint(folder: str) -> str:
        if folder == "trusted":
            return (
                "restore the file from a backup, or remove it and trust the key again "
                "(keys trust) from its owner's export"
            )
        return (
            "restore the file from a backup; an own public key cannot be made again, so "
            "what it signed cannot be verified until it is restored"
        )

    def verify(self, key_id: str, data: bytes, signature: str) -> None:
        from cryptography.exceptions import InvalidSignature

        public = self.public_key(key_id)
        try:
            import base64  # stdlib, with the signing code

            public.verify(base64.b64decode(signature), data)
        except (InvalidSignature, ValueError, TypeError):
            raise SignatureError(
                f"signature by {key_id} does not match the signed bytes",
                "the artifact was changed after signing; do not deploy it",
            ) from None

    # -- sharing and trust -------------------------------------------------------------------
    def export_public(self, key_id: str | None = None) -> str:
        kid = key_id or self.current_key_id()
        if not is_key_id(kid):
            raise UsageError(bad_key_id(kid), "list the keys to see which ones this workspace has")
        path = self.path / "public" / _file_name(kid)
        try:
            public = _load_public_file(path, kid)
        except FileNotFoundError:
            raise NotFound(
                f"no public key {kid}", "list the keys to see which ones this workspace has"
            ) from None
        except _BadKeyFile as exc:
            raise KeyringError(f"key {kid}: {path} {exc}", self._repair_hint("public")) from None
        from cryptography.hazmat.primitives import serialization

        pem: bytes = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode()

    def _audited(self) -> KeyState | None:
        """The key set the audit log records, or None for a keyring without a log."""
        return None if self.audit is None else self.replay(self.audit.events())

    def trust(self, pem: str | bytes) -> str:
        """Trust another workspace's public key (PEM). Returns its key id. Trusting a key that
        is already trusted (its file in place, its trust in the audit log) changes nothing."""
        raw = pem.encode() if isinstance(pem, str) else pem
        try:
            public = _parse_public(raw)
        except _NotEd25519:
            raise ParseError(
                "only Ed25519 public keys are supported", "export it with mcp-orch"
            ) from None
        except _BadKeyFile:
            raise ParseError(
                "not a PEM public key", "use the output of `keys export-public`"
            ) from None
        kid = key_id_of(public)
        path = self.path / "trusted" / _file_name(kid)
        with locked(self.path / "keyring"):
            if self.is_revoked(kid):
                raise KeyringError(
                    f"key {kid} was revoked in this workspace, so it cannot be trusted again",
                    "ask its owner for a new key (they rotate and export it), and trust that",
                )
            try:
                in_place = key_id_of(_load_public_file(path, kid)) == kid
            except (FileNotFoundError, _BadKeyFile):
                in_place = False
            audited = self._audited()
            if in_place and (audited is None or kid in audited.trusted):
                return kid
            if not in_place:
                if os.path.islink(path):
                    os.unlink(path)  # never write through a link
                self._write_public(path, public)
        self._record(event="trust", key_id=kid, fingerprint=fingerprint_of(public))
        return kid

    def revoke(self, key_id: str) -> tuple[str, str]:
        """Revoke a trusted key or an own retired one: its file moves to ``keys/revoked/``
        and its signatures are refused from then on. Returns (key id, what it was:
        ``trusted``, ``retired``, or ``revoked`` when it already was and nothing changed)."""
        if not is_key_id(key_id):
            raise UsageError(bad_key_id(key_id), "list the keys to see their ids")
        kid = key_id
        target = self.path / "revoked" / _file_name(kid)
        with locked(self.path / "keyring"):
            sources = [
                self.path / folder / _file_name(kid)
                for folder in ("public", "trusted")
                if os.path.lexists(self.path / folder / _file_name(kid))
            ]
            if not sources:
                audited = self._audited()
                if os.path.lexists(target):
                    if audited is None or kid in audited.revoked:
                        return kid, "revoked"
                else:
                    raise NotFound(
                        f"no key {kid} in this workspace",
                        "list the keys to see which ones it owns and trusts",
                    )
            if (self.path / "current").exists() and self.current_key_id() == kid:
                raise UsageError(
                    f"key {kid} is the current signing key, so it cannot be revoked",
                    "make a new signing key first (keys rotate), then revoke this one",
                )
            was = "retired" if any(p.parent.name == "public" for p in sources) else "trusted"
            fingerprint = ""
            data = b""
            for source in sources or [target]:
                try:
                    public = _load_public_file(source, kid)
                except (FileNotFoundError, _BadKeyFile):
                    continue  # a damaged file is revoked all the same
                fingerprint = fingerprint_of(public)
                data = _read_key_file(source)
                break
            if sources or not os.path.lexists(target):
                # the revoked file first: from the moment it exists the key is refused
                atomic_write(target, data, mode=0o644)
            for source in sources:
                os.unlink(source)
            if not sources:
                was = "revoked"
        details: dict[str, Any] = {"event": "revoke", "key_id": kid, "was": was}
        if fingerprint:
            details["fingerprint"] = fingerprint
        self._record(**details)
        return kid, was

    # -- listing and checking ----------------------------------------------------------------
    def list(self) -> list[dict[str, str]]:
        """Every key file: ``key_id`` and ``status`` (current, retired, trusted, revoked), and
        ``damaged`` (why) for a file that cannot be used."""
        current = self.current_key_id() if (self.path / "current").exists() else ""
        rows = []
        for folder, kind in FOLDERS.items():
            for p in sorted((self.path / folder).glob("*.pub")):
                kid = _key_id_of_name(p.name)
                state = "current" if kid == current else ("retired" if kind == "own" else kind)
                row = {"key_id": kid, "status": state}
                problem = self._file_problem(p)
                if problem:
                    row["damaged"] = problem
                rows.append(row)
        return rows

    def _file_problem(self, path: Path) -> str:
        """Why a key file cannot be used ("" when it can)."""
        kid = _key_id_of_name(path.name)
        if not is_key_id(kid):
            return f"its name is not a key id ({KEY_ID_FORM})"
        if path.parent.name == "revoked" and not os.path.islink(path):
            return ""  # a revoked key is refused whatever the file holds
        try:
            _load_public_file(path, kid)
        except _BadKeyFile as exc:
            return str(exc)
        except FileNotFoundError:
            return "it is gone"
        return ""

    @staticmethod
    def replay(events: Iterable[dict[str, Any]]) -> KeyState:
        """The key set the ``key`` audit events make: init and rotate add own keys (the last
        one is current), trust adds trusted keys, revoke moves a key to the revoked ones.
        Token events (action ``key`` with a ``token`` detail) are not about signing keys."""
        state = KeyState()
        for event in events:
            details = event.get("details")
            if event.get("action") != "key" or not isinstance(details, dict):
                continue
            if "token" in details:
                continue
            kid = details.get("key_id")
            if not is_key_id(kid):
                continue
            fingerprint = details.get("fingerprint") or None
            kind = details.get("event")
            if kind in ("init", "rotate"):
                state.own[kid] = fingerprint
                state.current = kid
            elif kind == "trust":
                state.trusted[kid] = fingerprint
            elif kind == "revoke":
                own = state.own.pop(kid, None)
                trusted = state.trusted.pop(kid, None)
                state.revoked[kid] = fingerprint or own or trusted
        return state

    def trust_problems(self, events: Iterable[dict[str, Any]]) -> builtins.list[str]:
        """Where the key files differ from what the audit log says, one line per problem:
        a key file with no event, an event whose key file is gone, a file that is damaged or
        holds another key, a current key that is not the last one made. Empty when they
        agree. ``verify`` reports these lines."""
        state = self.replay(events)
        problems: builtins.list[str] = []
        how = {
            "public": "own keys are made only by `mcp-orch keys init` and `keys rotate`; remove it",
            "trusted": "remove it or trust it with `mcp-orch keys trust`",
            "revoked": "revoke it with `mcp-orch keys revoke` so the log records it",
        }
        recorded_as = {"public": "an own key", "trusted": "trusted", "revoked": "revoked"}
        for folder in FOLDERS:
            expected = state.folder(folder)
            found: set[str] = set()
            for p in sorted((self.path / folder).glob("*.pub")):
                kid = _key_id_of_name(p.name)
                where = f"keys/{folder}/{p.name}"
                if not is_key_id(kid):
                    problems.append(
                        f"{where!r} is not a key file: its name is not a key id ({KEY_ID_FORM}); "
                        "remove it"
                    )
                    continue
                found.add(kid)
                problem = self._file_problem(p)
                if problem:
                    problems.append(f"key {kid}: {where} {problem}")
                if kid not in expected:
                    problems.append(
                        f"key {kid} in keys/{folder}/ was added without an audit event; "
                        f"{how[folder]}"
                    )
                    continue
                recorded = expected[kid]
                if recorded and not problem and folder != "revoked":
                    public = _load_public_file(p, kid)
                    if fingerprint_of(public) != recorded:
                        problems.append(
                            f"key {kid}: {where} is not the key the audit log recorded "
                            f"(fingerprint {fingerprint_of(public)}, recorded {recorded})"
                        )
            for kid in sorted(set(expected) - found):
                problems.append(
                    f"key {kid} is {recorded_as[folder]} in the audit log, but "
                    f"keys/{folder}/{_file_name(kid)} is missing; restore it from a backup"
                )
        current_path = self.path / "current"
        try:
            current: str | None = current_path.read_text(errors="replace").strip()
        except FileNotFoundError:
            current = None
        except OSError as exc:
            current = None
            problems.append(f"keys/current cannot be read ({exc.strerror})")
        if current is not None and current != state.current:
            if state.current is None:
                problems.append(
                    f"the current signing key {current!r} was made without an audit event "
                    "(no init or rotate in the log)"
                )
            else:
                problems.append(
                    f"the current signing key is {current!r}, but the audit log's last init "
                    f"or rotate made {state.current}"
                )
        elif current is None and state.current is not None and self.exists():
            problems.append(
                f"keys/current is missing; the audit log's current key is {state.current}"
            )
        return problems
