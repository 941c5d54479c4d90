r"""What a check runs on: client config files, drafts and artifacts as :class:`Target`\ s.

    >>> from mcp_orch.services.validation.targets import check_target, resolve_target
    >>> target = resolve_target("configs/claude_desktop_config.json")   # client from the path
    >>> report = check_target(target, levels=("static",), ignore=["MCP009"])
    >>> target = resolve_target("draft:cursor/default", workspace=ws)

A target is a client config file (its client detected from its path: file name and parent
folders, matched against every client's config paths; the file's top-level key breaks ties),
``draft:CLIENT/PROFILE`` or ``artifact:ID`` (those two need the workspace they live in).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mcp_orch.core.errors import NotFound, UsageError
from mcp_orch.core.fs import read_text_file
from mcp_orch.domain.clients import (
    ClientSpec,
    from_native,
    get_client,
    jsonc,
    refs_from_placeholders,
    server_map,
)
from mcp_orch.domain.clients.detect import detect_candidates, detect_client
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.clients.spec import check_servers
from mcp_orch.services.probe.compare import manifest_of
from mcp_orch.services.release.artifact import ArtifactRecord
from mcp_orch.services.release.signing import Keyring
from mcp_orch.services.release.store import Store
from mcp_orch.services.release.verify import verify_artifact
from mcp_orch.services.validation.report import Finding, ValidationReport
from mcp_orch.services.validation.rules import (
    PROBE_CODE,
    PROBE_RULE,
    RULES,
    TOOL_BUDGET_CODE,
    Context,
    Subject,
    budget_findings,
    run_rules,
    wanted,
)
from mcp_orch.services.validation.settings import DEFAULT_LEVELS, Settings


class DraftLike(Protocol):
    """A profile's draft as a check sees it."""

    @property
    def client(self) -> ClientSpec: ...

    @property
    def payload(self) -> dict[str, Any]: ...

    def check(
        self, *, select: list[str] | None = None, ignore: list[str] | None = None
    ) -> ValidationReport: ...


class _ProfileLike(Protocol):
    @property
    def draft(self) -> DraftLike: ...


class WorkspaceLike(Protocol):
    """Where ``draft:`` and ``artifact:`` targets are found."""

    @property
    def store(self) -> Store[Any]: ...

    @property
    def keys(self) -> Keyring: ...

    def profile(self, client_id: str, profile_id: str = "default") -> _ProfileLike: ...


@dataclass
class Target:
    """One thing to check: a client config file, a draft or an artifact."""

    label: str  # the path, draft:CLIENT/PROFILE or artifact:ID
    kind: str  # "file", "draft" or "artifact"
    client: ClientSpec
    payload: dict[str, Any]  # the whole file, or the draft's / artifact's payload
    detected: str = ""  # how the client was chosen: path, content, --client, pyproject
    path: Path | None = None
    draft: DraftLike | None = None
    artifact: ArtifactRecord | None = None

    @property
    def client_id(self) -> str:
        return self.client.id

    @property
    def servers(self) -> dict[str, dict[str, Any]]:
        """name -> client-native entry."""
        return {n.rstrip(): e for n, e in server_map(self.client, self.payload).items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.label,
            "kind": self.kind,
            "client": self.client.id,
            "client_from": self.detected,
            "servers": list(self.servers),
        }


def resolve_target(
    spec: str | os.PathLike[str],
    *,
    client: str | None = None,
    workspace: WorkspaceLike | None = None,
    settings: Settings | None = None,
) -> Target:
    """A target from ``PATH``, ``draft:CLIENT/PROFILE`` or ``artifact:ID`` (prefix allowed)."""
    text = os.fspath(spec)
    if text.startswith(("draft:", "artifact:")) and workspace is None:
        raise UsageError(
            f"{text}: drafts and artifacts live in a workspace, and none was given",
            "name the workspace to look in",
        )
    if text.startswith("draft:"):
        c, _, p = text[len("draft:") :].partition("/")
        if not c:
            raise UsageError(
                f"{text}: no client", "write draft:CLIENT/PROFILE, e.g. draft:cursor/default"
            )
        assert workspace is not None
        draft = workspace.profile(c, p or "default").draft
        return Target(text, "draft", draft.client, draft.payload, "draft", draft=draft)
    if text.startswith("artifact:"):
        assert workspace is not None
        art = workspace.store.get(text[len("artifact:") :])
        verify_artifact(art, workspace.keys)
        spec_ = get_client(art.client)
        return Target(text, "artifact", spec_, art.payload, "artifact", artifact=art)
    return read_target_file(Path(text), client=client, settings=settings)


def read_target_file(
    path: Path, *, client: str | None = None, settings: Settings | None = None
) -> Target:
    """A client config file as a target; the client from ``client``, settings, or the path."""
    if path.is_dir():
        raise UsageError(
            f"{path} is a folder", "name the config files (or use check, which walks folders)"
        )
    try:
        text = read_text_file(path)
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}", "check the path") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file", "check the path") from None
    mapped = settings.client_for(path) if settings else None
    if client:
        spec, how = get_client(client), "--client"
    elif mapped:
        spec, how = get_client(mapped), "pyproject"
    else:
        spec, how = None, "path"
    peeked = None
    if spec is None:
        # Parse once with a JSON-ish reader to break ties; a JSON client reuses that parse.
        peeked = _peek(path, text)
        spec = detect_client(path, peeked)
        scored = detect_candidates(path)
        if len([s for s, n in scored if n == scored[0][1]]) > 1:
            how = "path and content"
    if peeked is not None and spec.dialect in ("json", "jsonc"):
        check_servers(spec, peeked, str(path))  # what read_config checks after its parse
        data = peeked
    else:
        data = read_config(spec, text, str(path))
    return Target(str(path), "file", spec, data, how, path=path)


def _peek(path: Path, text: str) -> dict[str, Any] | None:
    if path.suffix.lower() not in (".json", ".jsonc") or not text.strip():
        return None
    try:
        data = jsonc.loads(text, str(path))
    except Exception:
        return None
    return data if isinstance(data, dict) else None


# ---- checking --------------------------------------------------------------------------------


def subjects_of(target: Target) -> list[Subject]:
    """The servers of a file or artifact as rule subjects (client placeholders read as refs)."""
    spec = target.client
    out = []
    for name, entry in server_map(spec, target.payload).items():
        native = entry if isinstance(entry, dict) else {}
        runs = native and not spec.is_builtin(native)  # a builtin extension has no command
        neutral = refs_from_placeholders(spec, from_native(spec, native)) if runs else {}
        out.append(Subject(name.rstrip(" "), native, neutral))
    return out


def rule_levels() -> dict[str, str]:
    """rule code -> level."""
    return {r.code: r.level for r in RULES}


def check_target(
    target: Target,
    *,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    levels: tuple[str, ...] = DEFAULT_LEVELS,
) -> ValidationReport:
    """The static and/or environment findings of a target (the live level is :mod:`mcp_orch.services.probe`)."""
    rule_lv = tuple(lv for lv in levels if lv != "live")
    pseudo = (PROBE_CODE, PROBE_RULE)
    rule_select = [k for k in select or [] if k not in pseudo]
    rule_ignore = [k for k in ignore or [] if k not in pseudo] or None
    if (select and not rule_select) or not rule_lv:  # only the probe was selected
        return ValidationReport([], client=target.client.id, target=target.label)
    select = rule_select or None
    ignore = rule_ignore
    if target.kind == "draft" and target.draft is not None:
        report = target.draft.check(select=select, ignore=ignore)
        by_code = rule_levels()
        findings = [f for f in report.findings if by_code.get(f.code, "static") in rule_lv]
        return ValidationReport(findings, client=report.client, target=target.label)
    in_file = target.kind == "file"
    ctx = Context(target.client, subjects_of(target), target.payload, True, in_file)
    findings = run_rules(ctx, select, ignore, rule_lv)
    return ValidationReport(findings, client=target.client.id, target=target.label)


def live_wanted(select: list[str] | None = None, ignore: list[str] | None = None) -> bool:
    """Whether anything of the live level runs: the probe's pseudo rule or a live rule."""
    return wanted(PROBE_CODE, PROBE_RULE, select, ignore) or any(
        r.level == "live" and wanted(r.code, r.name, select, ignore) for r in RULES
    )


def probe_findings(
    probe_report: Any,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    *,
    pins: Mapping[str, Any] | None = None,
    client: ClientSpec | str | None = None,
) -> list[Finding]:
    """Failed probes of a :class:`~mcp_orch.services.probe.ProbeReport` as findings (code
    ``PROBE``), the findings of the live rules on the servers that answered (MCP012 poisoning,
    MCP014 changes since the pinned manifest) and the client's tool budget over the whole
    profile (MCP015).

    ``pins``: server -> the manifest its release pinned (or the release's ``{"digest",
    "manifest"}`` entry); each is set on the server's ``ServerProbe.pinned`` (when not already
    set) before the rules run. ``client``: whose tool limit to check; by default the probe
    report's own client."""
    out: list[Finding] = []
    live = [r for r in RULES if r.level == "live" and wanted(r.code, r.name, select, ignore)]
    failed_wanted = wanted(PROBE_CODE, PROBE_RULE, select, ignore)
    for r in probe_report.results:
        if pins and r.server in pins and getattr(r, "pinned", None) is None:
            r.pinned = manifest_of(pins[r.server])
        if r.ok:
            for live_rule in live:
                out += live_rule.run_probe(r)
        elif failed_wanted and not r.needs_sign_in:  # a needed OAuth sign-in is no failure
            out.append(
                Finding(
                    PROBE_CODE,
                    PROBE_RULE,
                    "error",
                    r.server,
                    r.error or "the probe failed",
                    r.hint or "start the server by hand to see why",
                    "",
                )
            )
    if any(r.code == TOOL_BUDGET_CODE for r in live):
        own = getattr(probe_report, "client", None)
        spec = _budget_client(client if client is not None else own)
        if spec is not None:
            counts = {r.server: r.tool_count for r in probe_report.results if r.ok}
            out += budget_findings(spec, counts)
    return out


def _budget_client(client: ClientSpec | str | None) -> ClientSpec | None:
    """The client whose tool budget a probe is checked against; None when unknown."""
    if isinstance(client, ClientSpec):
        return client
    if not client:
        return None
    try:
        return get_client(client)
    except NotFound:
        return None
