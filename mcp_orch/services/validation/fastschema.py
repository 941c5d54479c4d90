"""A quick yes for the client schemas: JSON Schema compiled into plain Python checks.

    >>> from mcp_orch.services.validation.fastschema import accepts
    >>> accepts("clients/cursor.schema.json", {"mcpServers": {"x": {"command": "npx"}}})
    True

jsonschema builds an error object for every branch of an ``anyOf`` an entry does not take, so a
file of 500 servers costs it a few hundred milliseconds even when nothing is wrong. The client
schemas use a small set of keywords; this module compiles exactly that set (``type``,
``properties``, ``additionalProperties``, ``required``, ``$ref`` to ``#/$defs/...``,
``pattern``, ``anyOf``, ``allOf``, ``not``, ``const`` and ``enum`` of strings, ``items``,
``propertyNames``, ``minLength``, ``minItems``, and the annotations) with jsonschema's meaning of
each. :func:`accepts` is ``True`` only when the document is valid; ``False`` means "ask
jsonschema", which also reports the errors. A schema with any other keyword is never compiled,
so the answer is jsonschema's there too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from mcp_orch.core.resources import load_schema

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description"})


class _Unsupported(Exception):
    """A keyword (or form of one) this compiler does not implement."""


def _is_type(kind: str) -> Check:
    if kind == "object":
        return lambda v: isinstance(v, dict)
    if kind == "array":
        return lambda v: isinstance(v, list)
    if kind == "string":
        return lambda v: isinstance(v, str)
    if kind == "boolean":
        return lambda v: isinstance(v, bool)
    if kind == "null":
        return lambda v: v is None
    if kind == "integer":  # as jsonschema: 1.0 is an integer, True is not
        return lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, float) and v.is_integer())
        )
    if kind == "number":
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    raise _Unsupported(kind)


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, target: str) -> Check:
        if not target.startswith("#/$defs/") or "/" in target[len("#/$defs/") :]:
            raise _Unsupported(target)
        name = target[len("#/$defs/") :]
        if name not in self.refs:
            defs = self.root.get("$defs") or {}
            if name not in defs:
                raise _Unsupported(target)
            box: list[Check] = []
            self.refs[name] = lambda v: box[0](v)  # a recursive $ref finds it once compiled
            box.append(self.compile(defs[name]))
        return self.refs[name]

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise _Unsupported(repr(schema))
        checks: list[Check] = []
        for key, arg in schema.items():
            if key in _ANNOTATIONS or key in ("properties", "additionalProperties"):
                continue
            checks.append(self.keyword(key, arg, schema))
        if "properties" in schema or "additionalProperties" in schema:
            checks.append(self.object_members(schema))
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(c(v) for c in checks)

    def object_members(self, schema: dict[str, Any]) -> Check:
        props = schema.get("properties") or {}
        if not isinstance(props, dict):
            raise _Unsupported("properties")
        known = {k: self.compile(s) for k, s in props.items()}
        extra_schema = schema.get("additionalProperties", True)
        extra: Check | None = None if extra_schema is True else self.compile(extra_schema)

        def members(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for k, item in v.items():
                check = known.get(k)
                if check is not None:
                    if not check(item):
                        return False
                elif extra is not None and not extra(item):
                    return False
            return True

        return members

    def keyword(self, key: str, arg: Any, schema: dict[str, Any]) -> Check:
        if key == "type":
            kinds = [arg] if isinstance(arg, str) else arg
            if not isinstance(kinds, list) or not kinds:
                raise _Unsupported("type")
            tests = [_is_type(k) for k in kinds]
            return tests[0] if len(tests) == 1 else (lambda v: any(t(v) for t in tests))
        if key == "required":
            names = list(arg)
            return lambda v: not isinstance(v, dict) or all(n in v for n in names)
        if key == "$ref":
            return self.ref(arg)
        if key == "pattern":
            rx = re.compile(arg)
            return lambda v: not isinstance(v, str) or rx.search(v) is not None
        if key in ("anyOf", "allOf"):
            subs = [self.compile(s) for s in arg]
            if key == "anyOf":
                return lambda v: any(s(v) for s in subs)
            return lambda v: all(s(v) for s in subs)
        if key == "not":
            sub = self.compile(arg)
            return lambda v: not sub(v)
        if key == "const":
            if not isinstance(arg, str):
                raise _Unsupported("const")
            return lambda v: isinstance(v, str) and v == arg
        if key == "enum":
            if not all(isinstance(a, str) for a in arg):
                raise _Unsupported("enum")
            options = frozenset(arg)
            return lambda v: isinstance(v, str) and v in options
        if key == "items":
            sub = self.compile(arg)
            return lambda v: not isinstance(v, list) or all(sub(i) for i in v)
        if key == "propertyNames":
            sub = self.compile(arg)
            return lambda v: not isinstance(v, dict) or all(sub(k) for k in v)
        if key == "minLength":
            n = int(arg)
            return lambda v: not isinstance(v, str) or len(v) >= n
        if key == "minItems":
            n = int(arg)
            return lambda v: not isinstance(v, list) or len(v) >= n
        raise _Unsupported(key)


@cache
def compiled(name: str) -> Check | None:
    """The compiled check of ``schemas/<name>``, or None when it uses a keyword not compiled
    here (then only jsonschema answers)."""
    schema = load_schema(name)
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        return None  # older drafts read $ref and its siblings otherwise
    try:
        return _Compiler(schema).compile(schema)
    except (_Unsupported, re.error, TypeError, ValueError):
        return None


def accepts(name: str, document: Any) -> bool:
    """True when ``document`` is valid against ``schemas/<name>`` (False: unknown, ask
    jsonschema)."""
    check = compiled(name)
    try:
        return check is not None and check(document)
    except RecursionError:  # the documents are depth-limited; a last resort
        return False
