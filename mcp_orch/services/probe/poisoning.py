"""Tool poisoning: instructions hidden in what a server tells the model about its tools.

    >>> hits = scan_manifest(probe_result.manifest)
    >>> [(h.pattern, h.where) for h in hits]
    [('hidden-marker', 'tools[add].description'), ('credential-file', 'tools[add].description')]

Every description of a manifest is scanned (tools, their input-schema properties at any depth,
prompts and their arguments, resources) for the patterns of :data:`PATTERNS`. An excerpt of the
text around each hit is shown with invisible and control characters escaped (``\\u200b``), so
a report never renders them raw. Validation rule MCP012 turns the hits into findings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

#: Invisible characters: tag characters, zero-width characters, bidi overrides and isolates.
_INVISIBLE = re.compile(
    "[\U000e0000-\U000e007f\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]"
)

#: pattern name -> (severity, what it is, regular expression).
PATTERNS: dict[str, tuple[str, str, re.Pattern[str]]] = {
    "hidden-marker": (
        "error",
        "a hidden instruction marker",
        re.compile(
            r"<\s*/?\s*(?:important|system|instructions?)\b[^>]*>|\[/?INST\]|<!--.*?-->",
            re.IGNORECASE | re.DOTALL,
        ),
    ),
    "override": (
        "error",
        "text that overrides the user's instructions",
        re.compile(
            r"ignore\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|above)\s+instructions"
            r"|do\s+not\s+(?:tell|inform|mention\s+(?:this\s+|it\s+)?to)\s+the\s+user"
            r"|you\s+must\s+first\s+read",
            re.IGNORECASE,
        ),
    ),
    "credential-file": (
        "error",
        "a request for a credential file",
        re.compile(
            r"~/\.ssh\b|\.ssh/|\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\.aws/credentials"
            r"|(?<![\w.])\.env\b|\.npmrc\b|\bmcp\.json\b|\bclaude_desktop_config\.json\b",
            re.IGNORECASE,
        ),
    ),
    "invisible-unicode": ("error", "invisible Unicode characters", _INVISIBLE),
    "url": ("warning", "a URL", re.compile(r"\bhttps?://[^\s\"'<>)\]]+", re.IGNORECASE)),
}


@dataclass(frozen=True)
class PoisonHit:
    """One pattern found in one description."""

    pattern: str  # a key of PATTERNS
    severity: str  # "error" or "warning"
    kind: str  # "tool", "prompt" or "resource"
    item: str  # the tool's or prompt's name, the resource's URI (escaped)
    where: str  # e.g. tools[add].input_schema.properties.a.description
    excerpt: str  # the text around the hit, invisible characters escaped

    @property
    def what(self) -> str:
        return PATTERNS[self.pattern][1]

    @property
    def message(self) -> str:
        return f"{self.kind} {self.item!r}: {self.what} ({self.pattern}): {self.excerpt}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def escape(text: str) -> str:
    """``text`` with invisible, format and control characters as ``\\uXXXX`` escapes."""
    out = []
    for ch in text:
        if ch in "\n\t":
            out.append(" ")
        elif _INVISIBLE.match(ch) or unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cn"):
            code = ord(ch)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _excerpt(text: str, start: int, end: int, width: int = 40) -> str:
    lo, hi = max(0, start - width), min(len(text), end + width)
    core = text[lo:hi]
    return ("…" if lo else "") + escape(core) + ("…" if hi < len(text) else "")


def scan_text(text: str) -> Iterator[tuple[str, str]]:
    """(pattern, excerpt) for each pattern found in ``text`` (its first occurrence)."""
    for name, (_, _, regex) in PATTERNS.items():
        m = regex.search(text)
        if m is not None:
            yield name, _excerpt(text, m.start(), m.end())


def _schema_descriptions(schema: Any, path: str) -> Iterator[tuple[str, str]]:
    """(where, description) of every ``description`` inside a JSON Schema (properties, items,
    definitions ...), the schema's own included."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            sub = f"{path}.{key}"
            if key == "description" and isinstance(value, str):
                yield sub, value
            elif isinstance(value, dict | list):
                yield from _schema_descriptions(value, sub)
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _schema_descriptions(value, f"{path}[{i}]")


def _descriptions(manifest: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(kind, item, where, text) of every description of a manifest."""
    for tool in manifest.get("tools") or []:
        name = escape(str(tool.get("name")))
        base = f"tools[{name}]"
        if tool.get("description"):
            yield "tool", name, f"{base}.description", tool["description"]
        for where, text in _schema_descriptions(tool.get("input_schema"), f"{base}.input_schema"):
            yield "tool", name, where, text
    for prompt in manifest.get("prompts") or []:
        name = escape(str(prompt.get("name")))
        base = f"prompts[{name}]"
        if prompt.get("description"):
            yield "prompt", name, f"{base}.description", prompt["description"]
        for arg in prompt.get("arguments") or []:
            if arg.get("description"):
                where = f"{base}.arguments[{escape(str(arg.get('name')))}].description"
                yield "prompt", name, where, arg["description"]
    for res in manifest.get("resources") or []:
        uri = escape(str(res.get("uri")))
        if res.get("description"):
            yield "resource", uri, f"resources[{uri}].description", res["description"]


def scan_manifest(manifest: dict[str, Any] | None) -> list[PoisonHit]:
    """Every pattern of :data:`PATTERNS` in the descriptions of ``manifest`` (none for None)."""
    if not manifest:
        return []
    hits = []
    for kind, item, where, text in _descriptions(manifest):
        for pattern, excerpt in scan_text(text):
            severity = PATTERNS[pattern][0]
            hits.append(PoisonHit(pattern, severity, kind, item, where, excerpt))
    return hits
