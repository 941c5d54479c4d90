"""Text helpers shared by every layer."""

from __future__ import annotations


def mask(value: str) -> str:
    """A secret shown safely: its first 4 characters and its length."""
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}…({len(value)} chars)"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 server``, ``3 servers``."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
