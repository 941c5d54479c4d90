"""The bundled data: where the catalog and schemas live (inside the wheel, or at the top of a
checkout), the schemas themselves, and JSON Schema validators built once per schema."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PKG = Path(__file__).resolve().parents[1]  # the mcp_orch package


def data_dir(name: str) -> Path:
    """``catalog`` or ``schemas``: the wheel's copy (``mcp_orch/_data``) or the checkout's."""
    bundled = _PKG / "_data" / name
    if bundled.is_dir():
        return bundled
    return _PKG.parent / name


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema from ``schemas/`` by file name."""
    with open(data_dir("schemas") / name, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def skip_slow_uri_grammar() -> None:
    """jsonschema imports rfc3987-syntax when it is installed (Jupyter pulls it in), and that
    builds a parser grammar at import: 2-10 s before the first validation. mcp-orch does not need
    its stricter "uri" format check; call this before anything imports jsonschema (the ``mcp``
    SDK does) to keep it from loading, unless something already did."""
    import sys

    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


@cache
def validator(name: str) -> Any:
    """A ready validator for ``schemas/<name>`` (draft-07 or 2020-12, from its ``$schema``)."""
    skip_slow_uri_grammar()
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def client_schema_name(client_id: str) -> str:
    return f"clients/{client_id}.schema.json"
