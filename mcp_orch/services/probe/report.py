"""Probe results: one server's (:class:`ServerProbe`) and a whole set's (:class:`ProbeReport`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from mcp_orch.core import charts
from mcp_orch.core.errors import NotFound
from mcp_orch.core.ids import short_id
from mcp_orch.core.markup import badge, diff_html, html_table, page, safe_html, status
from mcp_orch.core.text import plural
from mcp_orch.services.probe.compare import ManifestChange, diff_manifests, manifest_of, summary
from mcp_orch.services.probe.manifest import manifest_digest as digest_of
from mcp_orch.services.probe.poisoning import PoisonHit, scan_manifest

if TYPE_CHECKING:
    import polars as pl


@dataclass
class ServerProbe:
    """What probing one server found."""

    server: str
    transport: str
    target: str  # the command line or URL, secrets masked
    ok: bool = False
    # a remote that answered 401 with OAuth metadata (RFC 9728): it needs a sign-in in the
    # client, not other credentials; not a failure of the config
    needs_sign_in: bool = False
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
    # what the server offers (see services/probe/manifest.py) and its digest; None until listed
    manifest: dict[str, Any] | None = None
    manifest_digest: str | None = None
    # the manifest a release pinned for this server (set by whoever has the release): the live
    # one is compared with it (``changes``, rule MCP014); None compares nothing
    pinned: dict[str, Any] | None = None

    @property
    def status(self) -> str:
        """``ok``, ``needs sign-in (OAuth)`` or ``failed``."""
        return "ok" if self.ok else NEEDS_SIGN_IN if self.needs_sign_in else "failed"

    @property
    def tool_count(self) -> int:
        return len(self.tools)

    @property
    def poisoning(self) -> list[PoisonHit]:
        """Poisoning patterns in the manifest's descriptions (rule MCP012)."""
        return scan_manifest(self.manifest)

    @property
    def changes(self) -> list[ManifestChange]:
        """What differs between the pinned manifest and the live one (rule MCP014); empty
        without a pin or without a live manifest."""
        pinned = manifest_of(self.pinned)
        if pinned is None or self.manifest is None:
            return []
        return diff_manifests(pinned, self.manifest)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tool_count"] = self.tool_count
        data["status"] = self.status
        data["poisoning"] = [h.to_dict() for h in self.poisoning]
        pinned = data.pop("pinned")  # the digest names it; the manifest is the release's
        data["pinned_digest"] = digest_of(manifest_of(pinned) or {}) if pinned else None
        data["changes"] = [c.to_dict() for c in self.changes]
        return data

    def __str__(self) -> str:
        if self.ok:
            who = " ".join(x for x in (self.server_name, self.server_version) if x)
            line = (
                f"ok      {self.server}: {who or '?'} (protocol {self.protocol_version}), "
                f"{plural(self.tool_count, 'tool')}, {plural(len(self.resources), 'resource')}, "
                f"{plural(len(self.prompts), 'prompt')}; start-up {_ms(self.startup_ms)}, "
                f"first response {_ms(self.first_response_ms)}"
                + (f"; manifest {short_id(self.manifest_digest)}" if self.manifest_digest else "")
            )
            if self.pinned is not None and self.manifest is not None:
                changes = self.changes
                line += f"\n        {summary(changes)}" if changes else " (as pinned)"
            return line
        out = f"{'sign-in' if self.needs_sign_in else 'FAILED':<7} {self.server}: {self.error}"
        if self.hint:
            out += f"\n        hint: {self.hint}"
        return out


#: The status of a remote that needs an OAuth sign-in (:attr:`ServerProbe.needs_sign_in`).
NEEDS_SIGN_IN = "needs sign-in (OAuth)"


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
        against: str = "",
    ) -> None:
        self.results = results
        self.target = target
        self.client = client
        self.skipped = list(skipped or [])  # servers the client has switched off
        # the release whose pinned manifests the servers are compared with (ServerProbe.pinned)
        self.against = against

    @property
    def ok(self) -> bool:
        """True when no server failed (one that needs an OAuth sign-in has not failed)."""
        return not self.failed

    @property
    def failed(self) -> list[ServerProbe]:
        return [r for r in self.results if not r.ok and not r.needs_sign_in]

    @property
    def sign_in(self) -> list[ServerProbe]:
        """The remotes that need an OAuth sign-in in the client."""
        return [r for r in self.results if r.needs_sign_in and not r.ok]

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
        good = sum(1 for r in self.results if r.ok)
        verdict = "ok" if self.ok else "FAILED"
        off = f" ({len(self.skipped)} disabled, not started)" if self.skipped else ""
        oauth = f", {len(self.sign_in)} {NEEDS_SIGN_IN}" if self.sign_in else ""
        return f"{verdict}: {good} of {plural(len(self.results), 'server')} answered{oauth}{off}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "target": self.target,
            "client": self.client,
            "servers": [r.to_dict() for r in self.results],
            "skipped": self.skipped,
            **({"against": self.against} if self.against else {}),
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

    def chart(self) -> Any:
        """Latency (start-up plus first response) and tool count per server, side by side, as
        an altair chart (see :func:`mcp_orch.core.charts.probe`); needs the notebook extra."""
        where = self.target or self.client
        return charts.probe(self.frame(), title=f"probe: {where}" if where else "probe")

    def poisoning_lines(self) -> list[str]:
        """The warning section: each poisoning pattern found, one line per description."""
        lines = []
        for r in self.results:
            for h in r.poisoning:
                lines.append(f"{h.severity:<8} {r.server}: {h.message} [{h.where}]")
        return ["poisoning (MCP012):", *lines] if lines else []

    def change_lines(self) -> list[str]:
        """The section of manifest changes since the release (rule MCP014): each change with
        its field diff; empty when no server has a pin that differs."""
        lines = []
        for r in self.results:
            for c in r.changes:
                lines.append(f"{c.severity:<8} {r.server}: {c.message} [{c.where}]")
                lines += [f"           {d}" for d in c.diff.splitlines()]
        since = f" since {self.against}" if self.against else ""
        return [f"manifest changes{since} (MCP014):", *lines] if lines else []

    def __str__(self) -> str:
        head = f"{self.target or self.client}: {self.summary()}"
        return "\n".join(
            [
                head,
                *(str(r) for r in self.results),
                *self.poisoning_lines(),
                *self.change_lines(),
            ]
        )

    def __repr__(self) -> str:
        good = sum(1 for r in self.results if r.ok)
        verdict = "ok" if self.ok else "FAILED"
        answered = f"{good} of {plural(len(self.results), 'server')} answered"
        return f"<ProbeReport {self.target or self.client}: {verdict}: {answered}>"

    def _repr_html_(self) -> str:
        def render() -> str:
            good = sum(1 for r in self.results if r.ok)
            line = f"{good} of {plural(len(self.results), 'server')} answered"
            if self.sign_in:
                line += f", {len(self.sign_in)} {NEEDS_SIGN_IN}"
            if self.skipped:
                line += f" ({len(self.skipped)} disabled, not started)"
            rows = [
                (
                    r.server,
                    badge("ok")
                    if r.ok
                    else badge("warning", NEEDS_SIGN_IN)
                    if r.needs_sign_in
                    else badge("error", "FAILED"),
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
            head = page(
                f"{status(self.ok, 'ok' if self.ok else 'FAILED')}: {escape(line)}"
                f" <i>{escape(self.target or self.client)}</i>"
            )
            return (
                head
                + html_table(
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
                + self._changes_html()
            )

        return safe_html(render, self)

    def _changes_html(self) -> str:
        """Under the table: each server whose manifest changed since the release, with the
        first few changes (empty when none did)."""
        out = []
        for r in self.results:
            changes = r.changes
            if not changes:
                continue
            items = "".join(
                f"<li style='text-align:left'>"
                f"{badge('warning' if c.severity == 'warning' else 'error', c.severity)} "
                f"{escape(c.message)} <code>[{escape(c.where)}]</code>"
                + (diff_html(c.diff, limit=60) if c.diff else "")
                + "</li>"
                for c in changes[:5]
            )
            more = f"<li>… {len(changes) - 5} more</li>" if len(changes) > 5 else ""
            out.append(
                page(
                    f"<b>{escape(r.server)}</b>: manifest changed since the release: "
                    f"{escape(plural(len(changes), 'change'))}<ul>{items}{more}</ul>"
                )
            )
        return "".join(out)
