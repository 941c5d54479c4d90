"""``core.ids.canonical`` is RFC 8785 (JCS), byte for byte, on every input: its fast path
(``json`` with sorted keys for plain documents) must give exactly what the ``rfc8785``
package gives, and anything the package refuses is still refused. Digests of artifacts,
entries, records and audit events depend on it: one differing byte would make every stored
digest fail verification."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_orch.core.ids import canonical, is_plain

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats()
    | st.text()
    | st.sampled_from(["\ue000", "\U0001f600", "\ud800", "\x7f", "\u2028", "\t\n\r\b\f\x00"])
)
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def outcome(fn: Any, obj: Any) -> Any:
    try:
        return fn(obj)
    except Exception as exc:  # the kind of refusal must match too
        return type(exc)


@settings(max_examples=600, deadline=None)
@given(DOCS)
def test_canonical_is_rfc8785_for_any_document(obj: Any) -> None:
    assert outcome(canonical, obj) == outcome(rfc8785.dumps, obj)


@settings(max_examples=300, deadline=None)
@given(DOCS, DOCS)
def test_a_part_found_plain_once_encodes_the_same_inside_a_bigger_document(
    part: Any, rest: Any
) -> None:
    """publish walks the payload once and tells canonical() so for the envelope around it."""
    doc = {"payload": part, "rest": rest}
    known = part if is_plain(part) else None
    assert outcome(lambda d: canonical(d, plain_part=known), doc) == outcome(rfc8785.dumps, doc)


@pytest.mark.parametrize(
    "obj",
    [
        {"b": True, "a": False, "c": None, "d": [1, -2, 2**53 - 1, -(2**53 - 1)]},
        {"\ue000": 1, "\U0001f600": 2, "a": 3},  # UTF-16 key order differs from code points
        {"x": 1.0, "y": 1e21, "z": -0.0},
        {"k": 'quote " backslash \\ controls \x00\x1f\t\n DEL \x7f sep \u2028'},
        [[], {}, "", 0],
    ],
)
def test_canonical_edge_cases(obj: Any) -> None:
    assert canonical(obj) == rfc8785.dumps(obj)


@pytest.mark.parametrize(
    "obj", [{"x": float("nan")}, {"x": 2**60}, {"x": "\ud800"}, {"x": 2**53}, {1: "a"}]
)
def test_what_rfc8785_refuses_is_refused(obj: Any) -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical(obj)
