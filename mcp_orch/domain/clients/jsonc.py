"""JSON with comments and trailing commas: a parser that keeps positions, and minimal text edits.

    >>> from mcp_orch.domain.clients.jsonc import loads, edit_map
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
from itertools import accumulate
from typing import Any

from mcp_orch.core.errors import ParseError
from mcp_orch.core.fs import MAX_DEPTH, too_deep

#: A comma, JSON white space and a closing bracket: a trailing comma (the match takes the
#: bracket, possessively: ~4x faster than a look-ahead tried at every comma of a big file).
_TRAILING = re.compile(r",[ \t\r\n]*+[}\]]")
_WS = re.compile(r"[ \t\r\n\ufeff]*")
_KINDS = {"{": "object", "[": "array", '"': "string"}
#: Where a comment may start (``//`` or ``/*``), and the end of a line comment.
_COMMENT_START = re.compile(r"/[/*]")
#: Plain text and whole strings of one line, up to a position: when it reaches the position,
#: the position is outside every string (a JSON string never spans lines).
_OUTSIDE = re.compile(r'(?:[^"\n]++|"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+")*+')
_NOT_NEWLINE = re.compile(r"[^\n]")
#: A member's key with no escape (nor control character: the decoder refuses those) up to its
#: value, and what follows a value up to the next member: the fast steps of ``object_at``.
#: (White space as the decoder reads it: no byte order mark inside a value.)
_PLAIN_KEY = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\r\n]*:[ \t\r\n]*')
_SEPARATOR = re.compile(r"[ \t\r\n]*(?:(,)[ \t\r\n]*)?")
_JSON_WS = re.compile(r"[ \t\r\n]*")


def _outside(text: str, start: int, pos: int) -> int:
    """``pos`` when it is outside a string (scanning from ``start``, outside one), else where
    the string that holds it starts."""
    m = _OUTSIDE.match(text, start, pos)
    return m.end() if m else start


def _blanked(text: str) -> tuple[str, str]:
    """(comments blanked, comments and trailing commas blanked), both as long as ``text``.

    Candidates are found by C-speed searches (``//``, ``/*``; a comma before a closing
    bracket) and each is checked against its own line only: a JSON string never spans lines,
    so a line's start is outside every string (unless a block comment covers it, which the
    scan skips). The cost grows with the comments and trailing commas, not with the strings."""
    pieces: list[str] = []
    last = 0
    pos = 0 if "/" in text else len(text)
    while True:
        m = _COMMENT_START.search(text, pos)
        if m is None:
            break
        at = m.start()
        start = max(last, text.rfind("\n", 0, at) + 1)
        inside = _outside(text, start, at)
        if inside != at:  # in a string: go on after it
            s = _STRING.match(text, inside)
            pos = s.end() if s is not None and s.end() > at else at + 1
            continue
        if text[at + 1] == "/":
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
        else:
            close = text.find("*/", at + 2)
            if close < 0:  # unterminated: the decoder reports it
                pos = at + 1
                continue
            end = close + 2
        blank = " " * (end - at) if text[at + 1] == "/" else _NOT_NEWLINE.sub(" ", text[at:end])
        pieces += (text[last:at], blank)
        last = pos = end
    bc = "".join([*pieces, text[last:]]) if pieces else text
    commas = []
    for m in _TRAILING.finditer(bc):
        at = m.start()
        start = bc.rfind("\n", 0, at) + 1
        if _outside(bc, start, at) != at:  # inside a string
            continue
        j = at - 1
        while j >= 0 and bc[j].isspace():
            j -= 1
        if j >= 0 and bc[j] not in "{[:,":  # otherwise it is an error, not trailing
            commas.append(at)
    if not commas:
        return bc, bc
    out: list[str] = []
    prev = 0
    for at in commas:
        out += (bc[prev:at], " ")
        prev = at + 1
    out.append(bc[prev:])
    return bc, "".join(out)


_STRING = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')  # unrolled: ~2x faster on big files
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACKET_OR_STRING = re.compile(r'[\[\]{}]|"(?:[^"\\\n]|\\.)*"')
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_BYTE_STEP = {ord(k): v for k, v in _STEP.items()}
_NOT_BRACKET_BYTES = bytes(b for b in range(256) if b not in _BYTE_STEP)


def deepest_at(text: str, limit: int = MAX_DEPTH) -> int | None:
    """Where the objects and arrays of a JSON text (comments blanked) first nest deeper than
    ``limit`` levels, or ``None``. Counted on the text, without recursion and before any
    decoding, so a hostile file cannot exhaust the stack (the C decoder recurses)."""
    if text.count("[") + text.count("{") <= limit:  # cannot nest that deep (the usual case)
        return None
    # an upper bound first, at C speed: the brackets inside strings count too
    raw = text.encode("utf-8", "surrogatepass").translate(None, _NOT_BRACKET_BYTES)
    if max(accumulate(map(_BYTE_STEP.__getitem__, raw)), default=0) <= limit:
        return None
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= limit:
        return None
    depth = 0  # deeper than the limit somewhere: find where, for the message
    for m in _BRACKET_OR_STRING.finditer(text):
        step = _STEP.get(m.group(0), 0)
        depth += step
        if depth > limit:
            return m.start()
    return None


class _Doc:
    """A JSONC text with its comments (and trailing commas) blanked out, byte for byte, so
    positions in the blanked text are positions in the original and the C JSON decoder can
    read it."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name
        self.bc, self.ba = _blanked(text)
        self.decoder = json.JSONDecoder(parse_constant=self._constant)

    def _constant(self, name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    def where(self, at: int) -> str:
        line = self.text.count("\n", 0, at) + 1
        col = at - (self.text.rfind("\n", 0, at) + 1) + 1
        return f"line {line}, column {col}"

    def error(self, message: str, at: int) -> ParseError:
        return ParseError(
            f"{self.name} does not parse: {message} at {self.where(at)}",
            "fix the file by hand (it was left untouched) and try again",
        )

    def skip(self, i: int) -> int:
        m = _WS.match(self.bc, i)
        return m.end() if m else i

    def value_at(self, i: int) -> Node:
        if i >= len(self.ba):
            raise self.error("unexpected end of file", i)
        if self.text.startswith("/*", i):
            raise self.error("unterminated comment", i)
        try:
            value, end = self.decoder.raw_decode(self.ba, i)
        except json.JSONDecodeError as exc:
            raise self.error(exc.msg.lower(), exc.pos) from None
        except RecursionError:  # the depth is checked first (parse); this is a last resort
            raise too_deep(self.name) from None
        except ValueError as exc:  # NaN / Infinity
            raise self.error(str(exc), i) from None
        c = self.ba[i]
        kind = _KINDS.get(c) or ("literal" if c in "tfn" else "number")
        return Node(kind, i, end, value=value, doc=self)

    def object_at(self, i: int, path: tuple[str, ...]) -> Node | None:
        """The object at ``i`` decoded member by member, so its members' positions come with
        their values (each value decoded once), and likewise the object member named
        ``path[0]``, down ``path``. ``None`` when the text there is anything but a valid
        object: :meth:`value_at` then decodes it, and names the error."""
        bc, ba = self.bc, self.ba
        scan: Any = self.decoder.scan_once  # type: ignore[attr-defined]  # the C scanner
        ws: Any = _JSON_WS.match  # always matches (zero or more white space)
        key_at: Any = _PLAIN_KEY.match
        sep: Any = _SEPARATOR.match
        members: list[Member] = []
        data: dict[str, Any] = {}
        try:
            if ba[i] != "{":
                return None
            j = ws(bc, i + 1).end()
            while bc[j] != "}":
                m = key_at(bc, j)  # a key without escapes, its colon and the white space
                if m is not None:
                    key, v = m.group(1), m.end()
                else:
                    if ba[j] != '"':
                        return None
                    key, k = scan(ba, j)
                    k = ws(bc, k).end()
                    if bc[k] != ":":
                        return None
                    v = ws(bc, k + 1).end()
                node = self.object_at(v, path[1:]) if path and key == path[0] else None
                if node is None:
                    value, e = scan(ba, v)
                    c = ba[v]
                    kind = _KINDS.get(c) or ("literal" if c in "tfn" else "number")
                    node = Node(kind, v, e, value=value, doc=self)
                member = Member(key, j, node)
                members.append(member)
                data[key] = node.value  # the last one wins, as in the decoder
                m = sep(bc, node.end)
                j = m.end()
                if m.start(1) >= 0:
                    member.comma = m.start(1)
                elif bc[j] != "}":
                    return None
        except (StopIteration, ValueError, IndexError, RecursionError):
            return None  # the decoder says what is wrong
        node = Node("object", i, j + 1, value=data, doc=self)
        node._members = members
        return node


class Member:
    __slots__ = ("comma", "key", "start", "value")

    def __init__(self, key: str, start: int, value: Node, comma: int | None = None) -> None:
        self.key = key
        self.start = start  # first char of the key
        self.value = value
        self.comma = comma  # position of the comma after the value, if any


class Node:
    """A parsed value with its span; an object's members are found only when asked for."""

    __slots__ = ("_items", "_members", "doc", "end", "kind", "start", "value")

    def __init__(self, kind: str, start: int, end: int, value: Any = None, doc: _Doc | None = None):
        self.kind = kind  # object, array, string, number, literal
        self.start = start
        self.end = end  # one past the last char
        self.value = value
        self.doc = doc
        self._members: list[Member] | None = None
        self._items: list[Node] | None = None

    def python(self) -> Any:
        return self.value

    @property
    def members(self) -> list[Member]:
        if self._members is None:
            self._members = self._scan_members() if self.kind == "object" else []
        return self._members

    @property
    def items(self) -> list[Node]:
        if self._items is None:
            self._items = self._scan_items() if self.kind == "array" else []
        return self._items

    def _scan_members(self) -> list[Member]:
        doc = self.doc
        assert doc is not None
        out: list[Member] = []
        i = doc.skip(self.start + 1)
        while doc.bc[i] != "}":
            key = doc.value_at(i)
            i = doc.skip(key.end)
            i = doc.skip(i + 1)  # past ':' (the decoder already checked the syntax)
            value = doc.value_at(i)
            member = Member(key.value, key.start, value)
            out.append(member)
            i = doc.skip(value.end)
            if doc.bc[i] == ",":
                member.comma = i
                i = doc.skip(i + 1)
        return out

    def _scan_items(self) -> list[Node]:
        doc = self.doc
        assert doc is not None
        out: list[Node] = []
        i = doc.skip(self.start + 1)
        while doc.bc[i] != "]":
            item = doc.value_at(i)
            out.append(item)
            i = doc.skip(item.end)
            if doc.bc[i] == ",":
                i = doc.skip(i + 1)
        return out

    def member(self, key: str) -> Member | None:
        found = None
        for m in self.members:
            if m.key == key:
                found = m  # the last one wins, as in JSON.parse
        return found


def parse(text: str, name: str = "the file", path: tuple[str, ...] = ()) -> Node:
    """Parse JSONC text; values are decoded by the C JSON decoder, positions kept. With
    ``path`` (the keys to the servers section), the members of the top-level object and of
    each object along ``path`` are found as they are decoded, so an edit there needs no
    second pass over the file."""
    doc = _Doc(text, name)
    at = deepest_at(doc.ba)
    if at is not None:
        raise too_deep(name, where=f" at {doc.where(at)}")
    i = doc.skip(0)
    node = (doc.object_at(i, path) if path and i < len(text) else None) or doc.value_at(i)
    rest = doc.skip(node.end)
    if rest != len(text):
        if text.startswith("/*", rest):
            raise doc.error("unterminated comment", rest)
        raise doc.error("unexpected content after the end", rest)
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
    *,
    root: Node | None = None,
) -> str:
    """Set (value) or delete (None) members of the object at ``path``; touch nothing else.
    ``root`` is :func:`parse` of this very ``text`` when the caller has it (deploy parses the
    file once: reading, checking and editing share that parse)."""
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):  # keep CRLF files CRLF
        return _edit_map(text.replace("\r\n", "\n"), path, changes, name).replace("\n", "\r\n")
    if root is not None and (root.doc is None or root.doc.text != text):
        root = None  # a parse of another text: its positions do not apply
    return _edit_map(text, path, changes, name, root)


def _edit_map(
    text: str,
    path: tuple[str, ...],
    changes: dict[str, Any | None],
    name: str,
    root: Node | None = None,
) -> str:
    if not text.strip():
        if all(v is None for v in changes.values()):
            return text
        base: dict[str, Any] = {}
        node_py = base
        for key in path:
            node_py = node_py.setdefault(key, {})
        node_py.update({k: v for k, v in changes.items() if v is not None})
        return json.dumps(base, indent=2, ensure_ascii=False) + "\n"
    if root is None:
        root = parse(text, name)
    if root.kind != "object":
        raise ParseError(f"{name}: the top level is not an object", "fix the file by hand")
    unit = _indent_unit(text)
    node = root
    for depth, key in enumerate(path):
        member = node.member(key)
        if member is None:
            nested: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
            if not nested:  # only removals, and there is nothing to remove
                return text
            for k in reversed(path[depth + 1 :]):
                nested = {k: nested}
            return _insert_members(text, node, {key: nested}, unit)
        if member.value.kind != "object":
            raise ParseError(
                f"{name}: {'.'.join(path[: depth + 1])} is not an object",
                "fix the file by hand (it was left untouched)",
            )
        node = member.value
    edits: list[tuple[int, int, str]] = []
    additions: dict[str, Any] = {}
    inline = _is_inline(text, node)
    for key, value in changes.items():
        member = node.member(key)
        if member is None:
            if value is not None:
                additions[key] = value
        elif value is not None:
            for m in node.members:
                if m.key == key:
                    indent = _line_indent(text, m.start)
                    dumped = (
                        json.dumps(value, ensure_ascii=False)
                        if inline
                        else _dump(value, indent, unit)
                    )
                    edits.append((m.value.start, m.value.end, dumped))
    deleted = {k for k, v in changes.items() if v is None}
    edits += _deletions(text, node, deleted, inline)
    out = text
    for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + new + out[end:]
    if additions and not edits:
        return _insert_members(out, node, additions, unit)
    if additions:
        node2 = parse(out, name)
        for key in path:
            member = node2.member(key)
            assert member is not None
            node2 = member.value
        out = _insert_members(out, node2, additions, unit)
    return out


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _alone(text: str, pos: int) -> bool:
    """Only white space before ``pos`` on its line."""
    return not text[_line_start(text, pos) : pos].strip()


def _line_tail(text: str, pos: int) -> int:
    """After spaces and a // comment that end the line at ``pos``; else ``pos``."""
    m = re.match(r"[ \t]*(?://[^\n]*)?(?=\n|$)", text[pos:])
    return pos + m.end() if m else pos


def _deletions(text: str, obj: Node, deleted: set[str], inline: bool) -> list[tuple[int, int, str]]:
    """Cuts that remove the members named in ``deleted`` with their commas, their lines (when
    alone on them) and their trailing comments, as one cut per run of neighbours."""
    members = obj.members
    gone = [i for i, m in enumerate(members) if m.key in deleted]
    runs: list[list[int]] = []
    for i in gone:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    cuts: list[tuple[int, int, str]] = []
    for run in runs:
        first, last = members[run[0]], members[run[-1]]
        after = run[-1] + 1
        if after < len(members):  # a survivor follows: cut up to it
            nxt = members[after]
            if not inline and _alone(text, first.start) and _alone(text, nxt.start):
                # to the end of the last one's line: comment lines before the survivor are
                # about the survivor, and stay
                end = last.comma + 1 if last.comma is not None else last.value.end
                tail = _line_tail(text, end)
                if tail < len(text) and text[tail] == "\n":
                    cuts.append((_line_start(text, first.start), tail + 1, ""))
                else:
                    cuts.append((_line_start(text, first.start), _line_start(text, nxt.start), ""))
            else:
                cuts.append((first.start, nxt.start, ""))
            continue
        prev = members[run[0] - 1] if run[0] > 0 else None
        trailing_style = last.comma is not None
        end = last.comma + 1 if last.comma is not None else last.value.end
        if not inline and _alone(text, first.start):
            tail = _line_tail(text, end)
            if tail < len(text) and text[tail] == "\n":
                tail += 1
                cuts.append((_line_start(text, first.start), tail, ""))
            else:
                cuts.append((_line_start(text, first.start), end, ""))
            if prev is not None and prev.comma is not None and not trailing_style:
                cuts.append((prev.comma, prev.comma + 1, ""))
        elif prev is not None and not trailing_style:
            cuts.append((prev.value.end, end, ""))
        else:
            m = re.match(r"[ \t]*", text[end:])
            cuts.append((first.start, end + (m.end() if m else 0), ""))
    return cuts


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
            pos = last.comma + 1 if inline else _line_tail(text, last.comma + 1)
            return text[:pos] + body + "," + text[pos:]
        pos = last.value.end
        tail = pos if inline else _line_tail(text, pos)  # keep "// about a" on a's line
        return text[:pos] + "," + text[pos:tail] + body + text[tail:]
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


def edited(
    root: Node, new_text: str, path: tuple[str, ...], changes: dict[str, Any | None], name: str
) -> Any | None:
    """What :func:`edit_map` of ``root``'s text made of it, read from ``new_text`` without
    parsing it all: the bytes outside the changed members must be the old ones, and the
    changed part alone must parse to the intended members. Additions (after the last member)
    and replaced values are read this way; ``None`` for anything else (deletions, a new
    section, another text): the caller then parses ``new_text``."""
    doc = root.doc
    if doc is None or root.kind != "object" or any(v is None for v in changes.values()):
        return None
    node, nodes = root, []
    for key in path:
        member = node.member(key)
        if member is None or member.value.kind != "object":
            return None
        nodes.append(node)
        node = member.value
    text, current = doc.text, node.value
    if not isinstance(current, dict):
        return None
    added = {k: v for k, v in changes.items() if k not in current}
    replaced = {k: v for k, v in changes.items() if k in current}
    if added and replaced:
        return None
    try:
        if added:
            ok = _added_ok(text, new_text, node, added, name)
        else:
            ok = _replaced_ok(text, new_text, node, replaced, doc)
    except (ParseError, ValueError, IndexError):
        return None
    if not ok:
        return None
    servers = {**current, **changes}
    data = servers
    for outer, key in zip(reversed(nodes), reversed(path), strict=True):
        data = {**outer.value, key: data}
    return data


def _added_ok(text: str, new_text: str, obj: Node, added: dict[str, Any], name: str) -> bool:
    """Members were inserted after the last one: the text before it and from the object's
    closing brace on is unchanged, and what lies between parses to it and the new members."""
    tail = text[obj.end - 1 :]  # the closing brace and everything after it
    if not new_text.endswith(tail):
        return False
    stop = len(new_text) - len(tail) + 1
    if obj.members:
        last = obj.members[-1]
        start, head, want = last.start, "{", {last.key: last.value.value, **added}
    else:
        start, head, want = obj.start, "", dict(added)
    if new_text[:start] != text[:start] or stop <= start:
        return False
    return bool(loads(head + new_text[start:stop], name) == want)


def _replaced_ok(text: str, new_text: str, obj: Node, replaced: dict[str, Any], doc: _Doc) -> bool:
    """Only the values of the replaced members changed: every byte between them is the old
    one, and each new value decodes (plain JSON) to the intended one."""
    spans = sorted((m.value.start, m.value.end, m.key) for m in obj.members if m.key in replaced)
    if len({k for _, _, k in spans}) != len(spans):  # a repeated key: let the parse decide
        return False
    old_at = new_at = 0
    for start, end, key in spans:
        gap = start - old_at
        if new_text[new_at : new_at + gap] != text[old_at:start]:
            return False
        value, new_end = doc.decoder.raw_decode(new_text, new_at + gap)
        if value != replaced[key]:
            return False
        old_at, new_at = end, new_end
    return new_text[new_at:] == text[old_at:]
