"""JSON with comments and trailing commas: a parser that keeps positions, and minimal text edits.

    >>> from mcp_orch.clients.jsonc import loads, edit_map
    >>> text = '{\\n  // mine\\n  "servers": {"a": {"command": "x"}},\\n}\\n'
    >>> loads(text)
    {'servers': {'a': {'command': 'x'}}}
    >>> print(edit_map(text, ("servers",), {"b": {"command": "y"}}))

Edits splice only the bytes of the members that change (like VS Code's ``jsonc-parser``
``modify``): comments, trailing commas, key order and formatting elsewhere stay byte for byte.
Written here rather than taken from PyPI because the one round-tripping JSON5 library
(json-five) installs a module named ``json5`` that clashes with the ``json5`` package Jupyter
depends on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParseError


@dataclass
class Member:
    key: str
    start: int  # first char of the key
    value: Node
    comma: int | None = None  # position of the comma after the value, if any


@dataclass
class Node:
    kind: str  # object, array, string, number, literal
    start: int
    end: int  # one past the last char
    members: list[Member] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    value: Any = None

    def python(self) -> Any:
        if self.kind == "object":
            return {m.key: m.value.python() for m in self.members}
        if self.kind == "array":
            return [n.python() for n in self.items]
        return self.value

    def member(self, key: str) -> Member | None:
        found = None
        for m in self.members:
            if m.key == key:
                found = m  # the last one wins, as in JSON.parse
        return found


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\n\ufeff]+)
    |(?P<lc>//[^\n]*)
    |(?P<bc>/\*.*?\*/)
    |(?P<str>"(?:[^"\\\x00-\x1f]|\\.)*")
    |(?P<num>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<lit>true|false|null)
    |(?P<p>[{}\[\]:,])
    """,
    re.X | re.S,
)
_LITERALS = {"true": True, "false": False, "null": None}


class _Parser:
    """Recursive descent over tokens from one C-speed regex scan (files of thousands of
    servers parse in milliseconds)."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.tokens: list[tuple[str, int, int]] = []  # (kind, start, end); no space/comments
        pos = 0
        for m in _TOKEN.finditer(text):
            if m.start() != pos:
                break
            pos = m.end()
            kind = m.lastgroup or ""
            if kind not in ("ws", "lc", "bc"):
                self.tokens.append((kind, m.start(), pos))
        if pos != len(text):
            if text.startswith("/*", pos):
                raise self.error("unterminated comment", pos)
            ch = text[pos]
            raise self.error("bad string" if ch == '"' else f"unexpected character {ch!r}", pos)
        self.i = 0

    def error(self, message: str, at: int | None = None) -> ParseError:
        if at is None:
            at = self.tokens[self.i][1] if self.i < len(self.tokens) else len(self.text)
        line = self.text.count("\n", 0, at) + 1
        col = at - (self.text.rfind("\n", 0, at) + 1) + 1
        return ParseError(
            f"{self.name} does not parse: {message} at line {line}, column {col}",
            "fix the file by hand (it was left untouched) and try again",
        )

    def peek(self) -> tuple[str, int, int]:
        if self.i >= len(self.tokens):
            raise self.error("unexpected end of file")
        return self.tokens[self.i]

    def punct(self, token: tuple[str, int, int]) -> str:
        return self.text[token[1]] if token[0] == "p" else ""

    def value(self) -> Node:
        kind, start, end = tok = self.peek()
        if kind == "p":
            c = self.text[start]
            if c == "{":
                return self.obj()
            if c == "[":
                return self.arr()
            raise self.error(f"unexpected {c!r}")
        self.i += 1
        raw = self.text[start:end]
        if kind == "str":
            return Node("string", start, end, value=self.decode(raw, start))
        if kind == "num":
            return Node("number", start, end, value=json.loads(raw))
        assert tok
        return Node("literal", start, end, value=_LITERALS[raw])

    def decode(self, raw: str, at: int) -> str:
        if "\\" not in raw:
            return raw[1:-1]
        try:
            value: str = json.loads(raw)
        except json.JSONDecodeError:
            raise self.error("bad escape in string", at) from None
        return value

    def obj(self) -> Node:
        node = Node("object", self.tokens[self.i][1], 0)
        self.i += 1
        while True:
            tok = self.peek()
            if self.punct(tok) == "}":
                self.i += 1
                node.end = tok[2]
                return node
            if tok[0] != "str":
                raise self.error("expected a quoted key")
            self.i += 1
            key = self.decode(self.text[tok[1] : tok[2]], tok[1])
            if self.punct(self.peek()) != ":":
                raise self.error("expected ':'")
            self.i += 1
            member = Member(key, tok[1], self.value())
            node.members.append(member)
            nxt = self.peek()
            if self.punct(nxt) == ",":
                member.comma = nxt[1]
                self.i += 1
            elif self.punct(nxt) != "}":
                raise self.error("expected ',' or '}'")

    def arr(self) -> Node:
        node = Node("array", self.tokens[self.i][1], 0)
        self.i += 1
        while True:
            tok = self.peek()
            if self.punct(tok) == "]":
                self.i += 1
                node.end = tok[2]
                return node
            node.items.append(self.value())
            nxt = self.peek()
            if self.punct(nxt) == ",":
                self.i += 1
            elif self.punct(nxt) != "]":
                raise self.error("expected ',' or ']'")


def parse(text: str, name: str = "the file") -> Node:
    p = _Parser(text, name)
    node = p.value()
    if p.i != len(p.tokens):
        raise p.error("unexpected content after the end")
    return node


def loads(text: str, name: str = "the file") -> Any:
    """Parse JSONC text into Python values. An empty text is an empty object."""
    if not text.strip():
        return {}
    try:  # most files are plain JSON: let the C parser read them
        return json.loads(text)
    except ValueError:
        return parse(text, name).python()


# ---- edits ---------------------------------------------------------------------------------


def _indent_unit(text: str) -> str:
    m = re.search(r"\n([ \t]+)\S", text)
    if m and m.group(1).startswith("\t"):
        return "\t"
    return " " * (len(m.group(1)) if m and len(m.group(1)) <= 8 else 2)


def _line_indent(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    m = re.match(r"[ \t]*", text[start:pos])
    return m.group(0) if m else ""


def _dump(value: Any, indent: str, unit: str) -> str:
    raw = json.dumps(value, indent=unit if unit != "\t" else "\t", ensure_ascii=False)
    return raw.replace("\n", "\n" + indent)


def _is_inline(text: str, node: Node) -> bool:
    return "\n" not in text[node.start : node.end]


def edit_map(
    text: str,
    path: tuple[str, ...],
    changes: dict[str, Any | None],
    name: str = "the file",
) -> str:
    """Set (value) or delete (None) members of the object at ``path``; touch nothing else."""
    if not text.strip():
        base: dict[str, Any] = {}
        node_py = base
        for key in path:
            node_py = node_py.setdefault(key, {})
        node_py.update({k: v for k, v in changes.items() if v is not None})
        return json.dumps(base, indent=2, ensure_ascii=False) + "\n"
    root = parse(text, name)
    if root.kind != "object":
        raise ParseError(f"{name}: the top level is not an object", "fix the file by hand")
    unit = _indent_unit(text)
    node = root
    for depth, key in enumerate(path):
        member = node.member(key)
        if member is None:
            nested: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
            for k in reversed(path[depth + 1 :]):
                nested = {k: nested}
            if not nested and not changes:
                return text
            return _insert_members(text, node, {key: nested}, unit)
        if member.value.kind != "object":
            raise ParseError(
                f"{name}: {'.'.join(path[: depth + 1])} is not an object",
                "fix the file by hand (it was left untouched)",
            )
        node = member.value
    edits: list[tuple[int, int, str]] = []
    additions: dict[str, Any] = {}
    for key, value in changes.items():
        member = node.member(key)
        if member is None:
            if value is not None:
                additions[key] = value
        elif value is None:
            edits.append(_delete_member(text, node, member))
        else:
            indent = _line_indent(text, member.start)
            inline = _is_inline(text, node)
            dumped = json.dumps(value, ensure_ascii=False) if inline else _dump(value, indent, unit)
            edits.append((member.value.start, member.value.end, dumped))
    out = text
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + new + out[end:]
    if additions:
        node2 = parse(out, name)
        for key in path:
            member = node2.member(key)
            assert member is not None
            node2 = member.value
        out = _insert_members(out, node2, additions, unit)
    return out


def _delete_member(text: str, obj: Node, member: Member) -> tuple[int, int, str]:
    """The span to cut so that the member, its comma and its line (if alone on it) go."""
    idx = obj.members.index(member)
    start = member.start
    line_start = text.rfind("\n", 0, start) + 1
    whole_line = not text[line_start:start].strip()
    if member.comma is None:
        end = member.value.end
        prev_comma = obj.members[idx - 1].comma if idx > 0 else None
        if prev_comma is not None:  # last member: drop the comma before it instead
            return prev_comma, end, ""
    else:
        end = member.comma + 1
    if whole_line:
        start = line_start
        m = re.match(r"[ \t]*\r?\n", text[end:])
        if m:
            end += m.end()
    else:
        m = re.match(r"[ \t]*", text[end:])
        end += m.end() if m else 0
    return start, end, ""


def _insert_members(text: str, obj: Node, members: dict[str, Any], unit: str) -> str:
    if obj.members:
        last = obj.members[-1]
        indent = _line_indent(text, last.start)
        inline = _is_inline(text, obj)
        sep = " " if inline else "\n" + indent
        body = ",".join(
            f"{sep}{json.dumps(k, ensure_ascii=False)}: "
            + (json.dumps(v, ensure_ascii=False) if inline else _dump(v, indent, unit))
            for k, v in members.items()
        )
        if last.comma is not None:  # trailing-comma style: keep it
            pos = last.comma + 1
            return text[:pos] + body + "," + text[pos:]
        pos = last.value.end
        return text[:pos] + "," + body + text[pos:]
    outer = _line_indent(text, obj.start)
    indent = outer + unit
    body = ",".join(
        f"\n{indent}{json.dumps(k, ensure_ascii=False)}: {_dump(v, indent, unit)}"
        for k, v in members.items()
    )
    inner = text[obj.start + 1 : obj.end - 1]
    if inner.strip():  # comments inside the empty object stay, after the new members
        return (
            text[: obj.start + 1] + body + " " + inner.strip() + "\n" + outer + text[obj.end - 1 :]
        )
    return text[: obj.start] + "{" + body + "\n" + outer + "}" + text[obj.end :]
