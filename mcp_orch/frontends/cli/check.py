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
from typing import Any

import click

from mcp_orch.core.ids import short_id
from mcp_orch.frontends.cli.base import Ctx, client_option, common, examples
from mcp_orch.frontends.render import CLI, plural, spelled_hint, table
from mcp_orch.services.validation.settings import LEVELS


@click.command(
    "check",
    epilog=examples(
        "mcp-orch check ~/.cursor/mcp.json",
        "mcp-orch check configs/ --level static --junit-xml reports/mcp.xml",
        "mcp-orch check draft:cursor/default artifact:3f2a9c --level live",
    ),
)
@click.argument("paths", nargs=-1)
@client_option(help="Read every file as this client's (default: from the path).")
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
@click.option(
    "--policy",
    "policy",
    is_flag=False,
    flag_value="",
    default=None,
    help="Also evaluate a policy (codes POL...): a .toml file, or alone the workspace's.",
)
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
    policy: str | None,
) -> None:
    """Check client config files, folders, drafts (draft:CLIENT/PROFILE) and artifacts
    (artifact:ID) against the rules (and with --policy against a policy); exit 1 if any
    check fails."""
    from mcp_orch.operations import checks
    from mcp_orch.services.validation.suite import render_text

    if policy and not policy.endswith(".toml"):  # `--policy FILE.json`: a target, not a policy
        paths, policy = (policy, *paths), ""
    result = checks.check(
        list(paths),
        workspace=ctx.open_ws,
        client=client,
        select=select,
        ignore=ignore,
        level=level,
        junit=junit,
        jobs=jobs,
        timeout=timeout,
        policy=policy,
    )
    ctx.emit(result, lambda: render_text(result.outcomes, lambda e: spelled_hint(e, CLI)))
    sys.exit(result.exit_code)


@click.command(
    "probe",
    epilog=examples(
        "mcp-orch probe ~/.cursor/mcp.json",
        "mcp-orch probe draft:cursor/default --against latest --json",
    ),
)
@click.argument("target")
@client_option(help="Read the file as this client's (default: from the path).")
@click.option("--server", "-s", "servers", multiple=True, help="Only these servers.")
@click.option("--jobs", "-j", type=int, default=4, show_default=True, help="Servers at once.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per server.")
@click.option(
    "--inherit-env", is_flag=True, help="Pass this whole environment (not the SDK's short list)."
)
@click.option(
    "--against",
    help="Compare each server with the tools this release pinned: latest, deployed or an "
    "artifact id (exit 1 on any change).",
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
    against: str | None,
) -> None:
    """Start every server of a config file, draft:CLIENT/PROFILE or artifact:ID, run the MCP
    handshake and list its tools; with --against, compare them with a release's pinned tools.
    Exit 1 if any server fails (or changed)."""
    from mcp_orch.operations import checks

    result = checks.probe(
        target,
        workspace=ctx.open_ws,
        client=client,
        servers=list(servers),
        jobs=jobs,
        timeout=timeout,
        progress=None if not ctx.as_json else False,
        inherit_env=inherit_env,
        against=against,
    )
    report = result.report

    def text() -> str:
        rows = [
            (
                r.server,
                "FAILED" if r in report.failed else r.status,
                " ".join(x for x in (r.server_name, r.server_version) if x),
                r.protocol_version,
                r.tool_count if r.ok else "",
                "" if r.startup_ms is None else f"{r.startup_ms:.0f} ms",
                "" if r.first_response_ms is None else f"{r.first_response_ms:.0f} ms",
                r.error,
            )
            for r in report
        ]
        headers = ["server", "status", "server info", "protocol", "tools", "start-up"]
        out = [
            f"{report.target} ({report.client}): {report.summary()}",
            table([*headers, "first response", "error"], rows),
        ]
        for r in [*report.failed, *report.sign_in]:
            out.append(f"{r.server}: {r.error}\n  hint: {r.hint}")
        for r in report:
            if r.manifest_digest:
                digest = short_id(r.manifest_digest)
                out.append(f"{r.server}: manifest {digest}, {plural(r.tool_count, 'tool')}")
        out += report.poisoning_lines()  # the warning section (rule MCP012)
        if result.compared:
            out.append(changes_text(report))
        return "\n".join(out)

    ctx.emit(result, text, diff=result.compared)
    sys.exit(0 if result.ok else 1)


def changes_text(report: Any) -> str:
    """Every change since the pinned manifests (rule MCP014), with its field diff."""
    lines = []
    for r in report:
        if r.pinned is None:
            if r.ok:
                lines.append(f"{r.server}: not pinned in {report.against}")
            continue
        if not r.changes:
            lines.append(f"{r.server}: same tools as {report.against}")
            continue
        lines.append(
            f"{r.server}: {plural(len(r.changes), 'change')} since {report.against} (MCP014)"
        )
        for c in r.changes:
            lines.append(f"  {c.kind}: {c.message}")
            lines += [f"    {d}" for d in c.diff.splitlines()[:40]]
    return "\n".join(lines)
