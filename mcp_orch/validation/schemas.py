"""JSON Schema validators, built once per schema and reused."""

from __future__ import annotations

from functools import cache
from typing import Any

from .._resources import load_schema


@cache
def validator(name: str) -> Any:
    """A ready validator for ``schemas/<name>`` (draft-07 or 2020-12, from its ``$schema``)."""
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def client_schema_name(client_id: str) -> str:
    return f"clients/{client_id}.schema.json"
