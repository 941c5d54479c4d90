"""Live probe: start each configured server the way its client would and talk MCP to it.

    >>> from mcp_orch import probe                     # the facade: coerces paths and specs
    >>> report = probe(ws.profile("claude-desktop").draft)           # or an Artifact
    >>> report = probe("~/.cursor/mcp.json", jobs=4, timeout=20)      # or a client config file
    >>> report.ok, report["time"].tools
    (True, ['get_current_time', 'convert_time'])
    >>> report.frame()            # polars: server, ok, protocol_version, ..., latency_ms, error

For every server: a stdio server is started with its command, args and env (over the MCP SDK's
default environment, as the reference clients do), in a new process group; a remote server is
reached over streamable HTTP or SSE with its headers. ``${env:NAME}`` references (and the
client's own placeholders) are resolved from this environment; a missing one fails that server
without starting it. Then the MCP handshake (the SDK client's ``auto`` mode: ``server/discover``,
falling back to ``initialize``), ``tools/list``, ``resources/list`` and ``prompts/list``.

Times: ``startup_ms`` is launch to handshake done, ``first_response_ms`` the round trip of the
first request after it (``tools/list``), ``latency_ms`` their sum: how long a user waits for a
usable server. Stopping: stdin closed, a short grace period, then the whole process group is
terminated (SIGTERM, then SIGKILL); on a timeout the group is killed at once. Servers are probed
concurrently (``jobs`` at a time), each within ``timeout`` seconds. Nothing a server prints
reaches the report unmasked: known token formats and the resolved secret values are redacted.
"""

from __future__ import annotations

from typing import Any

from mcp_orch.core.errors import NotFound
from mcp_orch.domain.clients import get_client
from mcp_orch.domain.clients.payload import ServerSet
from mcp_orch.services.probe.launch import Launch, is_disabled, launch_for
from mcp_orch.services.probe.progress import progress_bar
from mcp_orch.services.probe.report import ProbeReport, ServerProbe
from mcp_orch.services.probe.run import DEFAULT_JOBS, DEFAULT_TIMEOUT, aprobe_launches

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_TIMEOUT",
    "Launch",
    "ProbeReport",
    "ServerProbe",
    "aprobe_launches",
    "aprobe_set",
    "is_disabled",
    "launch_for",
    "probe_set",
]


async def aprobe_set(
    source: ServerSet,
    *,
    servers: list[str] | None = None,
    jobs: int = DEFAULT_JOBS,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    mode: str = "auto",
    inherit_env: bool = False,
) -> ProbeReport:
    """:func:`probe_set` for code that already runs an event loop."""
    spec = get_client(source.client_id)
    entries = {n.rstrip(): e for n, e in source.servers.items()}
    label = source.label
    if servers is not None:
        unknown = [s for s in servers if s not in entries]
        if unknown:
            raise NotFound(
                f"no server {unknown[0]!r} in {label}",
                f"servers: {', '.join(entries) or '(none)'}",
            )
        entries = {n: e for n, e in entries.items() if n in servers}
        skipped: list[str] = []
    else:  # servers the client itself would not start are not started here either
        skipped = [n for n, e in entries.items() if is_disabled(spec, e)]
        entries = {n: e for n, e in entries.items() if n not in skipped}
    launches = [launch_for(spec, name, entry) for name, entry in entries.items()]
    bar = progress_bar(len(launches), label, progress)
    try:
        results = await aprobe_launches(
            launches,
            jobs=jobs,
            timeout=timeout,
            on_done=bar.advance,
            mode=mode,
            inherit_env=inherit_env,
        )
    finally:
        bar.close()
    return ProbeReport(results, target=label, client=spec.id, skipped=skipped)


def probe_set(source: ServerSet, **kwargs: Any) -> ProbeReport:
    """Probe every server (or ``servers``) of a server set; see :func:`aprobe_set` for options.
    Works inside a running event loop (a notebook) too: the probe then runs in a worker thread."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    import anyio  # loaded only when a probe runs

    async def main() -> ProbeReport:
        return await aprobe_set(source, **kwargs)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(main)
    # A loop already runs in this thread (Jupyter): run ours in a worker thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, main).result()
