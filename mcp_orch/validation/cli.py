"""``mcp-orch check`` and ``mcp-orch probe``: the validation suite on the command line.

    mcp-orch check ~/.cursor/mcp.json configs/ draft:claude-desktop/default artifact:3f2a9c
    mcp-orch check configs/ --level static --ignore MCP009 --junit-xml reports/mcp.xml
    mcp-orch check .vscode/mcp.json --level live --jobs 8
    mcp-orch probe claude_desktop_config.json --timeout 20 --json

``check`` takes client config files of any supported client (the client detected from the path,
or ``--client``), folders (every file named like a client config in them), drafts
(``draft:CLIENT/PROFILE``) and artifacts (``artifact:ID``). ``--level`` runs the checks up to
that level: ``static`` (schema and rules), ``environment`` (this machine: commands on PATH,
referenced variables set; the default) or ``live`` (also start every server: the probe).
Defaults come from ``[tool.mcp-orch]`` in the nearest pyproject.toml; ``--select`` replaces its
``select``, ``--ignore`` adds to its ``ignore``. Exit 0 when nothing failed, 1 when a check
failed (or a file did not parse), 2 when a target could not be found or named no known client.

Loaded lazily by the main CLI (``LAZY_COMMANDS``), so ``mcp`` is imported only when probing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..cli import Ctx, common, table
from ..errors import MCPOrchError, UsageError
from .config import (
    LEVELS,
    PROBE_CODE,
    PROBE_RULE,
    Settings,
    Target,
    check_codes,
    check_target,
    find_config_files,
    levels_up_to,
    load_settings,
    probe_findings,
    resolve_target,
    rule_levels,
    split_codes,
    wanted,
)
from .report import Finding, ValidationReport

if TYPE_CHECKING:
    from ..probes import ProbeReport


@dataclass
class Outcome:
    """The check of one target: its report, its probe (live level), or why it could not run."""

    label: str
    target: Target | None = None
    report: ValidationReport | None = None
    probe: ProbeReport | None = None
    error: MCPOrchError | None = None
    levels: tuple[str, ...] = ()
    servers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.ok

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"target": self.label, "ok": self.ok, "levels": list(self.levels)}
        if self.target is not None:
            data |= {"kind": self.target.kind, "client": self.target.client.id}
            data["client_from"] = self.target.detected
        data["servers"] = self.servers
        if self.report is not None:
            rep = self.report.to_dict()
            data |= {k: rep[k] for k in ("errors", "warnings", "suggestions")}
        if self.probe is not None:
            data["probe"] = self.probe.to_dict()
        if self.error is not None:
            data["error"] = self.error.to_dict()
        return data


def expand(paths: list[str]) -> list[str]:
    """Folders become the client config files in them; other specs stay as they are."""
    out: list[str] = []
    for spec in paths:
        p = Path(spec).expanduser()
        if not spec.startswith(("draft:", "artifact:")) and p.is_dir():
            found = find_config_files(p)
            if not found:
                raise UsageError(
                    f"no client config files in {spec}",
                    "name the files, or check that they have the client's file name",
                )
            out += [str(f) for f in found]
        else:
            out.append(str(p) if not spec.startswith(("draft:", "artifact:")) else spec)
    seen: set[str] = set()
    unique = []
    for spec in out:  # a file named twice (or also found in a named folder) is checked once
        key = spec if spec.startswith(("draft:", "artifact:")) else str(Path(spec).resolve())
        if key not in seen:
            seen.add(key)
            unique.append(spec)
    return unique


def run_checks(
    specs: list[str],
    *,
    client: str | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    levels: tuple[str, ...] = ("static", "environment"),
    workspace: Any = None,
    settings: Settings | None = None,
    jobs: int = 4,
    timeout: float = 30.0,
    progress: bool | None = None,
) -> list[Outcome]:
    """Check every target; a target that cannot be loaded becomes an outcome with its error."""
    outcomes = []
    for spec in specs:
        outcome = Outcome(spec, levels=levels)
        try:
            target = resolve_target(spec, client=client, workspace=workspace, settings=settings)
            outcome.target = target
            outcome.label = target.label
            outcome.servers = list(target.servers)
            report = check_target(target, select=select, ignore=ignore, levels=levels)
            if "live" in levels and wanted(PROBE_CODE, PROBE_RULE, select, ignore):
                from ..probes import probe

                outcome.probe = probe(target, jobs=jobs, timeout=timeout, progress=progress)
                report = ValidationReport(
                    report.findings + probe_findings(outcome.probe),
                    client=report.client,
                    target=report.target,
                )
            outcome.report = report
        except MCPOrchError as exc:
            outcome.error = exc
        outcomes.append(outcome)
    return outcomes


def exit_code(outcomes: list[Outcome]) -> int:
    if any(o.error is not None and o.error.exit_code == 2 for o in outcomes):
        return 2
    return 0 if all(o.ok for o in outcomes) else 1


# ---- output ----------------------------------------------------------------------------------


def render_text(outcomes: list[Outcome]) -> str:
    lines: list[str] = []
    errors = warnings = 0
    for o in outcomes:
        if o.error is not None:
            lines.append(f"{o.label}: could not be checked: {o.error.message}")
            if o.error.hint:
                lines.append(f"           hint: {o.error.hint}")
            lines.append("")
            continue
        assert o.report is not None and o.target is not None
        errors += len(o.report.errors)
        warnings += len(o.report.warnings)
        how = f", client from {o.target.detected}" if o.target.kind == "file" else ""
        lines.append(
            f"{o.label} ({o.target.client.id}{how}; {len(o.servers)} server(s)): "
            f"{o.report.summary()}"
        )
        lines += [str(f) for f in o.report.findings]
        if o.probe is not None:
            for r in o.probe.results:
                if r.ok:
                    lines.append(f"live       {r}")
        lines.append("")
    failed = sum(1 for o in outcomes if not o.ok)
    verdict = "all checks passed" if not failed else f"{failed} target(s) FAILED"
    levels = ", ".join(outcomes[0].levels) if outcomes else ""
    lines.append(
        f"checked {len(outcomes)} target(s) at level(s) {levels}: {errors} error(s), "
        f"{warnings} warning(s); {verdict}"
    )
    return "\n".join(lines)


def junit_xml(outcomes: list[Outcome]) -> str:
    """JUnit XML: a testsuite per target, a testcase per server and level."""
    import xml.etree.ElementTree as ET

    by_code = rule_levels()
    root = ET.Element("testsuites", name="mcp-orch check")
    total = total_failures = total_errors = 0
    for o in outcomes:
        suite = ET.SubElement(root, "testsuite", name=o.label)
        cases = failures = errs = 0
        if o.error is not None:
            case = ET.SubElement(suite, "testcase", classname=o.label, name="(load)")
            err = ET.SubElement(case, "error", message=o.error.message, type=o.error.code)
            err.text = f"{o.error.message}\nhint: {o.error.hint}"
            cases, errs = 1, 1
        else:
            assert o.report is not None
            per: dict[tuple[str, str], list[Finding]] = {}
            for f in o.report.findings:
                level = "live" if f.code == PROBE_CODE else by_code.get(f.code, "static")
                per.setdefault((f.server or "(config)", level), []).append(f)
            names = ["(config)", *o.servers]
            for name in names:
                for level in o.levels:
                    if name == "(config)" and level != "static" and (name, level) not in per:
                        continue
                    if level == "live" and o.probe is None:
                        continue
                    cases += 1
                    found = per.get((name, level), [])
                    case = ET.SubElement(
                        suite, "testcase", classname=o.label, name=f"{name}::{level}"
                    )
                    bad = [f for f in found if f.severity == "error"]
                    if bad:
                        failures += 1
                        fail = ET.SubElement(
                            case,
                            "failure",
                            message=f"{bad[0].code} {bad[0].message}",
                            type=bad[0].code,
                        )
                        fail.text = "\n".join(str(f) for f in bad)
                    rest = [f for f in found if f.severity != "error"]
                    if rest:
                        ET.SubElement(case, "system-out").text = "\n".join(str(f) for f in rest)
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", str(errs))
        total += cases
        total_failures += failures
        total_errors += errs
    root.set("tests", str(total))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


# ---- commands --------------------------------------------------------------------------------


@click.command("check")
@click.argument("paths", nargs=-1)
@click.option("--client", "-c", help="Read every file as this client's (default: from the path).")
@click.option("--select", multiple=True, help="Only these rules (codes, prefixes or names).")
@click.option("--ignore", multiple=True, help="Skip these rules (added to pyproject's ignore).")
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    help="Check up to this level (default: pyproject's levels, else environment).",
)
@click.option(
    "--junit-xml", "junit", type=click.Path(dir_okay=False), help="Also write a JUnit report."
)
@click.option("--jobs", "-j", type=int, default=4, show_default=True, help="Live: servers at once.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Live: per server.")
@common
def check_cmd(
    ctx: Ctx,
    paths: tuple[str, ...],
    client: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    level: str | None,
    junit: str | None,
    jobs: int,
    timeout: float,
) -> None:
    """Check client config files, folders, drafts (draft:CLIENT/PROFILE) and artifacts
    (artifact:ID) against the rules; exit 1 if any check fails."""
    settings = load_settings()
    specs = list(paths) or settings.config_files()
    if not specs:
        raise UsageError(
            "nothing to check",
            "name config files (mcp-orch check PATH...), or list them under configs in "
            "[tool.mcp-orch] of pyproject.toml",
        )
    chosen = check_codes(split_codes(select), "--select") or settings.select
    skipped = settings.ignore + check_codes(split_codes(ignore), "--ignore")
    levels = levels_up_to(level) if level else settings.levels
    if client:
        from ..clients import get_client

        get_client(client)
    targets = expand(specs)
    # Only drafts and artifacts need the workspace (opening it creates its folder).
    needs_ws = any(t.startswith(("draft:", "artifact:")) for t in targets)
    outcomes = run_checks(
        targets,
        client=client,
        select=chosen,
        ignore=skipped,
        levels=levels,
        workspace=ctx.ws if needs_ws else None,
        settings=settings,
        jobs=jobs,
        timeout=timeout,
    )
    if junit:
        out = Path(junit)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(junit_xml(outcomes), encoding="utf-8")
    code = exit_code(outcomes)
    data = {
        "ok": code == 0,
        "levels": list(levels),
        "select": chosen,
        "ignore": skipped,
        "settings": str(settings.path) if settings.path else None,
        "targets": [o.to_dict() for o in outcomes],
    }
    ctx.emit(data, lambda: render_text(outcomes))
    sys.exit(code)


@click.command("probe")
@click.argument("target")
@click.option("--client", "-c", help="Read the file as this client's (default: from the path).")
@click.option("--server", "-s", "servers", multiple=True, help="Only these servers.")
@click.option("--jobs", "-j", type=int, default=4, show_default=True, help="Servers at once.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per server.")
@click.option(
    "--inherit-env", is_flag=True, help="Pass this whole environment (not the SDK's short list)."
)
@common
def probe_cmd(
    ctx: Ctx,
    target: str,
    client: str | None,
    servers: tuple[str, ...],
    jobs: int,
    timeout: float,
    inherit_env: bool,
) -> None:
    """Start every server of a config file, draft:CLIENT/PROFILE or artifact:ID, run the MCP
    handshake and list its tools; exit 1 if any server fails."""
    from ..probes import probe

    workspace = ctx.ws if target.startswith(("draft:", "artifact:")) else None
    resolved = resolve_target(target, client=client, workspace=workspace, settings=load_settings())
    report = probe(
        resolved,
        servers=list(servers) or None,
        jobs=jobs,
        timeout=timeout,
        progress=None if not ctx.as_json else False,
        inherit_env=inherit_env,
    )

    def text() -> str:
        rows = [
            (
                r.server,
                "ok" if r.ok else "FAILED",
                " ".join(x for x in (r.server_name, r.server_version) if x),
                r.protocol_version,
                r.tool_count if r.ok else "",
                "" if r.startup_ms is None else f"{r.startup_ms:.0f} ms",
                "" if r.first_response_ms is None else f"{r.first_response_ms:.0f} ms",
                r.error,
            )
            for r in report
        ]
        out = [
            f"{report.target} ({report.client}): {report.summary()}",
            table(
                [
                    "server",
                    "status",
                    "server info",
                    "protocol",
                    "tools",
                    "start-up",
                    "first response",
                    "error",
                ],
                rows,
                80,
            ),
        ]
        for r in report.failed:
            out.append(f"{r.server}: {r.error}\n  hint: {r.hint}")
        return "\n".join(out)

    ctx.emit(report.to_dict(), text)
    sys.exit(0 if report.ok else 1)
