"""Ids and digests: slugs for clients, profiles and servers; ``sha256:<hex>`` digests.

    >>> from mcp_orch.core.ids import Digest, canonical, check_id
    >>> d = Digest.of(canonical({"a": 1}))
    >>> str(d)                       # the one written form, everywhere
    'sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862'
    >>> d.short                      # the one display form, in tables and messages
    'sha256:015abd7f5cc5'
    >>> Digest.parse("015ABD7F", prefix_ok=True).hex   # one parser: any case, with or without
    '015abd7f'                                          # the algorithm, a prefix of 6+ digits

Artifact ids, payload digests, entry digests and audit hashes are all digests of RFC 8785
(JCS) canonical JSON.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp_orch.core.errors import InvalidId, UsageError

#: A slug. ``\Z``, not ``$``: ``$`` also matches before a final newline, so "x\n" would pass.
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")
_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-f]{1,64})\Z")
#: How many hex digits the display form shows.
SHORT = 12


def check_id(value: str, what: str = "id") -> str:
    """A lowercase slug, matched in full, or ``InvalidId`` naming ``what`` (path-like values and
    values with a newline, a NUL or another control character included)."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        hint = "use lowercase letters, digits, '-' and '_' (max 64), starting with a letter/digit"
        if isinstance(value, str) and ("/" in value or "\\" in value or ".." in value):
            hint = f"a {what} is a name, not a path; " + hint
        elif isinstance(value, str) and any(c < " " or c == "\x7f" for c in value):
            hint = f"a {what} is one line, with no control characters; " + hint
        raise InvalidId(f"invalid {what} {value!r}", hint)
    return value


#: Code points whose UTF-16 order (RFC 8785's key order) differs from code point order.
_ASTRAL = re.compile("[\ud800-\U0010ffff]")
_SAFE_INT = 2**53 - 1


def _plain(obj: Any, known: Any = None) -> bool:
    """Whether ``obj`` holds only exact dicts with string keys, lists, tuples, strings, bools,
    None and integers within RFC 8785's domain (no floats, no subclasses). ``known``: a part
    of ``obj`` (by identity) already found plain, not walked again."""
    stack = [obj]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None or item is known:
            continue
        if kind is int:
            if -_SAFE_INT <= item <= _SAFE_INT:
                continue
            return False
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        else:
            return False
    return True


def is_plain(obj: Any) -> bool:
    """Whether :func:`canonical` may take its fast path for ``obj`` (see there)."""
    return _plain(obj)


def canonical(obj: Any, *, plain_part: Any = None) -> bytes:
    """RFC 8785 (JCS) canonical JSON bytes.

    For documents of strings, integers within 2**53, booleans, null, lists and objects with
    string keys, whose text has no code point at or above U+D800, RFC 8785 is exactly
    ``json`` with sorted keys, no spaces and no ASCII escaping (the same escapes: ``\\"``,
    ``\\\\``, ``\\b``, ``\\f``, ``\\n``, ``\\r``, ``\\t``, lowercase ``\\u00xx``), which
    the C encoder writes ~30x faster than the general canonicaliser. Anything else (floats,
    big integers, astral or private-use code points, lone surrogates, other types) goes to
    ``rfc8785``. tests/test_canonical.py checks the two agree on any document. ``plain_part``:
    a part of ``obj`` the caller found plain already (:func:`is_plain`; publish: the payload
    inside the envelope), not walked again.
    """
    if _plain(obj, plain_part):
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if text.isascii() or not _ASTRAL.search(text):
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: rfc8785 refuses it, as before
                pass
    import rfc8785  # small, but only the release side needs it

    return rfc8785.dumps(obj)


class Digest:
    """A SHA-256 digest (or, from :meth:`parse` with ``prefix_ok``, a unique prefix of one).
    Immutable; equal when algorithm and digits are. (A plain class: a dataclass costs ~1.5 ms
    to build at import, and ids are on every command's path.)"""

    __slots__ = ("algorithm", "hex")
    hex: str
    algorithm: str

    def __init__(self, hex: str, algorithm: str = "sha256") -> None:
        object.__setattr__(self, "hex", hex)
        object.__setattr__(self, "algorithm", algorithm)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Digest is immutable (cannot set {name})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digest) and (other.algorithm, other.hex) == (
            self.algorithm,
            self.hex,
        )

    def __hash__(self) -> int:
        return hash((self.algorithm, self.hex))

    def __repr__(self) -> str:
        return f"Digest({self.hex!r}, {self.algorithm!r})"

    @classmethod
    def of(cls, data: bytes) -> Digest:
        import hashlib  # stdlib (~5 ms); light commands that only show ids never hash

        return cls(hashlib.sha256(data).hexdigest())

    @classmethod
    def parse(cls, text: str, *, prefix_ok: bool = False, min_digits: int = 6) -> Digest:
        """``sha256:<hex>`` or bare ``<hex>``, any case, surrounding blanks ignored; with
        ``prefix_ok`` a prefix of ``min_digits`` or more digits is accepted (``is_prefix``
        tells). A filter may take a shorter prefix than a lookup, which must be unique."""
        m = _DIGEST.fullmatch(text.strip().lower()) if isinstance(text, str) else None
        digits = m.group(1) if m else ""
        if not m or (len(digits) != 64 and (not prefix_ok or len(digits) < min_digits)):
            raise UsageError(
                f"not an artifact id: {text!r}",
                "artifact ids look like sha256:<64 hex digits> (a unique prefix of 6+ digits works)",
            )
        return cls(m.group(1))

    @property
    def is_prefix(self) -> bool:
        return len(self.hex) < 64

    @property
    def short(self) -> str:
        return f"{self.algorithm}:{self.hex[:SHORT]}"

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def sha256_id(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return str(Digest.of(data))


def normalise_id(artifact_id: str) -> str:
    """``sha256:<hex>`` from either form (a prefix stays a prefix); ``UsageError`` otherwise."""
    return str(Digest.parse(artifact_id, prefix_ok=True))


def short_id(digest: str | None) -> str:
    """The display form of a digest (``sha256:`` and 12 hex digits); ``""`` for none."""
    if not digest:
        return ""
    algorithm, _, hexid = digest.partition(":")
    return f"{algorithm}:{hexid[:SHORT]}" if hexid else digest[:SHORT]
