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
Stripe and a few more, and the shapes that carry a secret whatever its format: the password of a
connection URL (``postgres://user:pw@host``), the value of a secret option (``--api-key=VALUE``,
``--token VALUE``, ``API_KEY=VALUE``), a secret header inside an argument (``--header
"Authorization: Bearer X"``, as mcp-remote takes it) and a literal ``Bearer`` value. In ``env`` and
``headers`` values it also flags long random-looking (high-entropy) values. References
(``${env:NAME}``) and placeholders (``${NAME}``, ``${input:id}``, ``{name}``, ``<your-key>``) are
never findings.

A finding names the exact field, shows the value only masked (first four characters and the
length), and suggests what the field should hold instead: the same value with the secret part
replaced by a ``${env:NAME}`` reference. :func:`mask_secrets` is the one masking of entries for
display (every front end shows entries through it); :func:`redact` masks secrets inside free text
(a server's stderr, an error message); :func:`secret_in_text` and :func:`refuse_secret_text` keep
secrets out of free-text fields (a changelog, a server name, a catalog description) that are
signed or kept for ever.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mcp_orch.core.errors import UsageError
from mcp_orch.core.text import mask
from mcp_orch.domain.clients import all_env_fields, all_header_fields

REFERENCE = re.compile(r"^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$")
# ${env:NAME}, and Continue's ${{ secrets.NAME }} (a reference in a file mcp-orch wrote)
_ANY_REF = re.compile(
    r"\$\{env:[A-Za-z_][A-Za-z0-9_]*\}|\$\{\{\s*secrets\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}"
)

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
    (
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        "JSON Web Token",
    ),
)

# AWS secret access keys have no prefix: they are recognised by the name of their field.
_AWS_SECRET_NAME = re.compile(r"(?i)aws.*secret|secret.*access.*key")
_AWS_SECRET_VALUE = re.compile(r"^[A-Za-z0-9/+=]{40}$")


@functools.cache
def _any_token() -> re.Pattern[str]:
    """Any of the formats at all: an alternation finds a match wherever one of the patterns
    would (each pattern is flag-free), so a value it does not match needs none of their
    searches. Compiled on first use (2 ms: not on the path of commands that scan nothing)."""
    return re.compile("|".join(f"(?:{p.pattern})" for _, p, _ in TOKEN_PATTERNS))


@dataclass(frozen=True)
class SecretFinding:
    """One secret in one value. ``start``/``end`` locate the secret part in the value (``end``
    -1: the whole value); ``var`` is the variable it usually lives in when the kind alone does not
    say (``POSTGRES_PASSWORD``, ``API_KEY``), ``per_server`` whether that name takes the server's
    name in front (``WEATHER_API_KEY``)."""

    kind: str
    label: str
    masked: str
    start: int = 0
    end: int = -1
    var: str = ""
    per_server: bool = False

    def span(self, value: str) -> tuple[int, int]:
        return (self.start, len(value) if self.end < 0 else self.end)


def is_reference(value: str) -> bool:
    """True if the whole value is one ``${env:NAME}`` reference."""
    return bool(REFERENCE.fullmatch(value))


def without_references(value: str) -> str:
    return _ANY_REF.sub("", value)


def _blank_references(value: str) -> str:
    """``value`` with each reference blanked out, so offsets into it are offsets into ``value``."""
    return _ANY_REF.sub(lambda m: "\0" * len(m.group(0)), value)


# What stands for a value rather than being one: references and every client's placeholders,
# catalog {placeholders}, <your-key>, masked or elided values, and the words examples use.
_PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        \$\{[^{}]*\}                     # ${env:NAME}  ${input:id}  ${NAME}
      | \$\{\{[^{}]*\}\}                 # ${{ secrets.NAME }} (Continue)
      | \$[A-Za-z_][A-Za-z0-9_]*         # $NAME
      | \{\{?[^{}]*\}?\}                 # {env:NAME}  {placeholder}  {{NAME}}
      | <[^<>]*>                         # <your-token>
      | %[A-Za-z_][A-Za-z0-9_]*%         # %NAME%
      | [*x•.…]+                         # ****  xxxx  ...
      | [A-Za-z0-9_]{1,4}…\(\d+\ chars\) # a value masked by mcp-orch
      | your[-_ ]?\S* | my[-_]\S*        # your-api-key, YOUR_TOKEN_HERE, my-token
    )$"""
)
_PLACEHOLDER_WORDS = frozenset(
    {
        "password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "api-key",
        "key", "changeme", "example", "redacted", "hidden", "none", "null", "nil", "true",
        "false", "yes", "no", "on", "off", "env", "value",
    }
)  # fmt: skip


def is_placeholder(value: str) -> bool:
    """True for a value that stands for a secret rather than being one: empty, a reference or a
    client's placeholder (``${NAME}``, ``${input:id}``, ``{env:NAME}``), a catalog
    ``{placeholder}``, ``<your-key>``, a masked value, or an example word (``password``)."""
    v = value.strip().strip("\"'").strip()
    if not v or v.lower() in _PLACEHOLDER_WORDS or _PLACEHOLDER.match(v):
        return True
    return "${" in v and not without_references(v).strip(" -_:/")  # ${env:A}:${env:B}


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


# ---- the shapes that carry a secret, whatever its format -------------------------------------

# scheme://user:password@host: the password is the secret (the greedy password backs off to the
# last @ before the host)
_URL_CREDENTIALS = re.compile(
    r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^\s:/?#@\"']*):(?P<pw>[^\s/?#\"']*)@"
    r"(?P<host>[^\s/?#@\"']+)"
)
#: The variable a connection URL's password usually lives in, by scheme.
_SCHEME_VAR = {
    "postgres": "POSTGRES_PASSWORD",
    "postgresql": "POSTGRES_PASSWORD",
    "mysql": "MYSQL_PASSWORD",
    "mariadb": "MYSQL_PASSWORD",
    "mongodb": "MONGODB_PASSWORD",
    "mongodb+srv": "MONGODB_PASSWORD",
    "redis": "REDIS_PASSWORD",
    "rediss": "REDIS_PASSWORD",
    "amqp": "RABBITMQ_PASSWORD",
    "amqps": "RABBITMQ_PASSWORD",
    "mssql": "MSSQL_PASSWORD",
    "sqlserver": "MSSQL_PASSWORD",
    "clickhouse": "CLICKHOUSE_PASSWORD",
    "neo4j": "NEO4J_PASSWORD",
    "ftp": "FTP_PASSWORD",
}

# --api-key=VALUE, --github-token=VALUE, -password=VALUE; and API_KEY=VALUE (docker -e)
_SECRET_WORDS = (
    r"api[-_]?key|api[-_]?token|access[-_]?token|auth[-_]?token|refresh[-_]?token|"
    r"bearer[-_]?token|token|password|passwd|secret|client[-_]?secret|secret[-_]?key|"
    r"access[-_]?key|private[-_]?key|pat"
)
_SECRET_OPTION = re.compile(rf"(?i)^--?(?P<name>(?:[a-z0-9]+[-_])*?(?:{_SECRET_WORDS}))$")
_OPTION_VALUE = re.compile(r"^(?P<opt>--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(?P<value>.+)$", re.S)
_ENV_ASSIGNMENT = re.compile(
    rf"^(?P<name>(?:[A-Z0-9]+_)*(?:{_SECRET_WORDS.upper().replace('[-_]', '_')}))=(?P<value>.+)$",
    re.S,
)
#: Option names too generic to name a variable alone: the server's name goes in front.
_GENERIC_OPTIONS = frozenset(
    {
        "token", "password", "passwd", "secret", "pat", "key", "apikey", "api-key", "api_key",
        "api-token", "access-token", "auth-token", "refresh-token", "bearer-token",
        "client-secret", "secret-key", "access-key", "private-key",
    }
)  # fmt: skip

# Name: value, alone or as --header=Name: value (mcp-remote's --header takes this form)
_HEADER_ARG = re.compile(
    r"^(?:--?(?:header|H)[= ])?\s*(?P<name>[A-Za-z][A-Za-z0-9_-]*)\s*:\s*(?P<value>.*)$", re.S
)
_SECRET_HEADER = re.compile(
    r"(?i)^(?:proxy-)?authorization$|^(?:x-)?(?:[a-z0-9]+-)*(?:api-?key|key|token|secret|"
    r"auth|auth-token|access-token|password)$"
)
_AUTH_SCHEME = re.compile(r"(?i)^(?:bearer|basic|token|bot|apikey|digest)\s+")
_BEARER = re.compile(r"(?i)^\s*bearer\s+(?P<value>\S+)\s*$")


def _name_var(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()


def _header_value(name: str, value: str, offset: int) -> SecretFinding | None:
    """The literal secret in the value of header ``name`` (after its scheme word), if any."""
    if not _SECRET_HEADER.match(name):
        return None
    lead = len(value) - len(value.lstrip())
    rest = value[lead:]
    scheme = _AUTH_SCHEME.match(rest)
    if scheme:
        lead, rest = lead + scheme.end(), rest[scheme.end() :]
    rest = rest.rstrip()
    if is_placeholder(rest) or is_placeholder(value):
        return None
    start = offset + lead
    var = "TOKEN" if name.lower().endswith("authorization") else _name_var(name)
    return SecretFinding(
        "secret-header",
        f"{name} header value",
        mask(rest),
        start,
        start + len(rest),
        var,
        per_server=True,
    )


def _shapes(value: str) -> Iterator[SecretFinding]:
    """Secrets recognised by where they stand rather than by their format."""
    for m in _URL_CREDENTIALS.finditer(value):
        pw = m.group("pw")
        if is_placeholder(pw) or "${" in pw:
            continue
        scheme = m.group("scheme").lower()
        var = _SCHEME_VAR.get(scheme, "PASSWORD")
        yield SecretFinding(
            "url-password",
            "password in a URL",
            mask(pw),
            m.start("pw"),
            m.end("pw"),
            var,
            per_server=scheme not in _SCHEME_VAR,
        )
    option = _OPTION_VALUE.match(value)
    if option:
        m = option
        opt = _SECRET_OPTION.match(m.group("opt"))
        secret = m.group("value")
        if opt and not is_placeholder(secret) and not _short_number(secret):
            name = opt.group("name")
            yield SecretFinding(
                "secret-option",
                f"value of {m.group('opt')}",
                mask(secret),
                m.start("value"),
                m.end("value"),
                _name_var(name),
                per_server=name.lower() in _GENERIC_OPTIONS,
            )
        elif not opt:  # --header=Name: value
            h = _HEADER_ARG.match(value)
            if h and m.group("opt") in ("--header", "-H"):
                found = _header_value(h.group("name"), h.group("value"), h.start("value"))
                if found:
                    yield found
        return
    assignment = _ENV_ASSIGNMENT.match(value)
    if assignment and not is_placeholder(assignment.group("value")):
        yield SecretFinding(
            "secret-option",
            f"value of {assignment.group('name')}",
            mask(assignment.group("value")),
            assignment.start("value"),
            assignment.end("value"),
            assignment.group("name"),
        )
        return
    h = _HEADER_ARG.match(value)
    if h and "://" not in value[: h.end("name") + 3]:
        found = _header_value(h.group("name"), h.group("value"), h.start("value"))
        if found:
            yield found


def _short_number(value: str) -> bool:
    return value.isdigit() and len(value) <= 5  # --max-token=4096 is not a secret


def _bearer(value: str) -> SecretFinding | None:
    m = _BEARER.match(value)
    if not m or is_placeholder(m.group("value")) or "${" in m.group("value"):
        return None
    token = m.group("value")
    return SecretFinding(
        "bearer-token", "bearer token", mask(token), m.start("value"), m.end("value"), "TOKEN", True
    )


def _entropy_finding(value: str) -> SecretFinding | None:
    text = without_references(value)
    if not looks_high_entropy(text):
        return None
    v, prefix = text.strip(), ""
    if v.lower().startswith("bearer "):
        prefix, v = v[:7], v[7:].strip()
    if text != value:  # references inside: the whole value is the secret
        return SecretFinding("high-entropy", "high-entropy value", prefix + mask(v))
    start = value.index(v)
    return SecretFinding(
        "high-entropy", "high-entropy value", prefix + mask(v), start, start + len(v)
    )


def _all_findings(
    value: str, *, generic: bool = False, header: str = "", aws_name: bool = False
) -> list[SecretFinding]:
    """Every secret in ``value``, the most specific first: known token formats, then the
    shapes (URL password, secret option, header), then (``generic``) random-looking values, then
    a literal Bearer value or the value of the secret header ``header``."""
    found: list[SecretFinding] = []
    blanked = _blank_references(value)
    if _any_token().search(blanked):  # one search rules out every format for most values
        for kind, pattern, label in TOKEN_PATTERNS:
            for m in pattern.finditer(blanked):
                found.append(SecretFinding(kind, label, mask(m.group(0)), m.start(), m.end()))
    found += _shapes(value)
    text = without_references(value).strip()
    if aws_name and _AWS_SECRET_VALUE.fullmatch(text):
        start = value.index(text) if text in value else 0
        aws = SecretFinding(
            "aws-secret-key", "AWS secret access key", mask(text), start, start + len(text)
        )
        found.insert(0, aws)
    if generic and not found:
        high = _entropy_finding(value)
        if high:
            found.append(high)
    if header:
        head = _header_value(header, value, 0)
        if head:
            found.append(head)
    bearer = _bearer(value)
    if bearer:
        found.append(bearer)
    return found


def scan_value(value: str, *, generic: bool = False) -> list[SecretFinding]:
    """The secret in ``value`` (references ignored), as a list of at most one finding: a known
    token format, else a URL password, a secret option's value or a secret header inside the
    value; ``generic`` adds entropy checks."""
    found = _all_findings(value, generic=generic)
    return found[:1]


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


def env_name_for(
    field: str, kind: str = "", server: str = "", finding: SecretFinding | None = None
) -> str:
    """The variable a secret found in ``field`` should move to.

    ``env.NAME`` keeps its own name; a header or argument takes the token's usual variable
    (``GITHUB_TOKEN``, ``OPENAI_API_KEY``, ...), else the one the finding's shape suggests
    (``POSTGRES_PASSWORD`` for a postgres URL, ``SERVER_API_KEY`` for ``--api-key=``), else
    ``SERVER_HEADER`` for a header and ``SERVER_SECRET`` for anything else.
    """
    group, _, leaf = field.partition(".")
    if finding is not None and not kind:
        kind = finding.kind
    if group in _ENV_FIELDS and leaf:
        raw = leaf
    elif kind in _USUAL_NAME:
        raw = _USUAL_NAME[kind]
    elif finding is not None and finding.var:
        raw = finding.var
        if finding.per_server and server and not _name_var(raw).startswith(_name_var(server)):
            raw = f"{server}_{raw}"
    elif group in _HEADER_FIELDS and leaf:
        raw = f"{server}_{'token' if leaf.lower() == 'authorization' else leaf}"
    else:
        raw = f"{server}_secret" if server else "SECRET"
    name = re.sub(r"[^A-Za-z0-9]+", "_", raw).strip("_").upper() or "SECRET"
    return "_" + name if name[0].isdigit() else name


def replacement_for(field: str, value: str, finding: SecretFinding, var: str) -> str:
    """What ``field`` should hold instead of ``value``: an ``env.*`` value moves whole to its
    variable (``Bearer `` kept); anywhere else only the secret part becomes the reference
    (``--api-key=${env:API_KEY}``, ``postgres://app:${env:POSTGRES_PASSWORD}@db/app``)."""
    ref = "${env:" + var + "}"
    whole = ("Bearer " + ref) if value.strip().lower().startswith("bearer ") else ref
    if field.partition(".")[0] in _ENV_FIELDS or finding.end < 0:
        return whole
    start, end = finding.span(value)
    return value[:start] + ref + value[end:]


def _field_options(field: str) -> dict[str, Any]:
    group, _, leaf = field.partition(".")
    return {
        "generic": group in _SECRET_FIELDS,
        "header": leaf if group in _HEADER_FIELDS else "",
        "aws_name": bool(_AWS_SECRET_NAME.search(field.rpartition(".")[2])),
    }


def _after_option(prev: str | None, value: str) -> SecretFinding | None:
    """``value`` when it follows a secret option given alone (``--access-token VALUE``)."""
    if prev is None or value.startswith("-") or is_placeholder(value) or _short_number(value):
        return None
    if prev in ("--header", "-H"):
        h = _HEADER_ARG.match(value)
        return _header_value(h.group("name"), h.group("value"), h.start("value")) if h else None
    opt = _SECRET_OPTION.match(prev)
    if not opt or "${" in value:
        return None
    name = opt.group("name")
    return SecretFinding(
        "secret-option",
        f"value of {prev}",
        mask(value),
        0,
        len(value),
        _name_var(name),
        per_server=name.lower() in _GENERIC_OPTIONS,
    )


def field_findings(field: str, value: str, prev: str | None = None) -> list[SecretFinding]:
    """Every secret in the value of a named field, the most specific first. ``prev`` is the
    argument before it (so ``--token VALUE`` and ``--header "Authorization: Bearer X"`` are seen);
    entropy checks are on for ``env.*`` and ``headers.*`` values, and AWS secret keys are
    recognised by their field name."""
    if not value or is_reference(value):
        return []
    found = _all_findings(value, **_field_options(field))
    after = _after_option(prev, value)
    if after and not any(f.kind in _USUAL_NAME for f in found):
        found.insert(0, after)
    return found


def scan_field(field: str, value: str, *, generic: bool | None = None) -> list[SecretFinding]:
    """:func:`scan_value` for the value of a named field: ``generic`` (entropy) checks default to
    on for ``env.*`` and ``headers.*``, and AWS secret keys are recognised by their field name."""
    options = _field_options(field)
    if generic is not None:
        options["generic"] = generic
    if not value or is_reference(value):
        return []
    return _all_findings(value, **options)[:1]


def _fields(entry: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(field, value, argument before it) of every string of a neutral (or stdio-native)
    entry."""
    for key in ("command", "url"):
        if isinstance(entry.get(key), str):
            yield key, entry[key], None
    command = entry.get("command")
    if isinstance(command, list):  # command arrays (OpenCode, Kilo)
        for i, part in enumerate(command):
            yield f"command[{i}]", str(part), str(command[i - 1]) if i else None
    args = entry.get("args") or []
    for i, arg in enumerate(args):
        yield f"args[{i}]", str(arg), str(args[i - 1]) if i else None
    for group in ("env", "headers"):
        values = entry.get(group)
        if isinstance(values, dict):
            for k, v in values.items():
                if isinstance(v, str):
                    yield f"{group}.{k}", v, None


def scan_entry(entry: dict[str, Any], *, server: str = "") -> list[SecretHit]:
    """Every literal secret in a server entry, each pointing at its field.

    Known token formats and the shapes that carry a secret (URL passwords, secret options,
    secret headers in arguments) are looked for everywhere (command, args, url, env, headers);
    long random-looking values only in ``env`` and ``headers``. References are never findings.
    """
    hits: list[SecretHit] = []
    for field, value, prev in _fields(entry):
        found = field_findings(field, value, prev)
        if not found:
            continue
        first = found[0]
        var = env_name_for(field, first.kind, server, first)
        ref = replacement_for(field, value, first, var)
        hits.append(SecretHit(field, first.kind, first.label, first.masked, var, ref, server))
    return hits


# ---- showing entries safely ------------------------------------------------------------------


def mask_string(field: str, value: str, prev: str | None = None) -> str:
    """``value`` with every secret the scanner flags in it replaced by its mask."""
    found = field_findings(field, value, prev)
    if not found:
        return value
    spans: list[tuple[int, int]] = []
    for f in found:  # the most specific first; a span inside one already taken is dropped
        start, end = f.span(value)
        if f.end < 0 and value.strip().lower().startswith("bearer "):
            start = value.lower().index("bearer ") + 7
        if all(end <= s or start >= e for s, e in spans):
            spans.append((start, end))
    out = value
    for start, end in sorted(spans, reverse=True):
        out = out[:start] + mask(out[start:end]) + out[end:]
    return out


def mask_secrets(value: Any, field: str = "") -> Any:
    """A copy of a JSON value (an entry, a map of entries, a draft record, a whole payload) with
    every secret the scanner flags masked. For display only: what is stored (and signed) stays
    as it is. A string under a key of ``env``/``headers`` (or a client's own name for them) gets
    the entropy checks, and an argument is read with the one before it (``--token VALUE``)."""
    if isinstance(value, dict):
        group = field.rpartition(".")[2]
        out: dict[str, Any] = {}
        for k, v in value.items():
            child = f"{group}.{k}" if group in _SECRET_FIELDS else str(k)
            out[k] = mask_secrets(v, child)
        return out
    if isinstance(value, list):
        items: list[Any] = []
        prev: str | None = None
        for i, v in enumerate(value):
            if isinstance(v, str):
                items.append(mask_string(f"{field}[{i}]", v, prev))
                prev = v
            else:
                items.append(mask_secrets(v, f"{field}[{i}]"))
                prev = None
        return items
    if isinstance(value, str):
        return mask_string(field, value)
    return value


def mask_entries(entries: dict[str, Any]) -> dict[str, Any]:
    """name -> entry (or record) with every flagged secret masked (see :func:`mask_secrets`)."""
    return {name: mask_secrets(entry) for name, entry in entries.items()}


def redact(text: str, values: Iterable[str] = ()) -> str:
    """``text`` with every known token format, and each of ``values``, replaced by its mask."""
    for value in sorted({v for v in values if v and len(v) >= 6}, key=len, reverse=True):
        text = text.replace(value, mask(value))
    for _kind, pattern, _label in TOKEN_PATTERNS:
        text = pattern.sub(lambda m: mask(m.group(0)), text)
    return text


# ---- free text: changelogs, names, descriptions ----------------------------------------------

_TEXT_ASSIGNMENT = re.compile(
    rf"(?i)(?:^|(?<=[\s\"'(,;\[{{]))-{{0,2}}(?P<name>[a-z0-9_-]*(?:{_SECRET_WORDS}))"
    r"(?P<sep>\s*[=:]\s*)(?P<value>[^\s\"',;)\]}]+)"
)
_TEXT_BEARER = re.compile(r"(?i)\bbearer\s+(?P<value>[A-Za-z0-9._~+/=-]{16,})")
_WORD = re.compile(r"[^\s\"'`()\[\]{}<>,;]+")


def secret_in_text(text: str, *, random_words: bool = True) -> str | None:
    """What kind of secret free text holds (``"a GitHub token"``, ``"a password in a URL"``), or
    None. Never the value: the answer is safe to show. High-confidence shapes only, so ordinary
    prose, ids, digests and paths pass: known token formats, JWTs, URL passwords, ``Bearer
    <token>``, ``password=...`` / ``--api-key=...`` assignments, and (unless ``random_words``
    is false, as for a registry name such as ``ai.smithery/BigVik193-reddit-ads-mcp``, whose
    owner part often looks random) long random-looking words."""
    if not text:
        return None
    blanked = _blank_references(text)
    for _kind, pattern, label in TOKEN_PATTERNS:
        if pattern.search(blanked):
            return ("an " if label[0].lower() in "aeiou" else "a ") + label
    for m in _URL_CREDENTIALS.finditer(text):
        if not is_placeholder(m.group("pw")) and "${" not in m.group("pw"):
            return "a password in a URL"
    for m in _TEXT_BEARER.finditer(text):
        if not is_placeholder(m.group("value")):
            return "a bearer token"
    for m in _TEXT_ASSIGNMENT.finditer(text):
        value = m.group("value").rstrip(".")
        if is_placeholder(value) or value[:1] in "<{$%" or _short_number(value):
            continue  # <the new one>, ${env:T}: a placeholder, however it goes on
        loose = "=" not in m.group("sep")  # "token: rotated" is prose; "token: 9f8e7d6c5b" is not
        if loose and (len(value) < 8 or not any(c.isdigit() for c in value)):
            continue
        if len(value) >= 4:
            return f"a {m.group('name').lower()} value"
    for m in _WORD.finditer(without_references(text) if random_words else ""):
        word = m.group(0).strip(".:!?")
        if looks_high_entropy(word) and any(c.isdigit() for c in word) and ":" not in word:
            return "a long random-looking value (a token?)"
    return None


def refuse_secret_text(
    text: str,
    field: str,
    *,
    why: str | None = None,
    inputs: Sequence[str] | None = None,
    random_words: bool = True,
) -> None:
    """``UsageError`` if free text holds a secret (see :func:`secret_in_text`); the message names
    the field and the kind of secret, never the value. ``why`` says where the text is kept (the
    default: signed and in the audit log); ``inputs`` (default: the field) the inputs the hint
    is about."""
    found = secret_in_text(text or "", random_words=random_words)
    if found is None:
        return
    why = why or f"the {field} is signed and kept in the append-only audit log forever"
    raise UsageError(
        f"the {field} holds what looks like {found}",
        f"remove the token from the {field}: {why}",
        inputs=(field,) if inputs is None else inputs,
    )
