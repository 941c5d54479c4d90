"""Check actions: the validation suite over files, folders, drafts and artifacts; the probe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import UsageError
from mcp_orch.domain.clients import get_client
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
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
) -> CheckResult:
    """Check client config files, folders, drafts and artifacts against the rules, at the
    levels up to ``level``. Defaults come from ``[tool.mcp-orch]`` of the nearest pyproject:
    ``select`` replaces its select, ``ignore`` adds to its ignore. ``workspace`` is called only
    when a draft or an artifact is named (opening a workspace creates its folder)."""
    settings = load_settings()
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
    outcomes = run_checks(
        targets,
        client=client,
        select=chosen,
        ignore=skipped,
        levels=levels,
        workspace=workspace() if any(_is_stored(t) for t in targets) else None,
        settings=settings,
        jobs=jobs,
        timeout=timeout,
    )
    if junit:
        out = Path(junit)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(junit_xml(outcomes), encoding="utf-8")
    return CheckResult(outcomes, levels, chosen, skipped, settings)


@dataclass
class ProbeResult(Result):
    report: ProbeReport

    @property
    def ok(self) -> bool:
        return self.report.ok

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
) -> ProbeResult:
    """Start every server of a config file, ``draft:CLIENT/PROFILE`` or ``artifact:ID``, run
    the MCP handshake and list its tools."""
    resolved = resolve_target(
        target,
        client=client,
        workspace=workspace() if _is_stored(target) else None,
        settings=load_settings(),
    )
    report = probe_set(
        resolved,
        servers=servers or None,
        jobs=jobs,
        timeout=timeout,
        progress=progress,
        inherit_env=inherit_env,
    )
    return ProbeResult(report)
