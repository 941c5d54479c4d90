"""Pin actions: a profile's settings, ``outdated`` and ``upgrade``.

>>> pins.settings(ws, "cursor", "default", pin="minor").to_dict()
{'client': 'cursor', 'profile': 'default', 'pin': 'minor', 'pin_tools': False, 'keep_backups': 20, 'secrets': 'auto'}
>>> pins.outdated(ws, "cursor", "default").to_dict()["outdated"]
['memory']
>>> pins.upgrade(ws, "cursor", "default", "memory").to_dict()["changed"]
{'memory': {'from': '2026.8.31', 'to': '2026.9.1'}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp_orch.facade.pinning import OutdatedReport, UpgradeReport
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result


@dataclass
class SettingsResult(Result):
    client: str
    profile: str
    values: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"client": self.client, "profile": self.profile, **self.values}


def settings(
    ws: Workspace,
    client: str,
    profile: str,
    *,
    pin: str | None = None,
    pin_tools: bool | None = None,
    keep_backups: int | None = None,
    secrets: str | None = None,
) -> SettingsResult:
    """A profile's settings, changed first when ``pin``, ``pin_tools``, ``keep_backups`` or
    ``secrets`` is given."""
    prof = ws.profile(client, profile)
    if any(v is not None for v in (pin, pin_tools, keep_backups, secrets)):
        prof.configure(pin=pin, pin_tools=pin_tools, keep_backups=keep_backups, secrets=secrets)
    return SettingsResult(prof.client.id, prof.id, prof.settings)


@dataclass
class OutdatedResult(Result):
    report: OutdatedReport

    @property
    def ok(self) -> bool:
        return not self.report.outdated

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


def outdated(
    ws: Workspace,
    client: str,
    profile: str,
    servers: list[str] | None = None,
    *,
    timeout: float = 20.0,
) -> OutdatedResult:
    """Managed servers whose registry has newer versions (and whether the catalog's entry
    changed since they were added)."""
    return OutdatedResult(ws.profile(client, profile).outdated(servers or None, timeout=timeout))


@dataclass
class UpgradeResult(Result):
    report: UpgradeReport

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


def upgrade(
    ws: Workspace,
    client: str,
    profile: str,
    server: str | None = None,
    *,
    to: str | None = None,
    timeout: float = 20.0,
) -> UpgradeResult:
    """Put the newer pins (or ``to`` for one server) into the draft; publish to release them."""
    return UpgradeResult(ws.profile(client, profile).upgrade(server, to=to, timeout=timeout))
