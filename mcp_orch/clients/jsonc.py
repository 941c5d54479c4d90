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

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')


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


class _Parser:
    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.i = 0

    def error(self, message: str, at: int | None = None) -> ParseError:
        pos = self.i if at is None else at
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return ParseError(
            f"{self.name} does not parse: {message} at line {line}, column {col}",
            "fix the file by hand (it was left untouched) and try again",
        )

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c in " \t\r\n\ufeff":
                self.i += 1
            elif text.startswith("//", self.i):
                end = text.find("\n", self.i)
                self.i = n if end < 0 else end + 1
            elif text.startswith("/*", self.i):
                end = text.find("*/", self.i + 2)
                if end < 0:
                    raise self.error("unterminated comment")
                self.i = end + 2
            else:
                return

    def value(self) -> Node:
        self.skip()
        if self.i >= len(self.text):
            raise self.error("unexpected end of file")
        c = self.text[self.i]
        if c == "{":
            return self.obj()
        if c == "[":
            return self.arr()
        if c == '"':
            return self.string()
        m = _NUMBER.match(self.text, self.i)
        if m:
            self.i = m.end()
            return Node("number", m.start(), m.end(), value=json.loads(m.group(0)))
        for word, val in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(word, self.i):
                start, self.i = self.i, self.i + len(word)
                return Node("literal", start, self.i, value=val)
        raise self.error(f"unexpected character {c!r}")

    def string(self) -> Node:
        m = _STRING.match(self.text, self.i)
        if not m:
            raise self.error("bad string")
        self.i = m.end()
        return Node("string", m.start(), m.end(), value=json.loads(m.group(0)))

    def obj(self) -> Node:
        node = Node("object", self.i, self.i)
        self.i += 1
        while True:
            self.skip()
            if self.i >= len(self.text):
                raise self.error("unterminated object", node.start)
            if self.text[self.i] == "}":
                self.i += 1
                node.end = self.i
                return node
            if self.text[self.i] != '"':
                raise self.error("expected a quoted key")
            key = self.string()
            self.skip()
            if self.i >= len(self.text) or self.text[self.i] != ":":
                raise self.error("expected ':'")
            self.i += 1
            member = Member(key.value, key.start, self.value())
            node.members.append(member)
            self.skip()
            if self.i < len(self.text) and self.text[self.i] == ",":
                member.comma = self.i
                self.i += 1
            elif self.i < len(self.text) and self.text[self.i] != "}":
                raise self.error("expected ',' or '}'")

    def arr(self) -> Node:
        node = Node("array", self.i, self.i)
        self.i += 1
        while True:
            self.skip()
            if self.i >= len(self.text):
                raise self.error("unterminated array", node.start)
            if self.text[self.i] == "]":
                self.i += 1
                node.end = self.i
                return node
            node.items.append(self.value())
            self.skip()
            if self.i < len(self.text) and self.text[self.i] == ",":
                self.i += 1
            elif self.i < len(self.text) and self.text[self.i] != "]":
                raise self.error("expected ',' or ']'")


def parse(text: str, name: str = "the file") -> Node:
    p = _Parser(text, name)
    node = p.value()
    p.skip()
    if p.i != len(text):
        raise p.error("unexpected content after the end")
    return node


def loads(text: str, name: str = "the file") -> Any:
    """Parse JSONC text into Python values. An empty text is an empty object."""
    if not text.strip():
        return {}
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
    return text[: obj.start] + "{" + body + "\n" + outer + "}" + text[obj.end :]
