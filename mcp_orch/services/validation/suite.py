"""The check suite: many targets, each checked at its levels, as one result.

    >>> from mcp_orch.services.validation.suite import expand, run_checks
    >>> outcomes = run_checks(expand(["configs/", "draft:cursor/default"]), workspace=ws)
    >>> render_text(outcomes), junit_xml(outcomes), exit_code(outcomes)

:func:`findings_at` groups one target's findings by server and level: the JUnit report, the
text report and the pytest plugin's items all read that one grouping.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import MCPOrchError, UsageError
from mcp_orch.core.text import plural
from mcp_orch.domain.clients.detect import find_config_files
from mcp_orch.services.probe import ProbeReport, probe_set
from mcp_orch.services.validation.report import Finding, ValidationReport
from mcp_orch.services.validation.rules import PROBE_CODE
from mcp_orch.services.validation.settings import Settings
from mcp_orch.services.validation.targets import (
    Target,
    WorkspaceLike,
    check_target,
    live_wanted,
    probe_findings,
    resolve_target,
    rule_levels,
)

#: The node of findings about a whole file rather than one server.
CONFIG_NODE = "(config)"

#: The note on a target with no servers: a client's file without an MCP section is valid.
NO_SERVERS = "no MCP servers configured here"


def level_of(finding: Finding) -> str:
    """The level a finding belongs to: its rule's (static, environment), or live (the probe)."""
    if finding.code == PROBE_CODE:
        return "live"
    return rule_levels().get(finding.code, "static")


def findings_at(report: ValidationReport) -> dict[tuple[str, str], list[Finding]]:
    """(server or ``(config)``, level) -> the findings there, in report order."""
    out: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        out.setdefault((f.server or CONFIG_NODE, level_of(f)), []).append(f)
    return out


def finding_lines(f: Finding) -> list[str]:
    """A finding as the two lines a failing check shows: code, rule, message, field; hint."""
    at = f" [{f.field}]" if f.field else ""
    return [f"{f.code} {f.rule}: {f.message}{at}", f"  hint: {f.hint}"]


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
    notes: list[str] = field(default_factory=list)  # information, never a failure

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.ok

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"target": self.label, "ok": self.ok, "levels": list(self.levels)}
        if self.target is not None:
            data |= {"kind": self.target.kind, "client": self.target.client.id}
            data["client_from"] = self.target.detected
        data["servers"] = self.servers
        data["notes"] = self.notes
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
    workspace: WorkspaceLike | None = None,
    settings: Settings | None = None,
    jobs: int = 4,
    timeout: float = 30.0,
    progress: bool | None = None,
    pins_for: Callable[[Target], Mapping[str, dict[str, Any]] | None] | None = None,
) -> list[Outcome]:
    """Check every target; a target that cannot be loaded becomes an outcome with its error.
    At the live level, ``pins_for(target)`` names the tool manifests a release pinned for
    its servers (rule MCP014 reports every change since)."""
    outcomes = []
    for spec in specs:
        outcome = Outcome(spec, levels=levels)
        try:
            target = resolve_target(spec, client=client, workspace=workspace, settings=settings)
            outcome.target = target
            outcome.label = target.label
            outcome.servers = list(target.servers)
            outcome.notes = notes_for(target)
            report = check_target(target, select=select, ignore=ignore, levels=levels)
            if "live" in levels and live_wanted(select, ignore):
                outcome.probe = probe_set(target, jobs=jobs, timeout=timeout, progress=progress)
                report = ValidationReport(
                    report.findings
                    + probe_findings(
                        outcome.probe,
                        select,
                        ignore,
                        pins=pins_for(target) if pins_for else None,
                        client=target.client,
                    ),
                    client=report.client,
                    target=report.target,
                )
            outcome.report = report
        except MCPOrchError as exc:
            outcome.error = exc
        outcomes.append(outcome)
    return outcomes


def notes_for(target: Target) -> list[str]:
    """What a check says about a target besides its findings: that it has no servers, and
    which entries are the client's own extensions (valid without a command)."""
    servers = target.servers
    if not servers:
        return [NO_SERVERS]
    spec = target.client
    builtin = [name for name, entry in servers.items() if spec.is_builtin(entry)]
    if not builtin:
        return []
    return [
        f"{plural(len(builtin), 'extension')} that {spec.name} runs itself (not imported or probed): "
        + ", ".join(builtin)
    ]


def exit_code(outcomes: list[Outcome]) -> int:
    if any(o.error is not None and o.error.exit_code == 2 for o in outcomes):
        return 2
    return 0 if all(o.ok for o in outcomes) else 1


# ---- output ----------------------------------------------------------------------------------


def render_text(
    outcomes: list[Outcome], hint: Callable[[MCPOrchError], str] = lambda e: e.hint
) -> str:
    """The text report of a check; ``hint`` spells an error's hint for the front end."""
    lines: list[str] = []
    errors = warnings = 0
    for o in outcomes:
        if o.error is not None:
            lines.append(f"{o.label}: could not be checked: {o.error.message}")
            if o.error.hint:
                lines.append(f"           hint: {hint(o.error)}")
            lines.append("")
            continue
        assert o.report is not None and o.target is not None
        errors += len(o.report.errors)
        warnings += len(o.report.warnings)
        how = f", client from {o.target.detected}" if o.target.kind == "file" else ""
        lines.append(
            f"{o.label} ({o.target.client.id}{how}; {plural(len(o.servers), 'server')}): "
            f"{o.report.summary()}"
        )
        lines += [f"{'info':<10} {note}" for note in o.notes]
        lines += [str(f) for f in o.report.findings]
        if o.probe is not None:
            for r in o.probe.results:
                if r.ok or r.needs_sign_in:
                    lines.append(f"live       {r}")
        lines.append("")
    failed = sum(1 for o in outcomes if not o.ok)
    verdict = "all checks passed" if not failed else f"{plural(failed, 'target')} FAILED"
    levels = ", ".join(outcomes[0].levels) if outcomes else ""
    lines.append(
        f"checked {plural(len(outcomes), 'target')} at level(s) {levels}: {plural(errors, 'error')}, "
        f"{plural(warnings, 'warning')}; {verdict}"
    )
    return "\n".join(lines)


def junit_xml(outcomes: list[Outcome]) -> str:
    """JUnit XML: a testsuite per target, a testcase per server and level."""
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
            per = findings_at(o.report)
            names = [CONFIG_NODE, *o.servers]
            for name in names:
                for level in o.levels:
                    if name == CONFIG_NODE and level != "static" and (name, level) not in per:
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
