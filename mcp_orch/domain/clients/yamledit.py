"""YAML client files edited as text: only the managed entries' own lines change.

    >>> from mcp_orch.domain.clients.yamledit import splice
    >>> splice(text, ("extensions",), {"github": {"name": "github", "cmd": "npx"}}, "map", None)

The file is parsed with ruamel.yaml's event parser only to find where things are (the start and
end index of every node); the new text is the old one with the bytes of the changed entries cut
out or replaced and the new entries inserted, rendered by ruamel in the file's own indentation
(block style), or as JSON in a flow collection. Everything else (comments, including one on the
line after a managed entry, which is about what follows it; blank lines; ``null`` and ``~``;
anchors and aliases; ``%YAML`` directives; ``---`` and ``...``; quoting; ``yes`` under YAML 1.1)
stays byte for byte. An entry's bytes are its first line (the key, or the ``-`` of a list item)
through the end of the line holding its last value, so a comment on that line goes with it.

:func:`splice` returns ``None`` for a shape it does not edit (a list item whose ``-`` is alone on
its line, a key that is not the first thing on its line, a document that is only a scalar with a
``...`` marker): the caller then falls back to a round trip, and checks every result by parsing
it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

_NULLS = ("", "null", "Null", "NULL", "~")


@dataclass
class Node:
    """One node of the document: its kind, where it starts and ends, and its children (a
    mapping's are key, value, key, value, ...)."""

    kind: str  # "map", "seq", "scalar", "alias"
    start: int
    end: int = -1
    flow: bool = False
    value: str | None = None
    style: str | None = None
    children: list[Node] = field(default_factory=list)

    def pairs(self) -> list[tuple[Node, Node]]:
        return list(zip(self.children[0::2], self.children[1::2], strict=True))

    def is_null(self) -> bool:
        return self.kind == "scalar" and not self.style and (self.value or "") in _NULLS


def parse(text: str) -> tuple[Node | None, bool]:
    """The root node of a one-document text (``None`` when it has none) and whether the
    document says ``%YAML 1.1``. The text must already have been loaded (and so checked)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        DocumentStartEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceStartEvent,
    )

    root: Node | None = None
    v11 = False
    stack: list[Node] = []

    def attach(node: Node) -> None:
        nonlocal root
        if stack:
            stack[-1].children.append(node)
        elif root is None:
            root = node

    for ev in YAML().parse(text):
        if isinstance(ev, DocumentStartEvent):
            v11 = v11 or tuple(getattr(ev, "version", None) or ()) == (1, 1)
        elif isinstance(ev, MappingStartEvent | SequenceStartEvent):
            kind = "map" if isinstance(ev, MappingStartEvent) else "seq"
            node = Node(kind, ev.start_mark.index, flow=bool(ev.flow_style))
            attach(node)
            stack.append(node)
        elif isinstance(ev, CollectionEndEvent):
            stack.pop().end = ev.end_mark.index
        elif isinstance(ev, ScalarEvent):
            attach(
                Node(
                    "scalar", ev.start_mark.index, ev.end_mark.index, value=ev.value, style=ev.style
                )
            )
        elif isinstance(ev, AliasEvent):
            attach(Node("alias", ev.start_mark.index, ev.end_mark.index))
    return root, v11


# ---- positions ------------------------------------------------------------------------------


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _eol(text: str, pos: int) -> int:
    """Just past the newline that ends the line holding ``pos`` (the end of the text if none)."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


def _col(text: str, pos: int) -> int:
    return pos - _line_start(text, pos)


def _settle(text: str, pos: int) -> int:
    """The end of an entry whose last value ends at ``pos``: the end of that line (with its
    comment), or ``pos``'s line start when only spaces precede it (after a block scalar)."""
    ls = _line_start(text, pos)
    if not text[ls:pos].strip():
        return ls
    return _eol(text, pos)


def _colon(text: str, key: Node) -> int | None:
    """Where the ``:`` after a key is."""
    i = key.end
    while i < len(text) and text[i] in " \t":
        i += 1
    return i if i < len(text) and text[i] == ":" else None


def _value_end(text: str, key: Node, value: Node) -> int | None:
    if value.kind == "scalar" and value.start == value.end and not value.value:
        colon = _colon(text, key)
        return None if colon is None else colon + 1
    return _content_end(text, value)


def _content_end(text: str, node: Node) -> int | None:
    """Where the last character of ``node``'s content is (before any later comment)."""
    if node.kind == "map" and not node.flow and node.children:
        return _value_end(text, node.children[-2], node.children[-1])
    if node.kind == "seq" and not node.flow and node.children:
        return _content_end(text, node.children[-1])
    return node.end


def _dash(text: str, item: Node) -> int | None:
    """The position of the ``-`` of a block list item, when it starts the item's line."""
    ls = _line_start(text, item.start)
    before = text[ls : item.start].rstrip(" \t")
    if before.endswith("-") and not before[:-1].strip():
        return ls + len(before) - 1
    return None


def _style(text: str, root: Node) -> tuple[int, int]:
    """(mapping indent, list dash offset) the file uses; 2 and 2 when it shows neither."""
    units: list[int] = []
    dashes: list[int] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.kind == "map" and not node.flow:
            for k, v in node.pairs():
                if v.flow or not v.children:
                    continue
                if v.kind == "map":
                    units.append(_col(text, v.start) - _col(text, k.start))
                elif v.kind == "seq":
                    d = _dash(text, v.children[0])
                    if d is not None:
                        dashes.append(_col(text, d) - _col(text, k.start))
        stack.extend(node.children)
    unit = next((u for u in units if u > 0), 2)
    dash = next((d for d in dashes if d >= 0), 2)
    return unit, dash


# ---- rendering ------------------------------------------------------------------------------


def _dump(value: Any, unit: int, dash: int, v11: bool) -> list[str]:
    from ruamel.yaml import YAML

    y = YAML()
    y.indent(mapping=unit, sequence=dash + 2, offset=dash)
    y.width = 4096
    if v11:  # quote what YAML 1.1 would read as something else (yes, on, 010, ...)
        y.version = (1, 1)
    buf = io.StringIO()
    y.dump(value, buf)
    lines = buf.getvalue().splitlines(keepends=True)
    if v11:
        while lines and (lines[0].startswith("%") or lines[0].rstrip() == "---"):
            lines.pop(0)
    return lines


def _indented(lines: list[str], shift: int) -> str:
    if shift >= 0:
        return "".join(" " * shift + ln if ln.strip() else ln for ln in lines)
    return "".join(ln[-shift:] if ln[:-shift].strip() == "" else ln for ln in lines)


def _map_entry(key: str, value: Any, col: int, unit: int, dash: int, v11: bool) -> str:
    return _indented(_dump({key: value}, unit, dash, v11), col)


def _list_item(item: Any, dash_col: int, unit: int, dash: int, v11: bool) -> str:
    lines = _dump({"k": [item]}, unit, dash, v11)[1:]
    return _indented(lines, dash_col - dash)


def _flow(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---- the edit -------------------------------------------------------------------------------

Edit = tuple[int, int, str]


def splice(
    text: str,
    path: tuple[str, ...],
    changes: dict[str, Any],
    layout: str,
    name_field: str | None,
) -> str | None:
    """``text`` with the entries named in ``changes`` set (to the given entry: for a list
    layout the whole item, name field included) or removed (``None``), or ``None`` when this
    shape of file is not edited as text (see the module docstring)."""
    root, v11 = parse(text)
    if root is None or root.is_null():
        if text.rstrip().endswith("...") or (root is not None and root.end > root.start):
            return None
        adds = {k: v for k, v in changes.items() if v is not None}
        if not adds:
            return text
        value: Any = list(adds.values()) if layout == "list" else adds
        for key in reversed(path):
            value = {key: value}
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + "".join(_dump(value, 2, 2, v11))
    if root.kind != "map":
        return None
    unit, dash = _style(text, root)
    node = root
    edits: list[Edit] = []
    for depth, key in enumerate(path):
        found = None
        for k, v in node.pairs():
            if k.kind == "scalar" and k.value == key:
                found = (k, v)
        if found is None:
            adds = {n: v for n, v in changes.items() if v is not None}
            if not adds:
                return text
            value = list(adds.values()) if layout == "list" else adds
            for k2 in reversed(path[depth + 1 :]):
                value = {k2: value}
            edit = _insert_key(text, node, key, value, unit, dash, v11)
            if edit is None:
                return None
            edits.append(edit)
            return _applied(text, edits)
        k, v = found
        if depth < len(path) - 1:
            if v.kind != "map" or not v.children:
                return None
            node = v
            continue
        result = _edit_servers(text, k, v, changes, layout, name_field, unit, dash, v11)
        if result is None:
            return None
        edits += result
    return _applied(text, edits)


def _applied(text: str, edits: list[Edit]) -> str:
    out = text
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + new + out[end:]
    return out


def _insert_key(
    text: str, node: Node, key: str, value: Any, unit: int, dash: int, v11: bool
) -> Edit | None:
    """Add ``key: value`` as the last entry of the mapping ``node``."""
    if node.flow:
        close = node.end - 1
        body = f"{_flow(key)}: {_flow(value)}"
        if node.children:
            last = node.children[-1].end
            return (last, last, ", " + body)
        return (close, close, body)
    end = _content_end(text, node)
    if end is None:
        return None
    at = _settle(text, end)
    block = _map_entry(key, value, _col(text, node.start), unit, dash, v11)
    if at == len(text) and text and not text.endswith("\n"):
        block = "\n" + block
    return (at, at, block)


def _edit_servers(
    text: str,
    key: Node,
    node: Node,
    changes: dict[str, Any],
    layout: str,
    name_field: str | None,
    unit: int,
    dash: int,
    v11: bool,
) -> list[Edit] | None:
    # the entries of the servers section: (name, whole entry node, value node to replace)
    entries: list[tuple[str, Node, Node | None, Node]] = []  # name, key node, value/item
    if node.is_null():
        pass
    elif layout == "list" and node.kind == "seq":
        field_name = name_field or "name"
        for item in node.children:
            name = None
            if item.kind == "map":
                for k, v in item.pairs():
                    if k.value == field_name and v.kind == "scalar":
                        name = v.value
                        break
            entries.append((name or "", item, None, item))
    elif layout == "map" and node.kind == "map":
        for k, v in node.pairs():
            entries.append((k.value or "", k, k, v))
    else:
        return None
    index: dict[str, int] = {}
    for i, (name, *_rest) in enumerate(entries):
        index.setdefault(name, i)
    removed: set[int] = set()
    replaced: dict[int, Any] = {}
    adds: dict[str, Any] = {}
    for name, value in changes.items():
        at = index.get(name)
        if at is None:
            if value is not None:
                adds[name] = value
        elif value is None:
            removed.add(at)
        else:
            replaced[at] = value
    if not (removed or replaced or adds):
        return []
    if node.is_null() or (node.flow and not node.children):
        return _fill_empty(text, key, node, adds, layout, unit, dash, v11)
    if node.flow:
        return _edit_flow(text, node, entries, removed, replaced, adds, layout)
    return _edit_block(text, key, node, entries, removed, replaced, adds, layout, unit, dash, v11)


def _fill_empty(
    text: str,
    key: Node,
    node: Node,
    adds: dict[str, Any],
    layout: str,
    unit: int,
    dash: int,
    v11: bool,
) -> list[Edit] | None:
    """Entries into an empty section (``key:``, ``key: null``, ``key: {}``, ``key: []``)."""
    if not adds:
        return []
    colon = _colon(text, key)
    if colon is None:
        return None
    edits: list[Edit] = []
    if node.end > node.start:  # `null`, `~`, `{}`, `[]`: the value goes, the line stays
        if "\n" in text[colon : node.end]:
            return None
        edits.append((colon + 1, node.end, ""))
        at = _eol(text, node.end)
    else:
        at = _eol(text, colon)
    col = _col(text, key.start)
    if layout == "list":
        block = "".join(_list_item(v, col + dash, unit, dash, v11) for v in adds.values())
    else:
        block = "".join(_map_entry(k, v, col + unit, unit, dash, v11) for k, v in adds.items())
    if at == len(text) and not text.endswith("\n"):
        block = "\n" + block
    edits.append((at, at, block))
    return edits


def _edit_flow(
    text: str,
    node: Node,
    entries: list[tuple[str, Node, Node | None, Node]],
    removed: set[int],
    replaced: dict[int, Any],
    adds: dict[str, Any],
    layout: str,
) -> list[Edit]:
    edits: list[Edit] = []
    starts = [e[1].start for e in entries]
    ends = [e[3].end for e in entries]
    for i, value in replaced.items():
        item = entries[i][3]
        edits.append((item.start, item.end, _flow(value)))
    runs: list[list[int]] = []
    for i in sorted(removed):
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    n = len(entries)
    for run in runs:
        first, last = run[0], run[-1]
        if first > 0:
            edits.append((ends[first - 1], ends[last], ""))
        elif last < n - 1:
            edits.append((starts[first], starts[last + 1], ""))
        else:
            edits.append((starts[first], ends[last], ""))
    if adds:
        kept = len(removed) < n
        body = ", ".join(
            _flow(v) if layout == "list" else f"{_flow(k)}: {_flow(v)}" for k, v in adds.items()
        )
        edits.append((ends[-1], ends[-1], (", " if kept else "") + body))
    return edits


def _edit_block(
    text: str,
    key: Node,
    node: Node,
    entries: list[tuple[str, Node, Node | None, Node]],
    removed: set[int],
    replaced: dict[int, Any],
    adds: dict[str, Any],
    layout: str,
    unit: int,
    dash: int,
    v11: bool,
) -> list[Edit] | None:
    spans: list[tuple[int, int]] = []
    for _name, first, k, value in entries:
        if layout == "list":
            start = _dash(text, first)
            if start is None:
                return None
            end = _content_end(text, value)
        else:
            start = first.start
            if text[_line_start(text, start) : start].strip():
                return None
            assert k is not None
            end = _value_end(text, k, value)
        if end is None:
            return None
        spans.append((_line_start(text, start), _settle(text, end)))
    col = _col(text, entries[0][1].start) if layout == "map" else None
    dash_col = _dash(text, entries[0][1]) if layout == "list" else None

    def render(name: str, value: Any) -> str:
        if layout == "list":
            assert dash_col is not None
            return _list_item(value, _col(text, dash_col), unit, dash, v11)
        assert col is not None
        return _map_entry(name, value, col, unit, dash, v11)

    edits: list[Edit] = []
    for i, value in replaced.items():
        start, end = spans[i]
        new = render(entries[i][0], value)
        if not text[start:end].endswith("\n"):
            new = new.rstrip("\n")
        edits.append((start, end, new))
    for i in removed:
        edits.append((*spans[i], ""))
    if adds:
        at = spans[-1][1]
        block = "".join(render(k, v) for k, v in adds.items())
        if at == len(text) and not text.endswith("\n"):
            block = "\n" + block
        edits.append((at, at, block))
    elif len(removed) == len(entries):  # the section stays, empty, so the file still parses
        colon = _colon(text, key)
        if colon is None:
            return None
        edits.append((colon + 1, colon + 1, " []" if layout == "list" else " {}"))
    return edits
