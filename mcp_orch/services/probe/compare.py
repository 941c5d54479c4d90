"""What changed between a pinned manifest (the one a release recorded) and a live one.

    >>> changes = diff_manifests(pinned, probe_result.manifest)
    >>> [(c.kind, c.where) for c in changes]
    [('tool-input-schema-changed', 'tools.add.input_schema.properties.note')]
    >>> print(changes[0].diff)
    + properties.note: {"default":"","title":"Note","type":"string"}

A manifest is the plain data of :mod:`mcp_orch.services.probe.manifest`: ``server`` (name and
version), ``protocol_version``, and ``tools`` / ``prompts`` (by name) and ``resources`` (by
URI). Each difference is one :class:`ManifestChange` with a stable ``kind``, a dotted ``where``
(``tools.add.input_schema.properties.note``; a key that is no plain word is written in
brackets: ``resources[file:///notes.txt]``), the old and new values, one plain sentence and a
short field diff: a unified diff of a changed description, one line per changed JSON path of a
schema (``+ path: value``, ``- path: value``, ``~ path: old -> new``). Invisible and control
characters are shown escaped (``\\u200b``), never raw. The order is fixed: the server's name,
version and protocol, then tools, prompts and resources by name (URI), each tool's fields in
manifest order. Rule MCP014 turns the changes into findings.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mcp_orch.core.text import plural
from mcp_orch.services.probe.poisoning import escape

#: Every kind of change, in report order.
KINDS: tuple[str, ...] = (
    "server-name-changed",
    "server-version-changed",
    "protocol-version-changed",
    "tool-added",
    "tool-removed",
    "tool-description-changed",
    "tool-input-schema-changed",
    "tool-output-schema-changed",
    "tool-annotations-changed",
    "prompt-added",
    "prompt-removed",
    "prompt-changed",
    "resource-added",
    "resource-removed",
    "resource-changed",
)

#: Kinds that only say who the server is (a warning): what the model sees is the same.
SERVER_KINDS = frozenset(
    {"server-name-changed", "server-version-changed", "protocol-version-changed"}
)

#: Most lines a field diff has (the rest are counted in a last line).
MAX_DIFF_LINES = 40
_MAX_VALUE = 200  # characters of one JSON value in a schema diff line
_MAX_LINE = 400  # characters of one line of a description diff

_TOOL_FIELDS = (
    ("description", "tool-description-changed", "its description changed"),
    ("input_schema", "tool-input-schema-changed", "its input schema changed"),
    ("output_schema", "tool-output-schema-changed", "its output schema changed"),
    ("annotations", "tool-annotations-changed", "its annotations changed"),
)
_WORD = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ManifestChange:
    """One difference between the pinned and the live manifest."""

    kind: str  # one of KINDS
    where: str  # dotted path: tools.add.input_schema.properties.note
    old: Any  # the pinned value (None when added)
    new: Any  # the live value (None when removed)
    message: str  # one sentence naming the tool (prompt, resource) and what changed
    diff: str = ""  # the field diff, lines joined by "\n"

    @property
    def severity(self) -> str:
        """``warning`` for the server's name, version or protocol; ``error`` otherwise."""
        return "warning" if self.kind in SERVER_KINDS else "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "where": self.where,
            "old": self.old,
            "new": self.new,
            "message": self.message,
            "diff": self.diff,
            "severity": self.severity,
        }

    def __str__(self) -> str:
        return self.message + (f"\n{_indent(self.diff)}" if self.diff else "")


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def manifest_of(pin: Any) -> dict[str, Any] | None:
    """The manifest of a pin: the manifest itself, or a release's ``{"digest": ..., "manifest":
    {...}}`` entry; None for anything else."""
    if not isinstance(pin, Mapping):
        return None
    inner = pin.get("manifest")
    if isinstance(inner, Mapping) and "tools" not in pin:
        return dict(inner)
    return dict(pin)


def tool_counts(manifests: Mapping[str, Any]) -> dict[str, int]:
    """server -> how many tools its manifest lists (a release's ``tools`` entries work too);
    a server without a manifest counts 0."""
    out = {}
    for server, pin in manifests.items():
        manifest = manifest_of(pin) or {}
        out[server] = len(manifest.get("tools") or [])
    return out


def key(name: Any) -> str:
    """One step of a dotted path: ``.name``, or ``[name]`` for a name that is no plain word."""
    text = escape(str(name))
    return f".{text}" if _WORD.fullmatch(text) else f"[{text}]"


def _join(base: str, step: Any) -> str:
    part = key(step)
    if not base:
        return part[1:] if part.startswith(".") else part
    return base + part


def _json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def json_paths(old: Any, new: Any, path: str = "") -> Iterator[tuple[str, str, Any, Any]]:
    """``(op, path, old, new)`` for every difference of two JSON values, ``op`` one of ``+``
    (only in ``new``), ``-`` (only in ``old``) and ``~`` (changed), in key order. A list of
    plain values is compared whole; a list of objects item by item."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            sub = _join(path, k)
            if k not in old:
                yield "+", sub, None, new[k]
            elif k not in new:
                yield "-", sub, old[k], None
            else:
                yield from json_paths(old[k], new[k], sub)
        return
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and not (all(map(_scalar, old)) and all(map(_scalar, new)))
    ):
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(old):
                yield "+", sub, None, new[i]
            elif i >= len(new):
                yield "-", sub, old[i], None
            else:
                yield from json_paths(old[i], new[i], sub)
        return
    if old != new or type(old) is not type(new):
        yield "~", path, old, new


def _limit(lines: list[str]) -> str:
    if len(lines) > MAX_DIFF_LINES:
        rest = len(lines) - (MAX_DIFF_LINES - 1)
        lines = [*lines[: MAX_DIFF_LINES - 1], f"… {plural(rest, 'more line')}"]
    return "\n".join(lines)


def schema_diff(old: Any, new: Any) -> tuple[str, list[str]]:
    """The field diff of two JSON values (one line per changed path) and the changed paths."""
    lines, paths = [], []
    for op, path, a, b in json_paths(old, new):
        shown = path or "(whole)"
        paths.append(path)
        if op == "+":
            lines.append(f"+ {shown}: {_json(b)}")
        elif op == "-":
            lines.append(f"- {shown}: {_json(a)}")
        else:
            lines.append(f"~ {shown}: {_json(a)} -> {_json(b)}")
    return _limit(lines), paths


def text_diff(old: str | None, new: str | None) -> str:
    """A unified diff of two texts (``pinned`` against ``live``), escaped, at most
    :data:`MAX_DIFF_LINES` lines."""
    a = [escape(line) for line in (old or "").splitlines()]
    b = [escape(line) for line in (new or "").splitlines()]
    lines = []
    for line in difflib.unified_diff(a, b, "pinned", "live", n=1, lineterm=""):
        lines.append(line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…")
    return _limit(lines)


def _common(paths: list[str]) -> str:
    """The longest dotted prefix the paths share (whole steps only)."""
    if not paths:
        return ""
    split = [re.findall(r"\[[^\]]*\]|[^.\[]+", p) for p in paths]
    out: list[str] = []
    for steps in zip(*split, strict=False):
        if any(s != steps[0] for s in steps):
            break
        out.append(steps[0])
    text = ""
    for step in out:
        text += step if step.startswith("[") or not text else "." + step
    return text


def _at(base: str, sub: str) -> str:
    if not sub:
        return base
    return base + (sub if sub.startswith("[") else "." + sub)


def _by(items: Any, field: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        if isinstance(item, dict) and item.get(field) is not None:
            out[str(item[field])] = item
    return out


def _whole(kind: str, where: str, old: Any, new: Any, message: str) -> ManifestChange:
    """An added or removed item: its fields in manifest order (unset ones left out)."""
    op, item = ("+", new) if old is None else ("-", old)
    lines = [f"{op} {_join('', k)}: {_json(v)}" for k, v in item.items() if v is not None]
    return ManifestChange(kind, where, old, new, message, _limit(lines))


def _named(label: str, name: str) -> str:
    return f"{label} {escape(name)!r}"


def _tools(pinned: Any, live: Any) -> Iterator[ManifestChange]:
    old, new = _by(pinned, "name"), _by(live, "name")
    for name in sorted(set(old) | set(new)):
        base, who = _join("tools", name), _named("tool", name)
        if name not in new:
            yield _whole(
                "tool-removed",
                base,
                old[name],
                None,
                f"{who} was removed: the release pinned it, the server no longer lists it",
            )
            continue
        if name not in old:
            yield _whole(
                "tool-added",
                base,
                None,
                new[name],
                f"{who} was added: the server lists it, the release did not pin it",
            )
            continue
        a, b = old[name], new[name]
        for field, kind, what in _TOOL_FIELDS:
            va, vb = a.get(field), b.get(field)
            if va == vb:
                continue
            where = _join(base, field)
            if field == "description":
                yield ManifestChange(kind, where, va, vb, f"{who}: {what}", text_diff(va, vb))
                continue
            diff, paths = schema_diff(va, vb)
            common = _common(paths)
            where = _at(where, common)
            at = f" at {common}" if common else ""
            yield ManifestChange(kind, where, va, vb, f"{who}: {what}{at}", diff)


def _others(label: str, field: str, root: str, pinned: Any, live: Any) -> Iterator[ManifestChange]:
    old, new = _by(pinned, field), _by(live, field)
    for name in sorted(set(old) | set(new)):
        base, who = _join(root, name), _named(label, name)
        if name not in new:
            yield _whole(
                f"{label}-removed",
                base,
                old[name],
                None,
                f"{who} was removed: the release pinned it, the server no longer lists it",
            )
        elif name not in old:
            yield _whole(
                f"{label}-added",
                base,
                None,
                new[name],
                f"{who} was added: the server lists it, the release did not pin it",
            )
        elif old[name] != new[name]:
            diff, paths = schema_diff(old[name], new[name])
            fields = sorted({re.split(r"[.\[]", p, maxsplit=1)[0] for p in paths if p})
            common = _common(paths)
            yield ManifestChange(
                f"{label}-changed",
                _at(base, common),
                old[name],
                new[name],
                f"{who} changed ({', '.join(fields)})",
                diff,
            )


def _server(pinned: Mapping[str, Any], live: Mapping[str, Any]) -> Iterator[ManifestChange]:
    a, b = pinned.get("server") or {}, live.get("server") or {}
    for field, kind in (("name", "server-name-changed"), ("version", "server-version-changed")):
        va, vb = a.get(field), b.get(field)
        if va != vb:
            yield ManifestChange(
                kind,
                f"server.{field}",
                va,
                vb,
                f"the server's {field} changed from {_show(va)} to {_show(vb)}",
                f"~ server.{field}: {_json(va)} -> {_json(vb)}",
            )
    va, vb = pinned.get("protocol_version"), live.get("protocol_version")
    if va != vb:
        yield ManifestChange(
            "protocol-version-changed",
            "protocol_version",
            va,
            vb,
            f"the protocol version changed from {_show(va)} to {_show(vb)}",
            f"~ protocol_version: {_json(va)} -> {_json(vb)}",
        )


def _show(value: Any) -> str:
    return "(none)" if value is None else escape(str(value))


def diff_manifests(pinned: Mapping[str, Any], live: Mapping[str, Any]) -> list[ManifestChange]:
    """Every difference between the ``pinned`` manifest and the ``live`` one, in a fixed order
    (empty when they are the same). A release's ``{"digest", "manifest"}`` entry is read as its
    manifest."""
    a, b = manifest_of(pinned) or {}, manifest_of(live) or {}
    return [
        *_server(a, b),
        *_tools(a.get("tools"), b.get("tools")),
        *_others("prompt", "name", "prompts", a.get("prompts"), b.get("prompts")),
        *_others("resource", "uri", "resources", a.get("resources"), b.get("resources")),
    ]


def summary(changes: list[ManifestChange], first: int = 3) -> str:
    """``manifest changed since the release: N changes`` and the first messages."""
    if not changes:
        return ""
    head = f"manifest changed since the release: {plural(len(changes), 'change')}"
    shown = "; ".join(c.message for c in changes[:first])
    more = f"; … {len(changes) - first} more" if len(changes) > first else ""
    return f"{head}: {shown}{more}"
