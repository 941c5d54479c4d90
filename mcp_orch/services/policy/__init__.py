"""Policy gates: a TOML policy evaluated before signing (publish), before writing (deploy) and
on any client file (check), with stable rule codes; and co-signing (approvals).

    >>> from mcp_orch.services.policy import load_policy
    >>> from mcp_orch.services.policy.evaluate import evaluate
    >>> policy = load_policy(ws.path / "policy.toml")          # None: no policy, no gate
    >>> evaluate(policy, record, stage="deploy", signers=signers).raise_for_policy("the release")

The parts: :mod:`.model` (the file and its digest; light, re-exported here: the workspace reads
it), :mod:`.evaluate` (the rules, the report), :mod:`.gates` (publish, deploy, approve).
"""

from __future__ import annotations

from mcp_orch.services.policy.model import (
    POLICY_FILE,
    RULES,
    TRANSPORTS,
    Lists,
    Policy,
    load_policy,
    parse_policy,
    workspace_policy_path,
)

__all__ = [
    "POLICY_FILE",
    "RULES",
    "TRANSPORTS",
    "Lists",
    "Policy",
    "load_policy",
    "parse_policy",
    "workspace_policy_path",
]
