"""Read and edit client config files in their own dialect, changing only managed entries.

    >>> from mcp_orch.domain.clients.dialects import read_config, apply_changes
    >>> data = read_config(spec, text, "settings.json")          # ParseError if it does not parse
    >>> new_text = apply_changes(spec, text, {"github": entry, "old": None})

Every dialect is edited as text: JSON and JSONC by :mod:`.jsonc`, TOML by :mod:`.tomledit`
(tomlkit renders the new tables), YAML by :mod:`.yamledit` (ruamel.yaml finds the entries and
renders the new ones). Only the bytes of the entries that change are touched: comments, blank
lines, key order, quoting, anchors, directives and unknown keys stay byte for byte. A file's
newlines (CRLF stays CRLF) and its UTF-8 byte order mark are kept. Each text edit is checked by
parsing its result; a shape the text editors do not handle (and any result that would not read
back as intended) falls back to a tomlkit or ruamel.yaml round trip, which keeps comments and
key order but may reformat.
"""

from __future__ import annotations

import copy
import io
from typing import Any

from mcp_orch.core.errors import ParseError
from mcp_orch.core.fs import BOM, MAX_DEPTH, join_form, nesting_depth, split_form, too_deep
from mcp_orch.domain.clients import jsonc, tomledit, yamledit
from mcp_orch.domain.clients.spec import ClientSpec, check_servers, server_map

#: How many nodes YAML aliases may add to a document when they are expanded (a config's few
#: anchors add dozens; a "billion laughs" document adds 10^9 from a few hundred bytes).
MAX_ALIAS_NODES = 10_000


class Parsed:
    """A config text read once: its data and, for JSON and JSONC, the parse tree with every
    position, so an edit of the same text (:func:`apply_changes` with ``parsed``) does not
    parse it again."""

    __slots__ = ("checked", "data", "root", "text")

    def __init__(
        self, text: str, data: dict[str, Any], root: jsonc.Node | None, checked: bool
    ) -> None:
        self.text = text
        self.data = data
        self.root = root
        self.checked = checked  # the servers section's types were checked (strict)


def read_parsed(
    spec: ClientSpec, text: str, name: str = "the file", *, strict: bool = True
) -> Parsed:
    """:func:`read_config`, keeping what the parse found for an edit of the same text."""
    root = None
    body = text.removeprefix(BOM)
    if spec.dialect in ("json", "jsonc") and body.strip():
        # depth checked on the text, before decoding; the servers' positions kept for an edit
        root = jsonc.parse(body, name, spec.servers_key)
        data = root.python()
        if not isinstance(data, dict):
            raise ParseError(f"{name}: the top level is not a mapping", _FIX)
        if strict:
            check_servers(spec, data, name)
        return Parsed(text, data, root if body is text else None, strict)
    return Parsed(text, read_config(spec, text, name, strict=strict), None, strict)


def read_edited(
    spec: ClientSpec,
    parsed: Parsed,
    new_text: str,
    changes: dict[str, dict[str, Any] | None],
    name: str = "the file",
) -> dict[str, Any]:
    """The data of ``new_text``, which :func:`apply_changes` made of ``parsed`` with
    ``changes``: for JSON and JSONC additions and replacements, read from the changed bytes
    alone after checking that every other byte is as it was (:func:`.jsonc.edited`);
    otherwise ``new_text`` is parsed. The servers section's types are not checked again."""
    if parsed.root is not None and spec.layout == "map" and "\r" not in new_text:
        data = jsonc.edited(parsed.root, new_text, spec.servers_key, changes, name)
        if isinstance(data, dict):
            return data
    return read_config(spec, new_text, name, strict=False)


def read_config(
    spec: ClientSpec, text: str, name: str = "the file", *, strict: bool = True
) -> dict[str, Any]:
    """The whole file as plain Python data (an empty file is an empty config).

    ``ParseError`` naming the file when it does not parse, nests deeper than
    :data:`~mcp_orch.core.fs.MAX_DEPTH` levels, or (YAML) its aliases expand past
    :data:`MAX_ALIAS_NODES` nodes; and, unless ``strict`` is off, when the section holding the
    servers (or one entry in it) has the wrong type (:func:`~.spec.check_servers`). Checks
    turn ``strict`` off: they report a wrong-typed section as a finding (MCP010) instead."""
    text = text.removeprefix(BOM)  # tomlkit refuses one; a BOM is no content in any dialect
    if not text.strip():
        return {}
    if spec.dialect in ("json", "jsonc"):
        data = jsonc.loads(text, name)  # depth checked on the text, before decoding
    elif spec.dialect == "toml":
        import tomlkit

        try:
            data = tomlkit.parse(text).unwrap()
        except RecursionError:
            raise too_deep(name) from None
        except Exception as exc:  # tomlkit raises several error types
            raise ParseError(f"{name} does not parse as TOML: {exc}", _FIX) from None
        if nesting_depth(data) > MAX_DEPTH:
            raise too_deep(name)
    else:
        data = _yaml_load(text, name)
        data = _plain(data) if data is not None else {}
    if not isinstance(data, dict):
        raise ParseError(f"{name}: the top level is not a mapping", _FIX)
    if strict:
        check_servers(spec, data, name)
    return data


_FIX = "fix the file by hand (it was left untouched) and try again"


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096
    return y


def _yaml_load(text: str, name: str) -> Any:
    try:
        _yaml_limits(text, name)
        return _yaml().load(text)
    except ParseError:
        raise
    except RecursionError:
        raise too_deep(name) from None
    except Exception as exc:  # ruamel raises several error types
        raise ParseError(f"{name} does not parse as YAML: {exc}", _FIX) from None


def _yaml_limits(text: str, name: str) -> None:
    """Refuse, from the parser's events and before anything is built, a YAML text nested deeper
    than ``MAX_DEPTH`` levels, whose aliases would add more than ``MAX_ALIAS_NODES`` nodes when
    expanded, or whose aliases loop. Each anchor's expanded size and depth are added up as its
    node closes, so an alias costs one addition, however far it would expand."""
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        ScalarEvent,
    )

    sizes: dict[Any, tuple[int, int]] = {}  # anchor -> (expanded nodes, depth below it)
    stack: list[list[Any]] = []  # per open collection: [nodes inside, depth below, anchor]
    added = 0
    for event in _yaml().parse(text):
        if isinstance(event, CollectionStartEvent):
            stack.append([0, 0, event.anchor])
            if len(stack) > MAX_DEPTH:
                raise too_deep(name, where=_yaml_at(event))
            continue
        if isinstance(event, CollectionEndEvent):
            inside, below, anchor = stack.pop()
            size, depth = inside + 1, below + 1
            if anchor is not None:
                sizes[anchor] = (size, depth)
        elif isinstance(event, ScalarEvent):
            size, depth = 1, 0
            if event.anchor is not None:
                sizes[event.anchor] = (size, depth)
        elif isinstance(event, AliasEvent):
            if event.anchor not in sizes:
                if any(frame[2] == event.anchor for frame in stack):
                    raise ParseError(
                        f"{name}: the YAML alias *{event.anchor} refers to a node that holds "
                        f"it{_yaml_at(event)}",
                        "an alias must refer to a finished node; " + _FIX,
                    )
                continue  # an unknown alias: the loader names it below
            size, depth = sizes[event.anchor]
            added += size
            if added > MAX_ALIAS_NODES:
                raise ParseError(
                    f"{name}: YAML aliases expand too far (more than {MAX_ALIAS_NODES:,} "
                    f"nodes){_yaml_at(event)}",
                    "write the values out, or use fewer aliases of large anchors; " + _FIX,
                )
            if len(stack) + depth > MAX_DEPTH:
                raise too_deep(name, where=_yaml_at(event))
        else:
            continue
        if stack:
            frame = stack[-1]
            frame[0] += size
            frame[1] = max(frame[1], depth)


def _yaml_at(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def apply_changes(
    spec: ClientSpec,
    text: str,
    changes: dict[str, dict[str, Any] | None],
    name: str = "the file",
    *,
    parsed: Parsed | None = None,
) -> str:
    """Set (entry) or remove (None) the named servers; everything else stays as it is, byte
    for byte, including the file's newlines (CRLF or LF) and its byte order mark. ``parsed``
    (:func:`read_parsed` of this ``text``) saves parsing the text again."""
    body, newline, bom = split_form(text)
    if parsed is not None and parsed.text != text:
        parsed = None
    if newline == "\n" and not bom:
        return _apply_changes(spec, text, changes, name, parsed)
    return join_form(_apply_changes(spec, body, changes, name, None), newline, bom)


def _apply_changes(
    spec: ClientSpec,
    text: str,
    changes: dict[str, dict[str, Any] | None],
    name: str,
    parsed: Parsed | None = None,
) -> str:
    if text.strip() and all(v is None for v in changes.values()):
        data = parsed.data if parsed is not None else read_config(spec, text, name)
        present = set(server_map(spec, data))
        changes = {k: v for k, v in changes.items() if k in present}
        if not changes:  # nothing to remove: the file is left byte for byte
            return text
    if spec.dialect in ("json", "jsonc"):
        if spec.layout != "map":
            raise ParseError(f"{spec.id}: list layouts are not supported in JSON", _FIX)
        root = parsed.root if parsed is not None else None
        if text.strip() and not (root is not None and parsed is not None and parsed.checked):
            if root is None:
                root = jsonc.parse(text, name)
            check_servers(spec, root.python(), name)  # a wrong-typed section is refused
        return jsonc.edit_map(text, spec.servers_key, changes, name, root=root)
    if spec.dialect == "toml":
        return _apply_toml(spec, text, changes, name)
    return _apply_yaml(spec, text, changes, name)


def _apply_toml(
    spec: ClientSpec, text: str, changes: dict[str, dict[str, Any] | None], name: str
) -> str:
    import tomlkit

    try:
        doc = tomlkit.parse(text)
    except RecursionError:
        raise too_deep(name) from None
    except Exception as exc:
        raise ParseError(f"{name} does not parse as TOML: {exc}", _FIX) from None
    check_servers(spec, doc, name)  # a `mcp_servers = "x"` is refused, not overwritten
    spliced = _splice_toml(spec, text, doc, changes)
    if spliced is not None:
        return spliced
    return _roundtrip_toml(spec, doc, text, changes)


def _toml_table(spec: ClientSpec, server: str, entry: dict[str, Any]) -> str:
    """One server as the TOML that ``[path.server]`` (or a ``[[path]]`` element) is."""
    import tomlkit

    doc = tomlkit.document()
    if spec.layout == "array-of-tables":
        table = tomlkit.table()
        table[spec.name_field or "name"] = server
        for k, v in entry.items():
            table[k] = v
        aot = tomlkit.aot()
        aot.append(table)
        node: Any = aot
    else:
        table = tomlkit.table()
        for k, v in entry.items():
            if isinstance(v, dict):
                inline = tomlkit.inline_table()
                inline.update(v)
                table[k] = inline
            else:
                table[k] = v
        node = tomlkit.table(is_super_table=True)
        node[server] = table
    keys = spec.servers_key
    for key in reversed(keys[1:]):
        outer = tomlkit.table(is_super_table=True)
        outer[key] = node
        node = outer
    doc[keys[0]] = node
    return tomlkit.dumps(doc)


def _splice_toml(
    spec: ClientSpec, text: str, doc: Any, changes: dict[str, dict[str, Any] | None]
) -> str | None:
    """The text edit of :mod:`.tomledit`, when it applies and reads back as intended."""
    import tomlkit

    data = doc.unwrap()
    names: list[str | None] | None = None
    if spec.layout == "array-of-tables":
        node: Any = data
        for key in spec.servers_key:
            node = node.get(key) if isinstance(node, dict) else None
        field = spec.name_field or "name"
        items = node if isinstance(node, list) else []
        names = [t.get(field) if isinstance(t.get(field), str) else None for t in items]
    tables = {n: None if e is None else _toml_table(spec, n, e) for n, e in changes.items()}
    out = tomledit.splice(text, spec.servers_key, names, tables)
    if out is None:
        return None
    try:
        got = tomlkit.parse(out).unwrap()
    except Exception:  # a splice that does not parse: use the round trip
        return None
    return out if _same(spec, got, _expected(spec, data, changes)) else None


def _expected(spec: ClientSpec, data: Any, changes: dict[str, dict[str, Any] | None]) -> Any:
    """``data`` (plain) with ``changes`` made to its servers, as the file should read after."""
    out = copy.deepcopy(data) if data is not None else {}
    node = out
    for key in spec.servers_key[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    last = spec.servers_key[-1]
    if spec.layout == "map":
        servers: dict[str, Any] = node[last] if isinstance(node.get(last), dict) else {}
        for server, entry in changes.items():
            if entry is None:
                servers.pop(server, None)
            else:
                servers[server] = (
                    {spec.name_in_entry: server, **entry} if spec.name_in_entry else entry
                )
        if servers or last in node:
            node[last] = servers
        return out
    field = spec.name_field or "name"
    items: list[Any] = node[last] if isinstance(node.get(last), list) else []
    for server, entry in changes.items():
        idx = next(
            (i for i, t in enumerate(items) if isinstance(t, dict) and t.get(field) == server),
            None,
        )
        if entry is None:
            if idx is not None:
                del items[idx]
        elif idx is None:
            items.append({field: server, **entry})
        else:
            items[idx] = {field: server, **entry}
    if items or spec.dialect == "yaml":
        node[last] = items
    else:
        node.pop(last, None)  # TOML has no empty array of tables
    return out


def _same(spec: ClientSpec, got: Any, expected: Any) -> bool:
    """Equal, when an empty servers section counts the same as none."""

    def pruned(data: Any) -> Any:
        data = copy.deepcopy(data)
        node = data
        for key in spec.servers_key[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(spec.servers_key[-1]) in ({}, [], None):
            node.pop(spec.servers_key[-1], None)
        return data

    return bool(pruned(got) == pruned(expected))


def _roundtrip_toml(
    spec: ClientSpec, doc: Any, text: str, changes: dict[str, dict[str, Any] | None]
) -> str:
    import tomlkit

    container: Any = doc
    for key in spec.servers_key[:-1]:
        if key not in container:
            container[key] = tomlkit.table(is_super_table=True)
        container = container[key]
    last = spec.servers_key[-1]
    if spec.layout == "array-of-tables":
        existing = container.get(last)
        if existing is None or (not isinstance(existing, tomlkit.items.AoT) and not existing):
            if last in container:
                del container[last]
            container[last] = tomlkit.aot()
        aot = container[last]
        field = spec.name_field or "name"
        for server, entry in changes.items():
            idx = next((i for i, t in enumerate(aot) if t.get(field) == server), None)
            if entry is None:
                if idx is not None:
                    del aot[idx]
            else:
                table = tomlkit.table()
                table[field] = server
                for k, v in entry.items():
                    table[k] = v
                if idx is None:
                    aot.append(table)
                else:
                    aot[idx] = table
        if not len(aot):  # an empty array of tables would be written as `key = []`
            del container[last]
        return tomlkit.dumps(doc)
    if last not in container:
        if all(v is None for v in changes.values()):
            return text
        container[last] = tomlkit.table(is_super_table=True)
    servers = container[last]
    for server, entry in changes.items():
        if entry is None:
            if server in servers:
                del servers[server]
        else:
            table = tomlkit.table()
            for k, v in entry.items():
                if isinstance(v, dict):
                    inline = tomlkit.inline_table()
                    inline.update(v)
                    table[k] = inline
                else:
                    table[k] = v
            table.add(tomlkit.nl())  # a blank line before whatever table follows
            servers[server] = table
    return tomlkit.dumps(doc)


def _apply_yaml(
    spec: ClientSpec, text: str, changes: dict[str, dict[str, Any] | None], name: str
) -> str:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    y = _yaml()
    data = _yaml_load(text, name) if text.strip() else None
    if data is None:  # a new file (no text at all) starts with the client's header fields
        data = CommentedMap(spec.new_file_fields.items() if not text else ())
    if not isinstance(data, dict):
        raise ParseError(f"{name}: the top level is not a mapping", _FIX)
    check_servers(spec, data, name)  # Goose `extensions` as a list is refused, not overwritten
    if text:
        spliced = _splice_yaml(spec, text, data, changes, name)
        if spliced is not None:
            return spliced
    container: Any = data
    for key in spec.servers_key[:-1]:
        if key not in container or container[key] is None:
            container[key] = CommentedMap()
        container = container[key]
    last = spec.servers_key[-1]
    if spec.layout == "list":
        if last not in container or container[last] is None:
            container[last] = CommentedSeq()
        seq = container[last]
        field = spec.name_field or "name"
        for server, entry in changes.items():
            idx = next(
                (i for i, t in enumerate(seq) if isinstance(t, dict) and t.get(field) == server),
                None,
            )
            if entry is None:
                if idx is not None:
                    _keep_tail_comment(container, last, seq, idx)
                    del seq[idx]
            else:
                item = CommentedMap([(field, server), *entry.items()])
                if idx is None:
                    seq.append(item)
                else:
                    seq[idx] = item
    else:
        if last not in container or container[last] is None:
            container[last] = CommentedMap()
        servers = container[last]
        for server, entry in changes.items():
            if entry is None:
                if server in servers:
                    _keep_tail_comment(container, last, servers, server)
                    del servers[server]
            else:
                fields: dict[str, Any] = dict(entry)
                if spec.name_in_entry:
                    fields = {spec.name_in_entry: server, **fields}
                servers[server] = CommentedMap(fields.items())
    buf = io.StringIO()
    y.dump(data, buf)
    return buf.getvalue()


def _splice_yaml(
    spec: ClientSpec,
    text: str,
    data: Any,
    changes: dict[str, dict[str, Any] | None],
    name: str,
) -> str | None:
    """The text edit of :mod:`.yamledit`, when it applies and reads back as intended."""
    items: dict[str, dict[str, Any] | None] = {}
    for server, entry in changes.items():
        if entry is None:
            items[server] = None
        elif spec.layout == "list":
            items[server] = {spec.name_field or "name": server, **entry}
        elif spec.name_in_entry:
            items[server] = {spec.name_in_entry: server, **entry}
        else:
            items[server] = dict(entry)
    out = yamledit.splice(text, spec.servers_key, items, spec.layout, spec.name_field)
    if out is None:
        return None
    try:
        got = _yaml_load(out, name)
    except ParseError:  # a splice that does not parse: use the round trip
        return None
    before = _plain(data) if text.strip() else {}
    return out if _same(spec, _plain(got or {}), _expected(spec, before, changes)) else None


def _tail_comment(node: Any) -> tuple[Any, Any, int] | None:
    """Where the comment after the last value inside ``node`` is kept: (owner, key, slot)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap) and node:
        key = list(node.keys())[-1]
        deeper = _tail_comment(node[key])
        if deeper:
            return deeper
        slots = node.ca.items.get(key)
        if slots and len(slots) > 2 and slots[2] is not None:
            return node, key, 2
    elif isinstance(node, CommentedSeq) and node:
        index = len(node) - 1
        deeper = _tail_comment(node[index])
        if deeper:
            return deeper
        slots = node.ca.items.get(index)
        if slots and slots[0] is not None:
            return node, index, 0
    return None


def _keep_tail_comment(parent: Any, parent_key: Any, container: Any, key: Any) -> None:
    """Before the last item of ``container`` is deleted, move the comment that follows it (a
    user's comment about whatever comes next in the file) to the item that will be last, or
    after ``container`` itself when it becomes empty."""
    from ruamel.yaml.comments import CommentedMap

    keys = list(container.keys()) if isinstance(container, dict) else list(range(len(container)))
    if not keys or keys[-1] != key:
        return
    found = _tail_comment(container[key])
    if found is None:
        return
    owner, okey, slot = found
    token = owner.ca.items[okey][slot]
    owner.ca.items[okey][slot] = None
    if len(keys) > 1:
        target: Any = container[keys[-2]]
        while isinstance(target, dict | list) and target:
            inner_key = list(target.keys())[-1] if isinstance(target, dict) else len(target) - 1
            if isinstance(target[inner_key], dict | list) and target[inner_key]:
                target = target[inner_key]
                continue
            if isinstance(target, CommentedMap):
                target.ca.items[inner_key] = [None, None, token, None]
            else:
                target.ca.items[inner_key] = [token, None]  # type: ignore[union-attr]
            return
    if isinstance(parent, CommentedMap):
        keys_after = list(parent.keys())
        pos = keys_after.index(parent_key) if parent_key in keys_after else -1
        if 0 <= pos < len(keys_after) - 1:  # the comment belongs above the next key
            lines = [ln.strip() for ln in str(token.value).splitlines() if ln.strip()]
            text = "\n".join(ln[1:].strip() if ln.startswith("#") else ln for ln in lines)
            parent.yaml_set_comment_before_after_key(keys_after[pos + 1], before=text)
        else:
            parent.ca.items[parent_key] = [None, None, token, None]
