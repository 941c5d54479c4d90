"""Evaluate a policy against a release or a client file: a report of findings with rule codes.

    >>> report = evaluate(policy, record, stage="deploy", signers={"ed25519:…"})
    >>> report = evaluate(policy, payload, client=spec, stage="check", target="mcp.json")
    >>> report.ok, report.codes()              # False, ['POL002', 'POL010']
    >>> report.raise_for_policy("the release")  # the report, or PolicyViolation carrying it

A finding looks and renders like a validation finding (code, rule, severity, server, message,
hint). Stages: ``publish`` (before signing: every rule but the signature count, which is
checked at deploy), ``deploy`` (every rule, the signature count from the signers the caller
verified) and ``check`` (a user's client file: rules that need a release's lock, tool pins or
signatures say, as warnings, that they are checked on the release).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal
from urllib.parse import urlsplit

from mcp_orch.core.errors import PolicyViolation
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import ClientSpec, from_native, get_client, server_map, unwrap_remote
from mcp_orch.domain.pins import package_of
from mcp_orch.services.policy.model import RULES, Lists, Policy
from mcp_orch.services.release.artifact import ArtifactRecord
from mcp_orch.services.validation.report import Finding, Severity, ValidationReport

Stage = Literal["publish", "deploy", "check"]
STAGES: tuple[str, ...] = ("publish", "deploy", "check")


class PolicyReport(ValidationReport):
    """Every policy finding of one evaluation (a :class:`ValidationReport` with the policy's
    source, digest and the stage it was evaluated at)."""

    def __init__(
        self,
        findings: list[Finding],
        *,
        policy: Policy,
        stage: str,
        client: str = "",
        target: str = "",
    ) -> None:
        super().__init__(findings, client=client, target=target)
        self.policy = policy
        self.stage = stage

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "policy": self.policy.digest,
            "policy_source": self.policy.source,
            "stage": self.stage,
        }

    def __str__(self) -> str:
        head = f"policy {self.policy.source or '-'} ({self.policy.digest[:19]}…), {self.stage}: "
        lines = [head + f"{self.target or self.client}: {self.summary()}"]
        lines += [str(f) for f in self.findings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<PolicyReport {'ok' if self.ok else 'FAILED'} {self.stage}: {self._counts()}>"

    def raise_for_policy(self, what: str, done: str = "nothing was written") -> PolicyReport:
        """The report itself when nothing is refused, else :class:`PolicyViolation` carrying
        it (the message names ``what``, the first refusal and ``done``)."""
        if self.ok:
            return self
        first = self.errors[0]
        raise PolicyViolation(
            f"the policy refuses {what}: {plural(len(self.errors), 'finding')}; first: "
            f"{first.code} {first.server + ': ' if first.server else ''}{first.message}; {done}",
            first.hint,
            report=self,
        )


@dataclass(frozen=True)
class _Server:
    """What the rules read of one entry."""

    name: str
    registry_name: str | None
    transports: tuple[str, ...]
    url: str | None
    package: Any  # a domain.pins.PackageRef, or None
    command: str


def _servers(
    spec: ClientSpec, entries: Mapping[str, Any], names: Mapping[str, str]
) -> list[_Server]:
    out = []
    for name, entry in entries.items():
        neutral = from_native(spec, entry) if isinstance(entry, dict) else {}
        transport = str(neutral.get("transport") or "stdio")
        transports, url = [transport], neutral.get("url")
        package = None
        if transport == "stdio":
            package = package_of(neutral)
            bridged = unwrap_remote(neutral)
            if bridged.get("transport") not in (None, "stdio"):  # an mcp-remote bridge
                transports.append(str(bridged["transport"]))
                url = bridged.get("url")
        out.append(
            _Server(
                name=name,
                registry_name=names.get(name),
                transports=tuple(dict.fromkeys(transports)),
                url=url if isinstance(url, str) else None,
                package=package,
                command=str(neutral.get("command") or ""),
            )
        )
    return out


def _verdict(value: str, lists: Lists, match: Any) -> tuple[str, str] | None:
    """("denied", pattern) or ("not-allowed", "") when ``value`` is refused, else None."""
    for pattern in lists.deny:
        if match(value, pattern):
            return "denied", pattern
    if lists.allow is not None and not any(match(value, p) for p in lists.allow):
        return "not-allowed", ""
    return None


def _glob(value: str, pattern: str) -> bool:
    return fnmatchcase(value, pattern)


def _package_match(value: str, pattern: str) -> bool:
    reg, _, name = value.partition(":")
    preg, _, pname = pattern.partition(":")
    return preg in ("*", reg) and fnmatchcase(name, pname)


def _allowed_text(lists: Lists) -> str:
    return ", ".join(lists.allow or ()) or "(nothing)"


def evaluate(
    policy: Policy,
    subject: ArtifactRecord | Mapping[str, Any],
    *,
    stage: str = "publish",
    client: ClientSpec | str | None = None,
    names: Mapping[str, str] | None = None,
    lock: Mapping[str, Any] | None = None,
    tools: Mapping[str, Any] | None = None,
    signers: Iterable[str] | None = None,
    signer_problems: Iterable[str] = (),
    target: str = "",
) -> PolicyReport:
    """Evaluate ``policy`` against a release record (its client, payload, lock, tools and
    recorded registry names) or a client-native payload (with ``client``, and optionally
    ``names``, ``lock``, ``tools``). ``signers``: the distinct key ids whose signature on the
    release verified (deploy; see ``verify.valid_signers``), ``signer_problems`` the approvals
    that did not."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}")
    if isinstance(subject, ArtifactRecord):
        spec = get_client(subject.client)
        entries: Mapping[str, Any] = subject.servers
        names = (subject.registry_names or {}) if names is None else names
        lock = subject.lock if lock is None else lock
        tools = subject.tools if tools is None else tools
        target = target or f"{subject.label} ({subject.client}/{subject.profile})"
    else:
        if client is None:
            raise ValueError("evaluating a payload needs its client")
        spec = get_client(client) if isinstance(client, str) else client
        entries = server_map(spec, dict(subject))
    findings: list[Finding] = []
    on_file = stage == "check"

    def add(code: str, server: str, message: str, hint: str, severity: Severity = "error") -> None:
        findings.append(Finding(code, RULES[code][0], severity, server, message, hint))

    servers = _servers(spec, entries, names or {})
    for s in servers:
        # POL001: the registry name (the entry's name when the release does not record it)
        if policy.servers.active:
            ident = s.registry_name or s.name
            verdict = _verdict(ident, policy.servers, _glob)
            if verdict is not None:
                unknown = (
                    ""
                    if s.registry_name
                    else " (its registry name is not recorded, so its entry name was matched)"
                )
                add(
                    "POL001",
                    s.name,
                    f"{ident} is denied by the server pattern {verdict[1]}{unknown}"
                    if verdict[0] == "denied"
                    else f"{ident} is not in the allowed server namespaces "
                    f"({_allowed_text(policy.servers)}){unknown}",
                    "remove the server, or ask the policy's owner to allow its namespace"
                    + (
                        "; a release records registry names when published from a draft of "
                        "catalog servers under the policy"
                        if not s.registry_name
                        else ""
                    ),
                )
        # POL002: the package it runs
        if policy.packages.active:
            if s.package is not None:
                ident = f"{s.package.registry}:{s.package.name}"
                verdict = _verdict(ident, policy.packages, _package_match)
                if verdict is not None:
                    add(
                        "POL002",
                        s.name,
                        f"package {ident} is denied by {verdict[1]}"
                        if verdict[0] == "denied"
                        else f"package {ident} is not in the allowed packages "
                        f"({_allowed_text(policy.packages)})",
                        "use an allowed package, or ask the policy's owner to allow it",
                    )
            elif (
                "stdio" in s.transports
                and s.transports == ("stdio",)
                and policy.packages.allow is not None
            ):
                add(
                    "POL002",
                    s.name,
                    f"runs {s.command or 'a command'}, which is no registry package, so the "
                    "package allow list cannot admit it",
                    "run an allowed registry package (npx, uvx, docker, dnx), or remove the server",
                )
        # POL003: remote hosts
        if policy.remotes.active and s.url is not None:
            host = (urlsplit(s.url).hostname or "").lower()
            verdict = _verdict(host, policy.remotes, _glob)
            if verdict is not None:
                add(
                    "POL003",
                    s.name,
                    f"remote host {host or s.url} is denied by {verdict[1]}"
                    if verdict[0] == "denied"
                    else f"remote host {host or s.url} is not in the allowed hosts "
                    f"({_allowed_text(policy.remotes)})",
                    "point the server at an allowed host, or ask the policy's owner to allow it",
                )
        # POL004: transports (a bridged remote has two: stdio to the bridge, and the remote's)
        if policy.transports.active:
            for t in s.transports:
                verdict = _verdict(t, policy.transports, lambda v, p: v == p)
                if verdict is not None:
                    add(
                        "POL004",
                        s.name,
                        f"transport {t} is not allowed (allowed: "
                        f"{_allowed_text(policy.transports)})"
                        if verdict[0] == "not-allowed"
                        else f"transport {t} is denied",
                        "use an allowed transport for this server, or remove it",
                    )
        # POL005 / POL006: pins
        if policy.exact_pins and s.package is not None and s.package.pin != "exact":
            written = s.package.spec or "no version"
            add(
                "POL005",
                s.name,
                f"{s.package.registry}:{s.package.name} is not pinned to one version "
                f"({written}, a {s.package.pin} pin)",
                "pin the exact version (the profile's pin setting exact, then add the server "
                "again or upgrade it)",
            )
        if policy.integrity and s.package is not None and lock is not None:
            row = lock.get(s.name)
            if (
                not isinstance(row, dict)
                or row.get("status") != "resolved"
                or not row.get("integrity")
            ):
                why = (row or {}).get("reason") if isinstance(row, dict) else "no lock entry"
                add(
                    "POL006",
                    s.name,
                    f"the lock has no registry integrity for {s.package.registry}:"
                    f"{s.package.name} ({why or 'not resolved'})",
                    "publish with the package registry reachable, so the lock resolves it",
                )
        elif policy.integrity and s.package is not None and on_file:
            add(
                "POL006",
                s.name,
                "a client file has no lock: the integrity is checked on the release",
                "publish it: the release's lock records each package's integrity",
                "warning",
            )
    # POL007: tool pins
    pins = dict(tools or {})
    manifests = {
        n: p["manifest"]
        for n, p in pins.items()
        if isinstance(p, dict) and isinstance(p.get("manifest"), dict)
    }
    if policy.tool_pins:
        for s in servers:
            pin = pins.get(s.name)
            if isinstance(pin, dict) and pin.get("digest"):
                continue
            if on_file:
                add(
                    "POL007",
                    s.name,
                    "a client file has no tool pins: they are checked on the release",
                    "publish with tool pins",
                    "warning",
                )
                continue
            status = pin.get("status") if isinstance(pin, dict) else None
            add(
                "POL007",
                s.name,
                "its tool manifest is not pinned" + (f" ({status})" if status else ""),
                "publish with tool pins (pin_tools), with the server reachable",
            )
    # POL008 / POL009: the tool budget
    if policy.has_budget:
        total = 0
        unseen: list[str] = []
        for s in servers:
            manifest = manifests.get(s.name)
            if manifest is None:
                unseen.append(s.name)
                continue
            count = len(manifest.get("tools") or [])
            total += count
            cap = policy.max_tools_per_server
            if cap is not None and count > cap:
                add(
                    "POL008",
                    s.name,
                    f"offers {plural(count, 'tool')}, more than the budget of {cap} per server",
                    "use a server (or a configuration of it) that offers fewer tools, or ask "
                    "the policy's owner to raise the budget",
                )
        for name in unseen:
            add(
                "POL009",
                name,
                "the tool budget cannot be checked: no pinned tool manifest",
                "publish with tool pins (pin_tools), so the budget can count its tools",
                "warning" if on_file else "error",
            )
        cap = policy.max_tools_per_profile
        if cap is not None and total > cap:
            add(
                "POL008",
                "",
                f"the profile offers {plural(total, 'tool')}"
                + (" or more" if unseen else "")
                + f", more than the budget of {cap} per profile",
                "remove servers, or ask the policy's owner to raise the budget",
            )
    # POL010: signatures (deploy only: at publish there is one signature, the publisher's)
    if policy.signatures_required and stage == "deploy":
        valid = set(signers or ())
        counted = sorted(valid & set(policy.signers)) if policy.signers else sorted(valid)
        if len(counted) < policy.signatures_required:
            problems = list(signer_problems)
            add(
                "POL010",
                "",
                f"{plural(len(counted), 'valid signer')} of {policy.signatures_required} "
                f"required"
                + (f" ({', '.join(counted)})" if counted else "")
                + ("" if not policy.signers else " from the policy's signer set")
                + (f"; not counted: {'; '.join(problems)}" if problems else ""),
                "have more signers of the set approve the release (each from a workspace "
                "holding its key), then deploy again",
            )
    elif policy.signatures_required and on_file:
        add(
            "POL010",
            "",
            f"a client file carries no signatures: the {policy.signatures_required} required "
            "are checked at deploy",
            "publish it and have the release approved",
            "warning",
        )
    return PolicyReport(findings, policy=policy, stage=stage, client=spec.id, target=target)
