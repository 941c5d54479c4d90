"""Check actions: the validation suite over files, folders, drafts and artifacts; the probe."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import UsageError
from mcp_orch.domain.clients import get_client
from mcp_orch.facade.pinning import probe_against, release_for, target_pins
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
from mcp_orch.operations.policy import apply_to_outcomes, resolve_policy
from mcp_orch.services.probe import ProbeReport, probe_set
from mcp_orch.services.validation.settings import (
    Settings,
    check_codes,
    levels_up_to,
    load_settings,
    split_codes,
)
from mcp_orch.services.validation.suite import (
    Outcome,
    exit_code,
    expand,
    junit_xml,
    run_checks,
)
from mcp_orch.services.validation.targets import resolve_target


def _is_stored(spec: str) -> bool:
    return spec.startswith(("draft:", "artifact:"))


@dataclass
class CheckResult(Result):
    outcomes: list[Outcome]
    levels: tuple[str, ...]
    select: list[str] | None
    ignore: list[str]
    settings: Settings = field(default_factory=Settings)

    @property
    def exit_code(self) -> int:
        return exit_code(self.outcomes)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "levels": list(self.levels),
            "select": self.select,
            "ignore": self.ignore,
            "settings": str(self.settings.path) if self.settings.path else None,
            "targets": [o.to_dict() for o in self.outcomes],
        }


def check(
    paths: list[str],
    *,
    workspace: Callable[[], Workspace],
    client: str | None = None,
    select: list[str] | tuple[str, ...] = (),
    ignore: list[str] | tuple[str, ...] = (),
    level: str | None = None,
    junit: str | Path | None = None,
    jobs: int = 4,
    timeout: float = 30.0,
    policy: str | os.PathLike[str] | bool | None = None,
) -> CheckResult:
    """Check client config files, folders, drafts and artifacts against the rules, at the
    levels up to ``level``. Defaults come from ``[tool.mcp-orch]`` of the nearest pyproject:
    ``select`` replaces its select, ``ignore`` adds to its ignore. ``workspace`` is called only
    when a draft or an artifact is named (opening a workspace creates its folder). ``policy``
    (a policy file, or True for the workspace's) adds its findings (codes POL...) to each
    target's report; without it no policy is read."""
    settings = load_settings()
    chosen_policy = resolve_policy(workspace, policy) if policy not in (None, False) else None
    specs = list(paths) or settings.config_files()
    if not specs:
        raise UsageError(
            "nothing to check",
            "name config files, or list them under configs in [tool.mcp-orch] of pyproject.toml",
            inputs=("paths",),
        )
    chosen = check_codes(split_codes(select), "select") or settings.select
    skipped = settings.ignore + check_codes(split_codes(ignore), "ignore")
    levels = levels_up_to(level) if level else settings.levels
    if client:
        get_client(client)
    targets = expand(specs)
    live = "live" in levels
    opened: list[Workspace] = []

    def pins_for(target: Any) -> Any:
        # a file is compared with the release deployed there: that needs the workspace
        if target.kind == "file" and not opened:
            opened.append(workspace())
        ws = opened[0] if opened else None
        return target_pins(ws, target) if ws is not None else None

    if any(_is_stored(t) for t in targets):
        opened.append(workspace())
    outcomes = run_checks(
        targets,
        client=client,
        select=chosen,
        ignore=skipped,
        levels=levels,
        workspace=opened[0] if opened else None,
        settings=settings,
        jobs=jobs,
        timeout=timeout,
        pins_for=pins_for if live else None,
    )
    if chosen_policy is not None:
        apply_to_outcomes(outcomes, chosen_policy, workspace)
    if junit:
        out = Path(junit)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(junit_xml(outcomes), encoding="utf-8")
    return CheckResult(outcomes, levels, chosen, skipped, settings)


@dataclass
class ProbeResult(Result):
    report: ProbeReport
    compared: bool = False  # compared with a release's pinned manifests

    @property
    def changes(self) -> dict[str, list[Any]]:
        """server -> what changed since the pinned manifest (empty unless compared)."""
        return {r.server: r.changes for r in self.report.results if r.changes}

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.changes

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()


def probe(
    target: str,
    *,
    workspace: Callable[[], Workspace],
    client: str | None = None,
    servers: list[str] | None = None,
    jobs: int = 4,
    timeout: float = 30.0,
    progress: bool | None = None,
    inherit_env: bool = False,
    against: str | None = None,
) -> ProbeResult:
    """Start every server of a config file, ``draft:CLIENT/PROFILE`` or ``artifact:ID``, run
    the MCP handshake and list its tools. ``against`` (``latest``, ``deployed`` or an artifact
    id of the target's profile; a file's profile is the one deployed to it) compares each
    server with the tool manifest that release pinned (rule MCP014)."""
    ws = workspace() if _is_stored(target) or against else None
    resolved = resolve_target(target, client=client, workspace=ws, settings=load_settings())
    kw: dict[str, Any] = {
        "servers": servers or None,
        "jobs": jobs,
        "timeout": timeout,
        "progress": progress,
        "inherit_env": inherit_env,
    }
    if against:
        assert ws is not None
        art = release_for(ws, resolved, against)
        assert art is not None
        report = probe_against(resolved, art.tools, f"{art.label} ({against})", **kw)
        return ProbeResult(report, compared=True)
    return ProbeResult(probe_set(resolved, **kw))
