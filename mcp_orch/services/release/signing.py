"""Ed25519 keys, RFC 8785 canonical JSON, signing and verification.

    >>> from mcp_orch.services.release.signing import Keyring
    >>> from mcp_orch.core.ids import canonical
    >>> keys = Keyring(ws.path / "keys")
    >>> key_id, signature = keys.sign(canonical({"a": 1}))
    >>> keys.verify(key_id, canonical({"a": 1}), signature)      # raises SignatureError if not

The private key (``keys/private.pem``, mode 0600) is encrypted when ``MCP_ORCH_KEY_PASSPHRASE``
is set. A key id is ``ed25519:`` plus the first 32 hex digits of the SHA-256 of the raw public
key. ``rotate()`` makes a new key and keeps the old public key, so old artifacts still verify;
``trust()`` adds a team member's public key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import KeyringError, NotFound, ParseError, SignatureError
from mcp_orch.core.fs import atomic_write, locked

if TYPE_CHECKING:
    from mcp_orch.services.release.audit import AuditLog

PASSPHRASE_ENV = "MCP_ORCH_KEY_PASSPHRASE"


def key_id_of(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    import hashlib  # stdlib; loaded with the key code it belongs to

    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


def _file_name(key_id: str) -> str:
    return key_id.replace(":", "-") + ".pub"


class Keyring:
    """The signing keys of one workspace, plus the public keys it trusts."""

    def __init__(self, path: Path, audit: AuditLog | None = None) -> None:
        self.path = Path(path)
        self._private: Any = None
        self.audit = audit  # the workspace's AuditLog: key events are recorded there

    def _record(self, **details: Any) -> None:
        if self.audit is not None:
            self.audit.append("key", details=details)

    @property
    def private_path(self) -> Path:
        return self.path / "private.pem"

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
        with locked(self.path / "keyring"):
            created = not self.exists()
            if created:
                self._generate()
        kid = self.current_key_id()
        if created:
            self._record(event="init", key_id=kid)
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
        self._record(event="rotate", old=old, key_id=new)
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

        if not self.exists():
            self.init()
            return self._private
        data = self.private_path.read_bytes()
        try:
            self._private = serialization.load_pem_private_key(data, self._passphrase())
        except TypeError:
            raise KeyringError(
                "the signing key is encrypted",
                f"set {PASSPHRASE_ENV} to its passphrase",
            ) from None
        except ValueError:
            raise KeyringError(
                "the signing key cannot be read (wrong passphrase or damaged file)",
                f"check {PASSPHRASE_ENV}; rotating the key makes a new one",
            ) from None
        return self._private

    def sign(self, data: bytes) -> tuple[str, str]:
        """Sign bytes with the current key: (key id, base64 signature)."""
        key = self._load_private()
        import base64  # stdlib, with the signing code

        return key_id_of(key.public_key()), base64.b64encode(key.sign(data)).decode()

    def signing_key_id(self) -> str:
        return key_id_of(self._load_private().public_key())

    def public_key(self, key_id: str) -> Any:
        from cryptography.hazmat.primitives import serialization

        for folder in ("public", "trusted"):
            path = self.path / folder / _file_name(key_id)
            if path.exists():
                return serialization.load_pem_public_key(path.read_bytes())
        raise SignatureError(
            f"key {key_id} is not trusted by this workspace",
            "ask its owner to export the public key, and trust that key here",
        )

    def verify(self, key_id: str, data: bytes, signature: str) -> None:
        from cryptography.exceptions import InvalidSignature

        public = self.public_key(key_id)
        try:
            import base64  # stdlib, with the signing code

            public.verify(base64.b64decode(signature), data)
        except (InvalidSignature, ValueError):
            raise SignatureError(
                f"signature by {key_id} does not match the signed bytes",
                "the artifact was changed after signing; do not deploy it",
            ) from None

    def export_public(self, key_id: str | None = None) -> str:
        kid = key_id or self.current_key_id()
        path = self.path / "public" / _file_name(kid)
        if not path.exists():
            raise NotFound(
                f"no public key {kid}", "list the keys to see which ones this workspace has"
            )
        return path.read_text()

    def trust(self, pem: str | bytes) -> str:
        """Trust another workspace's public key (PEM). Returns its key id."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        raw = pem.encode() if isinstance(pem, str) else pem
        try:
            public = serialization.load_pem_public_key(raw)
        except ValueError:
            raise ParseError(
                "not a PEM public key", "use the output of `keys export-public`"
            ) from None
        if not isinstance(public, Ed25519PublicKey):
            raise ParseError("only Ed25519 public keys are supported", "export it with mcp-orch")
        kid = key_id_of(public)
        self._write_public(self.path / "trusted" / _file_name(kid), public)
        self._record(event="trust", key_id=kid)
        return kid

    def list(self) -> list[dict[str, str]]:
        current = self.current_key_id() if (self.path / "current").exists() else ""
        rows = []
        for folder, status in (("public", "own"), ("trusted", "trusted")):
            for p in sorted((self.path / folder).glob("*.pub")):
                kid = p.stem.replace("ed25519-", "ed25519:", 1)
                state = "current" if kid == current else ("retired" if status == "own" else status)
                rows.append({"key_id": kid, "status": state})
        return rows
