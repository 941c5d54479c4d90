"""JSON Schema validators, built once per schema and reused."""

from __future__ import annotations

from functools import cache
from typing import Any

from mcp_orch.core.resources import load_schema


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
