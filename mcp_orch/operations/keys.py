"""Signing-key actions: init, rotate, export the public key, trust a teammate's, revoke, list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp_orch.core.errors import ParseError
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result


@dataclass
class KeyCreated(Result):
    key_id: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "created": self.created}


def init_key(ws: Workspace) -> KeyCreated:
    """Create the workspace's signing key (if it has none)."""
    kid, created = ws.keys.ensure()
    return KeyCreated(kid, created)


@dataclass
class KeyRotated(Result):
    old: str | None
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "key_id": self.key_id}


def rotate_key(ws: Workspace) -> KeyRotated:
    """A new signing key; old public keys stay so old artifacts still verify."""
    old, new = ws.keys.rotate()
    return KeyRotated(old or None, new)


@dataclass
class PublicKey(Result):
    key_id: str
    pem: str

    def to_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "pem": self.pem}


def export_public(ws: Workspace, key_id: str | None = None) -> PublicKey:
    """A public key (PEM) to share with teammates (default: the current one)."""
    pem = ws.keys.export_public(key_id)
    return PublicKey(key_id or ws.keys.current_key_id(), pem)


@dataclass
class KeyTrusted(Result):
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"trusted": self.key_id}


def trust_key(ws: Workspace, pem: str | bytes, *, source: str = "the key") -> KeyTrusted:
    """Trust a teammate's public key (PEM)."""
    try:
        kid = ws.keys.trust(pem)
    except ParseError as exc:
        raise ParseError(f"{source}: {exc.message}", exc.hint) from None
    return KeyTrusted(kid)


@dataclass
class KeyRevoked(Result):
    key_id: str
    was: str  # "trusted", "retired", or "revoked" when it already was (nothing changed)

    def to_dict(self) -> dict[str, Any]:
        return {"revoked": self.key_id, "was": self.was}


def revoke_key(ws: Workspace, key_id: str) -> KeyRevoked:
    """Revoke a trusted key or an own retired one: what it signed is refused from then on."""
    kid, was = ws.keys.revoke(key_id)
    return KeyRevoked(kid, was)


@dataclass
class KeysResult(Result):
    keys: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {"keys": self.keys}


def list_keys(ws: Workspace) -> KeysResult:
    """Own (current and retired), trusted and revoked public keys; a key file that cannot be
    used has ``damaged`` (why)."""
    return KeysResult(ws.keys.list())
