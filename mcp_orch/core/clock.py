"""Time: UTC now, the one ISO form events and artifacts use, and ``--since`` windows.

>>> from mcp_orch.core.clock import iso, now_utc, parse_since
>>> iso(now_utc())            # '2026-12-01T11:00:00.000000Z'
>>> parse_since("7d")         # a UTC datetime a week ago
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from mcp_orch.core.errors import UsageError


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_since(since: str | datetime | None) -> datetime | None:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"2w"``, an ISO date/time, or a datetime -> UTC datetime."""
    if since is None or since == "":
        return None
    if isinstance(since, datetime):
        return since if since.tzinfo else since.replace(tzinfo=UTC)
    m = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", since)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}.get(
            unit, timedelta(weeks=n)
        )
        return now_utc() - delta
    try:
        dt = datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"cannot read the time {since!r}", "use 7d, 30d, 12h or an ISO date like 2026-01-31"
        ) from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
