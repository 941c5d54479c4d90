"""Probe results: one server's (:class:`ServerProbe`) and a whole set's (:class:`ProbeReport`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import NotFound
from mcp_orch.core.markup import STYLE, html_table, safe_html

if TYPE_CHECKING:
    import polars as pl


@dataclass
class ServerProbe:
    """What probing one server found."""

    server: str
    transport: str
    target: str  # the command line or URL, secrets masked
    ok: bool = False
    protocol_version: str | None = None
    server_name: str | None = None
    server_version: str | None = None
    tools: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    startup_ms: float | None = None
    first_response_ms: float | None = None
    latency_ms: float | None = None
    error: str | None = None
    hint: str | None = None
    exit_code: int | None = None
    stderr: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def tool_count(self) -> int:
        return len(self.tools)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tool_count"] = self.tool_count
        return data

    def __str__(self) -> str:
        if self.ok:
            who = " ".join(x for x in (self.server_name, self.server_version) if x)
            return (
                f"ok      {self.server}: {who or '?'} (protocol {self.protocol_version}), "
                f"{self.tool_count} tool(s), {len(self.resources)} resource(s), "
                f"{len(self.prompts)} prompt(s); start-up {_ms(self.startup_ms)}, "
                f"first response {_ms(self.first_response_ms)}"
            )
        out = f"FAILED  {self.server}: {self.error}"
        if self.hint:
            out += f"\n        hint: {self.hint}"
        return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


class ProbeReport:
    """The probes of every server of one config, in config order."""

    def __init__(
        self,
        results: list[ServerProbe],
        *,
        target: str = "",
        client: str = "",
        skipped: list[str] | None = None,
    ) -> None:
        self.results = results
        self.target = target
        self.client = client
        self.skipped = list(skipped or [])  # servers the client has switched off

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[ServerProbe]:
        return [r for r in self.results if not r.ok]

    def __iter__(self) -> Iterator[ServerProbe]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, server: str) -> ServerProbe:
        for r in self.results:
            if r.server == server:
                return r
        raise NotFound(
            f"no server {server!r} in this probe",
            f"servers: {', '.join(r.server for r in self.results) or '(none)'}",
        )

    def summary(self) -> str:
        good = len(self.results) - len(self.failed)
        verdict = "ok" if self.ok else "FAILED"
        off = f" ({len(self.skipped)} disabled, not started)" if self.skipped else ""
        return f"{verdict}: {good} of {len(self.results)} server(s) answered{off}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "target": self.target,
            "client": self.client,
            "servers": [r.to_dict() for r in self.results],
            "skipped": self.skipped,
        }

    def frame(self) -> pl.DataFrame:
        """One row per server: server, ok, protocol_version, server_name, server_version,
        tool_count, tool_names, latency_ms, error (plus transport, counts and the two times)."""
        import polars as pl

        schema: dict[str, Any] = {
            "server": pl.String,
            "ok": pl.Boolean,
            "protocol_version": pl.String,
            "server_name": pl.String,
            "server_version": pl.String,
            "tool_count": pl.Int64,
            "tool_names": pl.List(pl.String),
            "latency_ms": pl.Float64,
            "error": pl.String,
            "transport": pl.String,
            "resource_count": pl.Int64,
            "prompt_count": pl.Int64,
            "startup_ms": pl.Float64,
            "first_response_ms": pl.Float64,
        }
        rows = [
            {
                "server": r.server,
                "ok": r.ok,
                "protocol_version": r.protocol_version,
                "server_name": r.server_name,
                "server_version": r.server_version,
                "tool_count": r.tool_count,
                "tool_names": list(r.tools),
                "latency_ms": r.latency_ms,
                "error": r.error,
                "transport": r.transport,
                "resource_count": len(r.resources),
                "prompt_count": len(r.prompts),
                "startup_ms": r.startup_ms,
                "first_response_ms": r.first_response_ms,
            }
            for r in self.results
        ]
        return pl.DataFrame(rows, schema=schema)

    def __str__(self) -> str:
        head = f"{self.target or self.client}: {self.summary()}"
        return "\n".join([head, *(str(r) for r in self.results)])

    def __repr__(self) -> str:
        return f"<ProbeReport {self.target or self.client}: {self.summary()}>"

    def _repr_html_(self) -> str:
        def render() -> str:
            colour = "#1e8449" if self.ok else "#c0392b"
            rows = [
                (
                    r.server,
                    "ok" if r.ok else "FAILED",
                    " ".join(x for x in (r.server_name, r.server_version) if x),
                    r.protocol_version,
                    r.tool_count,
                    ", ".join(r.tools[:12]) + (" …" if len(r.tools) > 12 else ""),
                    _ms(r.startup_ms),
                    _ms(r.first_response_ms),
                    (r.error or "") + (f" (fix: {r.hint})" if r.hint and not r.ok else ""),
                )
                for r in self.results
            ]
            head = (
                f"{STYLE}<div class='mco'><b style='color:{colour}'>{escape(self.summary())}</b>"
                f" <i>{escape(self.target or self.client)}</i></div>"
            )
            return head + html_table(
                [
                    "server",
                    "status",
                    "server info",
                    "protocol",
                    "tools",
                    "tool names",
                    "start-up",
                    "first response",
                    "error",
                ],
                rows,
            )

        return safe_html(render, self)
