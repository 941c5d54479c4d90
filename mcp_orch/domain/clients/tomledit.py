"""TOML client files edited as text: only the managed tables' own lines change.

    >>> from mcp_orch.domain.clients.tomledit import splice
    >>> splice(text, ("mcp_servers",), {"github": "[mcp_servers.github]\\ncommand = ..."}, ...)

tomlkit keeps a file byte for byte when nothing changes, but it files the comments and blank
lines after a table under that table, so deleting or replacing a table deleted the comment
about the next one. Here the text is cut into tables at their header lines (a small lexer
skips strings, comments and multi-line arrays); a table's bytes are its header line through
its last line that is not blank or a comment (with one blank line before the header, the one
mcp-orch writes there); the comments and blank lines after it belong to what follows and stay.

:func:`splice` returns ``None`` for a shape it does not edit (servers written as dotted keys or
inline tables, a header it cannot read): the caller then falls back to tomlkit, and checks every
result by parsing it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')"""
_HEADER = re.compile(
    rf"(\[\[?)[ \t]*({_KEY}(?:[ \t]*\.[ \t]*{_KEY})*)[ \t]*(\]\]?)[ \t]*(?:#[^\n]*)?(?:\n|$)"
)
_PART = re.compile(rf"[ \t]*({_KEY})[ \t]*(?:\.|$)")


@dataclass
class Segment:
    """One ``[table]`` or ``[[array]]`` header and the lines up to the next header."""

    start: int  # the header line's start
    path: tuple[str, ...]
    array: bool
    content_end: int  # past the newline of its last line that is not blank or a comment
    end: int  # where the next header line starts (or the end of the text)


def _key_parts(raw: str) -> tuple[str, ...] | None:
    parts: list[str] = []
    pos = 0
    while pos < len(raw):
        m = _PART.match(raw, pos)
        if not m:
            return None
        key = m.group(1)
        if key.startswith('"'):
            try:
                key = json.loads(key)
            except ValueError:
                return None
        elif key.startswith("'"):
            key = key[1:-1]
        parts.append(key)
        pos = m.end()
    return tuple(parts)


def _eol(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


def _close(text: str, i: int, quote: str) -> int:
    """Past the end of the multi-line string whose body starts at ``i``; -1 if unclosed."""
    while True:
        j = text.find(quote, i)
        if j < 0:
            return -1
        if quote == '"""':
            k = j
            while k > 0 and text[k - 1] == "\\":
                k -= 1
            if (j - k) % 2:
                i = j + 1
                continue
        end = j + 3
        while end < len(text) and text[end] == quote[0] and end - j < 5:
            end += 1
        return end


def segments(text: str) -> tuple[int, list[Segment]] | None:
    """(where the content before the first header ends, the tables), or ``None`` when the
    text is not lexed here."""
    segs: list[Segment] = []
    n = len(text)
    i = 0
    depth = 0
    last = 0  # past the newline of the last line with content
    preamble_end: int | None = None
    at_line_start = True
    while i < n:
        c = text[i]
        if at_line_start:
            at_line_start = False
            j = i
            while j < n and text[j] in " \t\r":
                j += 1
            if depth == 0 and j < n and text[j] == "[":
                m = _HEADER.match(text, j)
                if not m or (m.group(1) == "[[") != (m.group(3) == "]]"):
                    return None
                path = _key_parts(m.group(2))
                if path is None:
                    return None
                if segs:
                    segs[-1].content_end = max(last, _eol(text, segs[-1].start))
                    segs[-1].end = i
                else:
                    preamble_end = last
                segs.append(Segment(i, path, m.group(1) == "[[", 0, n))
                i = m.end()
                last = i
                at_line_start = True
                continue
            i = j
            continue
        if c == "\n":
            at_line_start = True
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl
            continue
        if text.startswith('"""', i) or text.startswith("'''", i):
            end = _close(text, i + 3, text[i : i + 3])
            if end < 0:
                return None
            i = end
        elif c == '"':
            m = re.compile(r'"(?:[^"\\\n]|\\.)*"').match(text, i)
            if not m:
                return None
            i = m.end()
        elif c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return None
            i = end + 1
        else:
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth -= 1
            i += 1
        last = _eol(text, i - 1)
    if segs:
        segs[-1].content_end = max(last, _eol(text, segs[-1].start))
        segs[-1].end = n
    else:
        preamble_end = last
    assert preamble_end is not None
    return preamble_end, segs


def _line_before_blank(text: str, start: int) -> int:
    """``start``, or the start of the blank line just before it."""
    if start == 0:
        return start
    prev = text.rfind("\n", 0, start - 1) + 1
    return prev if not text[prev:start].strip() else start


def splice(
    text: str,
    path: tuple[str, ...],
    names: list[str | None] | None,
    changes: dict[str, str | None],
) -> str | None:
    """``text`` with the server tables named in ``changes`` replaced by the given TOML (a whole
    ``[path.name]`` or ``[[path]]`` table, ending in a newline) or removed (``None``). ``names``
    is ``None`` for ``[path.name]`` tables, and for an array of tables the name of each
    ``[[path]]`` element in file order. ``None`` when the text is not edited here."""
    lexed = segments(text)
    if lexed is None:
        return None
    _preamble_end, segs = lexed
    k = len(path)
    entries: dict[str, list[Segment]] = {}
    order: list[str] = []
    inside = [s for s in segs if s.path[:k] == path]
    if names is None:
        for s in inside:
            if s.array or len(s.path) == k:
                if s.content_end > _eol(text, s.start):  # dotted keys in [mcp_servers]
                    return None
                continue
            name = s.path[k]
            if name not in entries:
                order.append(name)
            entries.setdefault(name, []).append(s)
    else:
        current: str | None = None
        count = 0
        for s in inside:
            if s.path == path and s.array:
                if count >= len(names):
                    return None
                label = names[count] or f"\0{count}"
                count += 1
                if label in entries:  # a repeated name: only the first is edited
                    label = f"\0{count}"
                order.append(label)
                entries[label] = [s]
                current = label
            elif current is None or s.path == path:
                return None
            else:
                entries[current].append(s)
        if count != len(names):
            return None
    edits: list[tuple[int, int, str]] = []
    adds: list[str] = []
    for name, new in changes.items():
        found = entries.get(name)
        if found is None:
            if new is not None:
                adds.append(new)
            continue
        first, *rest = found
        if new is None:
            edits.append((_line_before_blank(text, first.start), first.content_end, ""))
        else:
            edits.append((first.start, first.content_end, new))
        for s in rest:
            edits.append((_line_before_blank(text, s.start), s.content_end, ""))
    if adds:
        at = max((s.content_end for s in inside), default=len(text))
        block = "".join("\n" + a for a in adds)
        kept, pos = [], 0  # the text above the insertion that stays
        for a, b, new in sorted(edits):
            if a >= at:
                break
            kept.append(text[pos:a] + new)
            pos = max(pos, b)
        kept.append(text[pos:at])
        if not "".join(kept).strip():  # nothing stays above the new tables: no blank line first
            block = block[1:]
        if at == len(text) and text and not text.endswith("\n"):
            block = "\n" + block
        edits.append((at, at, block))
    out = text
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + new + out[end:]
    return out
