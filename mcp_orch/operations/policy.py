"""Policy actions: approve (co-sign) a release, show the active policy, evaluate targets.

>>> from mcp_orch.operations import policy
>>> policy.approve(ws, "3f2a9c").to_dict()        # this workspace's key co-signs the release
>>> policy.show(ws).to_dict()                      # the active policy, its digest, its rules
>>> policy.apply_to_outcomes(outcomes, policy.resolve_policy(ws, True), ws)   # check --policy
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import MCPOrchError, NotFound, UsageError
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
from mcp_orch.services.policy.evaluate import evaluate
from mcp_orch.services.policy.gates import Approval, approve_artifact, deploy_report
from mcp_orch.services.policy.model import RULES, Policy, load_policy
from mcp_orch.services.validation.report import ValidationReport
from mcp_orch.services.validation.suite import Outcome


@dataclass
class ApproveResult(Result):
    approval: Approval
    required: int = 0  # the signatures the workspace policy asks for (0: none, or no policy)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.approval.to_dict(),
            "status": "approved" if self.approval.added else "already-approved",
            "required": self.required,
        }

    def text(self) -> str:
        a = self.approval
        verb = (
            f"approved {a.artifact_id} ({a.client}/{a.profile}) with {a.key_id}"
            if a.added
            else f"{a.key_id} had already approved {a.artifact_id}: nothing changed"
        )
        need = f" (the policy requires {self.required})" if self.required else ""
        lines = [verb, f"valid signers: {len(a.signers)}{need}"]  # the ids: in to_dict
        lines += [f"not counted: {p}" for p in a.problems]
        return "\n".join(lines)


def approve(
    ws: Workspace,
    artifact: str,
    *,
    client: str | None = None,
    profile: str | None = None,
) -> ApproveResult:
    """Co-sign ``artifact`` (a full id or a unique prefix; with ``client``, of that profile)
    with this workspace's key, after verifying it (see services/policy/gates.py)."""
    if client is not None:
        record = ws.profile(client, profile or "default").artifact(artifact)
    elif profile is not None:
        raise UsageError("a profile needs its client", "name the client too", inputs=("client",))
    else:
        record = ws.store.get(artifact)
    approval = approve_artifact(ws, record)
    policy = ws.policy
    return ApproveResult(approval, policy.signatures_required if policy else 0)


@dataclass
class PolicyShowResult(Result):
    path: str
    policy: Policy | None

    def to_dict(self) -> dict[str, Any]:
        if self.policy is None:
            return {"path": self.path, "exists": False, "digest": None, "rules": []}
        return {
            "path": self.path,
            "exists": True,
            "digest": self.policy.digest,
            "description": self.policy.description,
            "rules": [
                {"code": code, "rule": rule, "requires": text}
                for code, rule, text in self.policy.rules()
            ],
            "policy": self.policy.to_dict(),
        }

    def text(self) -> str:
        if self.policy is None:
            return f"no policy: {self.path} does not exist (publish and deploy have no gate)"
        p = self.policy
        lines = [f"policy {self.path}", f"digest {p.digest}"]
        if p.description:
            lines.append(p.description)
        rules = p.rules()
        if not rules:
            lines.append("no rule is turned on")
        width = max((len(r[1]) for r in rules), default=0)
        lines += [f"{code} {rule:<{width}}  {text}" for code, rule, text in rules]
        return "\n".join(lines)


def resolve_policy(
    ws: Callable[[], Workspace] | Workspace, policy: str | os.PathLike[str] | bool
) -> Policy:
    """The policy a check names: a file, or (``True`` / empty) the workspace's own."""
    if policy is True or policy == "":
        w = ws() if callable(ws) else ws
        found = w.policy
        if found is None:
            raise NotFound(
                f"the workspace has no policy ({w.policy_path} does not exist)",
                "write the policy file there, or name a policy file",
                inputs=("policy",),
            )
        return found
    if policy is False:
        raise UsageError("no policy named", "name a policy file", inputs=("policy",))
    loaded = load_policy(Path(os.fspath(policy)))
    if loaded is None:
        raise NotFound(
            f"no such policy file: {os.fspath(policy)}", "check the path", inputs=("policy",)
        )
    return loaded


def show(ws: Workspace, path: str | os.PathLike[str] | None = None) -> PolicyShowResult:
    """The active policy (the workspace's, or the file ``path``): digest and rules."""
    if path is not None:
        return PolicyShowResult(os.fspath(path), resolve_policy(ws, path))
    return PolicyShowResult(str(ws.policy_path), ws.policy)


def apply_to_outcomes(
    outcomes: list[Outcome], policy: Policy, workspace: Callable[[], Workspace] | None
) -> None:
    """Add the policy's findings to each checked target's report (in place): files and
    drafts at the ``check`` stage, artifacts as deploy would see them (signers counted)."""
    for o in outcomes:
        target = o.target
        if target is None or o.report is None:
            continue
        try:
            if target.kind == "artifact" and target.artifact is not None and workspace:
                extra = deploy_report(workspace(), target.artifact, policy)
            else:
                names: dict[str, str] = {}
                if target.kind == "draft" and target.draft is not None:
                    records = getattr(target.draft, "records", {}) or {}
                    names = {
                        n: r["catalog_name"]
                        for n, r in records.items()
                        if isinstance(r, dict) and r.get("catalog_name")
                    }
                extra = evaluate(
                    policy,
                    target.payload,
                    client=target.client,
                    stage="check",
                    names=names,
                    target=target.label,
                )
        except MCPOrchError as exc:
            o.error = exc
            continue
        o.report = ValidationReport(
            [*o.report.findings, *extra.findings], client=o.report.client, target=o.report.target
        )
        o.notes.append(f"policy {policy.source} ({policy.digest[:19]}…)")


__all__ = [
    "RULES",
    "ApproveResult",
    "PolicyShowResult",
    "apply_to_outcomes",
    "approve",
    "resolve_policy",
    "show",
]
