"""Secret references and the literal-secret scanner.

    >>> from mcp_orch.domain.secrets import scan_value, scan_entry, is_reference
    >>> is_reference("${env:GITHUB_TOKEN}")
    True
    >>> scan_value("ghp_" + "a" * 36)[0].kind
    'github-token'
    >>> hit = scan_entry({"env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_" + "a" * 36}})[0]
    >>> hit.field, hit.masked, hit.replacement
    ('env.GITHUB_PERSONAL_ACCESS_TOKEN', 'ghp_…(40 chars)', '${env:GITHUB_PERSONAL_ACCESS_TOKEN}')

A secret is written as a reference, ``${env:NAME}``; deploy turns it into the client's own
placeholder, or resolves it from the environment for clients that cannot expand variables.

The scanner knows the token formats of GitHub, GitLab, OpenAI, Anthropic, Slack, AWS, Google,
Stripe and a few more; in ``env`` and ``headers`` values it also flags long random-looking
(high-entropy) values. A finding names the exact field, shows the value only masked (first four
characters and the length), and suggests the ``${env:NAME}`` reference that should replace it.
:func:`redact` masks secrets inside free text (a server's stderr, an error message).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mcp_orch.core.text import mask
from mcp_orch.domain.clients import all_env_fields, all_header_fields

REFERENCE = re.compile(r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$")
_ANY_REF = re.compile(r"\$\{env:[A-Za-z_][A-Za-z0-9_]*\}")

# (kind, pattern, label). Kept specific so they do not fire on ordinary text.
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("github-token", re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b"), "GitHub token"),
    ("github-token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"), "GitHub fine-grained token"),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), "GitLab token"),
    (
        "gitlab-token",
        re.compile(r"\b(?:gldt|glrt|glptt|glsoat|glft|glimt|glagent)-[A-Za-z0-9_-]{20,}"),
        "GitLab token",
    ),
    ("anthropic-key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}"), "Anthropic API key"),
    (
        "openai-key",
        re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        "OpenAI API key",
    ),
    ("slack-token", re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}"), "Slack token"),
    ("slack-token", re.compile(r"\bxapp-\d-[A-Za-z0-9-]{10,}"), "Slack app token"),
    (
        "slack-webhook",
        re.compile(
            r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}"
        ),
        "Slack webhook URL",
    ),
    ("aws-access-key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "AWS access key id"),
    ("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"), "Google API key"),
    (
        "google-oauth-secret",
        re.compile(r"\bGOCSPX-[A-Za-z0-9_-]{20,}"),
        "Google OAuth client secret",
    ),
    ("stripe-key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"), "Stripe secret key"),
    ("stripe-key", re.compile(r"\bwhsec_[A-Za-z0-9+/=]{24,}"), "Stripe webhook secret"),
    ("huggingface-token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), "Hugging Face token"),
    ("npm-token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), "npm token"),
    (
        "private-key",
        re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
        "private key",
    ),
)

# AWS secret access keys have no prefix: they are recognised by the name of their field.
_AWS_SECRET_NAME = re.compile(r"(?i)aws.*secret|secret.*access.*key")
_AWS_SECRET_VALUE = re.compile(r"^[A-Za-z0-9/+=]{40}$")


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
        v, prefix = text.strip(), ""
        if v.lower().startswith("bearer "):
            prefix, v = v[:7], v[7:].strip()
        found.append(SecretFinding("high-entropy", "high-entropy value", prefix + mask(v)))
    return found


# ---- findings that point at a field --------------------------------------------------------

#: The variable a well-known token usually lives in (used when the field gives no better name).
_USUAL_NAME = {
    "github-token": "GITHUB_TOKEN",
    "gitlab-token": "GITLAB_TOKEN",
    "anthropic-key": "ANTHROPIC_API_KEY",
    "openai-key": "OPENAI_API_KEY",
    "slack-token": "SLACK_BOT_TOKEN",
    "slack-webhook": "SLACK_WEBHOOK_URL",
    "aws-access-key": "AWS_ACCESS_KEY_ID",
    "aws-secret-key": "AWS_SECRET_ACCESS_KEY",
    "google-api-key": "GOOGLE_API_KEY",
    "google-oauth-secret": "GOOGLE_CLIENT_SECRET",
    "stripe-key": "STRIPE_SECRET_KEY",
    "huggingface-token": "HF_TOKEN",
    "npm-token": "NPM_TOKEN",
    "private-key": "PRIVATE_KEY",
}

# Where entries keep variables and headers: the neutral names and every client's own.
_ENV_FIELDS = frozenset({"env"} | all_env_fields())
_HEADER_FIELDS = frozenset({"headers"} | all_header_fields())
_SECRET_FIELDS = _ENV_FIELDS | _HEADER_FIELDS


@dataclass(frozen=True)
class SecretHit:
    """A literal secret in one field of a server entry. ``masked`` is the only form of the value
    it keeps; ``replacement`` is what the field should hold instead."""

    field: str  # env.GITHUB_TOKEN, headers.Authorization, args[3], url
    kind: str
    label: str
    masked: str
    env_name: str
    replacement: str
    server: str = ""

    @property
    def suggestion(self) -> str:
        return (
            f"write {self.replacement} in {self.field} and export {self.env_name}=<the value> "
            "where the client runs"
        )

    @property
    def message(self) -> str:
        return f"{self.label} found as a literal value in {self.field} ({self.masked})"

    def to_dict(self) -> dict[str, str]:
        return {
            "server": self.server,
            "field": self.field,
            "kind": self.kind,
            "label": self.label,
            "masked": self.masked,
            "env_name": self.env_name,
            "replacement": self.replacement,
            "suggestion": self.suggestion,
        }


def env_name_for(field: str, kind: str = "", server: str = "") -> str:
    """The variable a secret found in ``field`` should move to.

    ``env.NAME`` keeps its own name; a header or argument takes the token's usual variable
    (``GITHUB_TOKEN``, ``OPENAI_API_KEY``, ...) or ``SERVER_HEADER`` for an unknown kind.
    """
    group, _, leaf = field.partition(".")
    if group in _ENV_FIELDS and leaf:
        raw = leaf
    elif kind in _USUAL_NAME:
        raw = _USUAL_NAME[kind]
    elif group in _HEADER_FIELDS and leaf:
        raw = f"{server}_{'token' if leaf.lower() == 'authorization' else leaf}"
    else:
        raw = f"{server}_secret" if server else "SECRET"
    name = re.sub(r"[^A-Za-z0-9]+", "_", raw).strip("_").upper() or "SECRET"
    return "_" + name if name[0].isdigit() else name


def scan_field(field: str, value: str, *, generic: bool | None = None) -> list[SecretFinding]:
    """:func:`scan_value` for the value of a named field: ``generic`` (entropy) checks default to
    on for ``env.*`` and ``headers.*``, and AWS secret keys are recognised by their field name."""
    if generic is None:
        generic = field.partition(".")[0] in _SECRET_FIELDS
    found = scan_value(value, generic=generic)
    leaf = field.rpartition(".")[2]
    text = without_references(value).strip()
    if _AWS_SECRET_NAME.search(leaf) and _AWS_SECRET_VALUE.match(text):
        return [SecretFinding("aws-secret-key", "AWS secret access key", mask(text))]
    return found


def _fields(entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, value) of every string of a neutral (or stdio-native) entry."""
    for key in ("command", "url"):
        if isinstance(entry.get(key), str):
            yield key, entry[key]
    command = entry.get("command")
    if isinstance(command, list):  # command arrays (OpenCode, Kilo)
        for i, part in enumerate(command):
            yield f"command[{i}]", str(part)
    for i, arg in enumerate(entry.get("args") or []):
        yield f"args[{i}]", str(arg)
    for group in ("env", "headers"):
        values = entry.get(group)
        if isinstance(values, dict):
            for k, v in values.items():
                if isinstance(v, str):
                    yield f"{group}.{k}", v


def scan_entry(entry: dict[str, Any], *, server: str = "") -> list[SecretHit]:
    """Every literal secret in a server entry, each pointing at its field.

    Known token formats are looked for everywhere (command, args, url, env, headers); long
    random-looking values only in ``env`` and ``headers``. References are never findings.
    """
    hits: list[SecretHit] = []
    for field, value in _fields(entry):
        if not value or is_reference(value):
            continue
        found = scan_field(field, value)
        if not found:
            continue
        first = found[0]
        var = env_name_for(field, first.kind, server)
        ref = "${env:" + var + "}"
        if value.strip().lower().startswith("bearer "):
            ref = "Bearer " + ref
        hits.append(SecretHit(field, first.kind, first.label, first.masked, var, ref, server))
    return hits


def redact(text: str, values: Iterable[str] = ()) -> str:
    """``text`` with every known token format, and each of ``values``, replaced by its mask."""
    for value in sorted({v for v in values if v and len(v) >= 6}, key=len, reverse=True):
        text = text.replace(value, mask(value))
    for _kind, pattern, _label in TOKEN_PATTERNS:
        text = pattern.sub(lambda m: mask(m.group(0)), text)
    return text
