"""Secret references and the literal-secret scanner.

    >>> from mcp_orch.secrets import scan_value, is_reference
    >>> is_reference("${env:GITHUB_TOKEN}")
    True
    >>> scan_value("ghp_" + "a" * 36)[0].kind
    'github-token'

A secret is written as a reference, ``${env:NAME}``; deploy turns it into the client's own
placeholder, or resolves it from the environment for clients that cannot expand variables.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ._util import mask

REFERENCE = re.compile(r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$")
_ANY_REF = re.compile(r"\$\{env:[A-Za-z_][A-Za-z0-9_]*\}")

# (kind, pattern, label). Kept specific so they do not fire on ordinary text.
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("github-token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b"), "GitHub token"),
    ("github-token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"), "GitHub fine-grained token"),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), "GitLab token"),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}"), "Anthropic API key"),
    (
        "openai-key",
        re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        "OpenAI API key",
    ),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "Slack token"),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "AWS access key id"),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "Google API key"),
    ("stripe-key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"), "Stripe secret key"),
)


@dataclass(frozen=True)
class SecretFinding:
    kind: str
    label: str
    masked: str


def is_reference(value: str) -> bool:
    """True if the whole value is one ``${env:NAME}`` reference."""
    return bool(REFERENCE.match(value))


def without_references(value: str) -> str:
    return _ANY_REF.sub("", value)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_high_entropy(value: str) -> bool:
    """A long, random-looking token (no spaces, mixed classes, > 4 bits/char)."""
    v = value.strip()
    if v.lower().startswith("bearer "):
        v = v[7:].strip()
    if len(v) < 24 or any(c.isspace() for c in v) or "/" in v[:8] or "://" in v:
        return False
    classes = sum(
        (any(c.islower() for c in v), any(c.isupper() for c in v), any(c.isdigit() for c in v))
    )
    return classes >= 2 and entropy(v) > 4.0


def scan_value(value: str, *, generic: bool = False) -> list[SecretFinding]:
    """Known token formats in ``value`` (references ignored); ``generic`` adds entropy checks."""
    text = without_references(value)
    found = []
    for kind, pattern, label in TOKEN_PATTERNS:
        for m in pattern.finditer(text):
            found.append(SecretFinding(kind, label, mask(m.group(0))))
            break
        if found:
            break
    if not found and generic and looks_high_entropy(text):
        found.append(SecretFinding("high-entropy", "high-entropy value", mask(text.strip())))
    return found
