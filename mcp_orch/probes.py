"""Live probe: start each configured server the way its client would and talk MCP to it.

    >>> from mcp_orch.probes import probe
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

import asyncio
import atexit
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass, field
from html import escape
from typing import IO, TYPE_CHECKING, Any

from ._util import STYLE, html_table, safe_html
from .clients import (
    ClientSpec,
    env_refs,
    from_native,
    get_client,
    refs_from_placeholders,
    substitute_refs,
)
from .errors import NotFound, UsageError
from .secrets import redact
from .transport import unfilled

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "Launch",
    "ProbeReport",
    "ServerProbe",
    "aprobe",
    "aprobe_launches",
    "launch_for",
    "probe",
]

DEFAULT_TIMEOUT = 30.0
DEFAULT_JOBS = 4
_GRACE = 2.0  # seconds a server gets to exit after its stdin closes
_TERM_WAIT = 1.0  # seconds between SIGTERM and SIGKILL of the group
_STDERR_TAIL = 2000

# Process groups started by this process and not yet stopped: killed at exit, whatever happens.
_LIVE_GROUPS: set[int] = set()


@atexit.register
def _kill_leftovers() -> None:  # pragma: no cover - only runs when a probe was interrupted
    for pgid in list(_LIVE_GROUPS):
        _signal_group(pgid, getattr(signal, "SIGKILL", signal.SIGTERM))


# ---- results --------------------------------------------------------------------------------


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


# ---- how to start a server ---------------------------------------------------------------------


@dataclass
class Launch:
    """One server, ready to start: everything resolved, or the ``problem`` that prevents it."""

    server: str
    transport: str  # stdio, streamable-http or sse
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    problem: tuple[str, str] | None = None  # (error, hint)
    secrets: list[str] = field(default_factory=list)  # resolved values to mask in output

    def display(self) -> str:
        if self.transport == "stdio":
            text = " ".join([self.command, *self.args])
        else:
            text = f"{self.url} ({self.transport})"
        return redact(text, self.secrets)


def launch_for(
    spec: ClientSpec | str,
    name: str,
    entry: dict[str, Any],
    environ: dict[str, str] | None = None,
) -> Launch:
    """How ``spec``'s client would start the server ``name`` of its config (``entry`` native)."""
    spec = get_client(spec)
    environ = dict(os.environ) if environ is None else environ
    if not isinstance(entry, dict):
        return Launch(name, "?", problem=("the entry is not an object", "fix the config"))
    neutral = refs_from_placeholders(spec, from_native(spec, entry))
    transport = str(neutral.get("transport") or "stdio")
    refs = list(dict.fromkeys(env_refs(neutral)))
    missing = [r for r in refs if r not in environ]
    secrets = [environ[r] for r in refs if r in environ]
    resolved = substitute_refs(neutral, lambda var: environ.get(var, ""))
    launch = Launch(name, transport, secrets=secrets)
    if transport == "stdio":
        launch.command = str(resolved.get("command") or "")
        launch.args = [str(a) for a in resolved.get("args") or []]
        launch.env = {str(k): str(v) for k, v in (resolved.get("env") or {}).items()}
        cwd = entry.get("cwd")
        launch.cwd = os.path.expanduser(cwd) if isinstance(cwd, str) and cwd else None
        if not launch.command:
            launch.problem = ("the entry has no command", "add the command that starts the server")
    else:
        launch.url = str(resolved.get("url") or "")
        launch.headers = {str(k): str(v) for k, v in (resolved.get("headers") or {}).items()}
        if not launch.url:
            launch.problem = ("the entry has no url", "add the server's URL")
    if missing:
        first = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        launch.problem = (
            f"${{env:{first}}} is referenced but {first} is not set{more}; not started",
            f"export {first}=... before probing (the client needs it too)",
        )
    holes = unfilled([launch.command, launch.args, launch.url, launch.headers, launch.env])
    if holes and launch.problem is None:
        launch.problem = (
            f"placeholder {{{holes[0]}}} is not filled; not started",
            f"give it a value: --param {holes[0]}=VALUE when adding the server",
        )
    return launch


# ---- running one probe -----------------------------------------------------------------------


@dataclass
class _Run:
    """What the transport saw, for the error message."""

    deadline: float = 0.0
    pid: int | None = None
    returncode: int | None = None
    self_exit: int | None = None  # the exit code when the server ended before we stopped it
    eof: bool = False  # the server closed its stdout
    garbage: list[str] = field(default_factory=list)
    stderr: IO[bytes] | None = None
    http_status: int | None = None  # the first HTTP error status a remote server answered

    async def on_response(self, response: Any) -> None:
        if response.status_code >= 400 and self.http_status is None:
            self.http_status = response.status_code


def _signal_group(pgid: int, sig: int) -> bool:
    """Signal a process group; False once the group is gone."""
    if sys.platform == "win32":  # pragma: no cover
        import subprocess

        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(pgid)], capture_output=True, check=False
        )
        return False
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _group_alive(pgid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Members that are zombies (exited, not yet reaped by their new parent) still count for
    # killpg; they are harmless, so look for a live one where /proc allows it.
    return _live_member(pgid)


def _live_member(pgid: int) -> bool:
    proc = "/proc"
    if not os.path.isdir(proc):
        return True
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/stat", encoding="utf-8", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


async def _wait_exit(process: Any, seconds: float) -> bool:
    import anyio

    deadline = anyio.current_time() + seconds
    while process.returncode is None:
        if anyio.current_time() >= deadline:
            return False
        await anyio.sleep(0.01)
    return True


async def _stop(process: Any, run: _Run, *, graceful: bool) -> None:
    """Close stdin, wait a little, then make sure nothing of the process group is left."""
    import anyio

    if run.eof:  # it closed stdout: most likely it exited; let the loop see the exit code
        await _wait_exit(process, 0.5)
    run.self_exit = process.returncode
    if graceful:
        with contextlib.suppress(Exception):
            await process.stdin.aclose()
        await _wait_exit(process, _GRACE)
    pgid = process.pid
    if _signal_group(pgid, signal.SIGTERM):
        deadline = anyio.current_time() + _TERM_WAIT
        while _group_alive(pgid) and anyio.current_time() < deadline:
            await anyio.sleep(0.02)
        if _group_alive(pgid):
            _signal_group(pgid, getattr(signal, "SIGKILL", signal.SIGTERM))
    await _wait_exit(process, 2.0)
    _LIVE_GROUPS.discard(pgid)
    run.returncode = process.returncode
    # A process that left the group (daemonised) may still hold the pipes: close our ends.
    for stream in (process.stdin, process.stdout):
        with contextlib.suppress(Exception):
            await stream.aclose()
    transport = getattr(getattr(process, "_process", None), "_transport", None)
    close = getattr(transport, "close", None)
    if callable(close):
        with contextlib.suppress(Exception):
            close()


@contextlib.asynccontextmanager
async def _stdio_transport(launch: Launch, run: _Run, inherit_env: bool) -> AsyncIterator[Any]:
    """Newline-delimited JSON-RPC over the pipes of a server in its own process group."""
    import anyio
    import mcp_types as types
    from anyio.streams.text import TextReceiveStream
    from mcp.client.stdio import get_default_environment
    from mcp.shared.message import SessionMessage

    env = dict(os.environ) if inherit_env else get_default_environment()
    env.update(launch.env)
    kwargs: dict[str, Any] = {}
    if sys.platform == "win32":  # pragma: no cover
        import subprocess

        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    process = await anyio.open_process(
        [launch.command, *launch.args],
        env=env,
        cwd=launch.cwd,
        stderr=run.stderr,
        **kwargs,
    )
    run.pid = process.pid
    _LIVE_GROUPS.add(process.pid)
    read_w, read_r = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    write_w, write_r = anyio.create_memory_object_stream[SessionMessage](0)

    async def reader() -> None:
        assert process.stdout is not None
        buffer = ""
        delivering = True
        try:
            async for chunk in TextReceiveStream(process.stdout, errors="replace"):
                lines = (buffer + chunk).split("\n")
                buffer = lines.pop()
                for line in lines:
                    if not delivering or not line.strip():
                        continue
                    try:
                        message = types.jsonrpc_message_adapter.validate_json(line, by_name=False)
                    except ValueError:
                        if len(run.garbage) < 3:
                            run.garbage.append(line.strip()[:160])
                        continue
                    try:
                        await read_w.send(SessionMessage(message))
                    except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                        delivering = False  # the session is gone: keep draining the pipe
            run.eof = True
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            await read_w.aclose()

    async def writer() -> None:
        assert process.stdin is not None
        try:
            async with write_r:
                async for item in write_r:
                    data = item.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await process.stdin.send((data + "\n").encode())
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            await read_w.aclose()

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        tg.start_soon(writer)
        try:
            yield read_r, write_w
        finally:
            with anyio.CancelScope(shield=True):
                timed_out = anyio.current_time() >= run.deadline
                await read_r.aclose()
                await write_w.aclose()
                await _stop(process, run, graceful=not timed_out)
            tg.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def _remote_transport(launch: Launch, run: _Run, timeout: float) -> AsyncIterator[Any]:
    import httpx2
    from mcp.shared._httpx_utils import create_mcp_http_client

    def make_client(
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        http = create_mcp_http_client(headers=headers, timeout=timeout, auth=auth)
        http.event_hooks["response"].append(run.on_response)  # remember HTTP error statuses
        return http

    if launch.transport == "sse":
        from mcp.client.sse import sse_client

        async with sse_client(
            launch.url,
            headers=launch.headers or None,
            timeout=timeout,
            sse_read_timeout=timeout,
            httpx_client_factory=make_client,
        ) as streams:
            yield streams
        return
    from mcp.client.streamable_http import streamable_http_client

    http = make_client(headers=launch.headers or None, timeout=httpx2.Timeout(timeout))
    async with http, streamable_http_client(launch.url, http_client=http) as streams:
        yield streams


async def _probe_one(
    launch: Launch, timeout: float, *, mode: str = "auto", inherit_env: bool = False
) -> ServerProbe:
    import anyio

    result = ServerProbe(launch.server, launch.transport, launch.display())
    if launch.problem:
        result.error, result.hint = launch.problem
        return result
    run = _Run(deadline=anyio.current_time() + timeout)
    with contextlib.ExitStack() as stack:
        if launch.transport == "stdio":  # the server's stderr, for the error message
            run.stderr = stack.enter_context(tempfile.TemporaryFile())
        await _attempt(launch, run, result, timeout, mode, inherit_env)
    if not result.ok and result.stderr and launch.transport == "stdio":
        last = [ln for ln in result.stderr.strip().splitlines() if ln.strip()]
        if last and last[-1] not in (result.error or ""):
            result.error = f"{result.error}; stderr: {last[-1][:200]}"
    return result


async def _attempt(
    launch: Launch, run: _Run, result: ServerProbe, timeout: float, mode: str, inherit_env: bool
) -> None:
    import anyio

    started = time.perf_counter()
    try:
        with anyio.move_on_after(timeout) as scope:
            try:
                await _session(launch, run, result, started, timeout, mode, inherit_env)
            except BaseException as exc:  # an ExceptionGroup from a task group, an OSError, ...
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                leaf = _leaf(exc)
                if leaf is None:
                    raise
                result.ok = False
                result.error, result.hint = _describe(leaf, launch, run)
        if scope.cancelled_caught:
            result.ok = False
            result.error, result.hint = _timeout_message(launch, run, timeout, result)
    finally:
        result.exit_code = run.returncode
        if run.stderr is not None:
            result.stderr = _tail(run.stderr, launch.secrets)


async def _session(
    launch: Launch,
    run: _Run,
    result: ServerProbe,
    started: float,
    timeout: float,
    mode: str,
    inherit_env: bool,
) -> None:
    from mcp import Client
    from mcp_types import Implementation

    from . import __version__

    transport: Any
    if launch.transport == "stdio":
        transport = _stdio_transport(launch, run, inherit_env)
    else:
        transport = _remote_transport(launch, run, timeout)
    client = Client(
        transport,
        mode=mode,
        client_info=Implementation(name="mcp-orch-probe", version=__version__),
        read_timeout_seconds=timeout,
        cache=None,
    )
    async with client as c:
        shook = time.perf_counter()
        result.startup_ms = (shook - started) * 1000
        result.protocol_version = c.protocol_version
        info = c.server_info
        if info is not None:
            result.server_name, result.server_version = info.name, info.version or None
        caps = c.server_capabilities
        first: float | None = None
        if caps.tools is not None:
            cursor: str | None = None
            for _ in range(50):
                t = time.perf_counter()
                page = await c.list_tools(cursor=cursor)
                first = first if first is not None else (time.perf_counter() - t) * 1000
                result.tools += [tool.name for tool in page.tools]
                cursor = page.next_cursor
                if not cursor:
                    break
        else:
            result.warnings.append("the server declares no tools")
        # A broken resources/prompts list is worth a warning, not a failed probe.
        if caps.resources is not None:
            t = time.perf_counter()
            try:
                resources = await c.list_resources()
                result.resources = [str(r.uri) for r in resources.resources]
                first = first if first is not None else (time.perf_counter() - t) * 1000
            except Exception as exc:
                result.warnings.append(f"resources/list failed: {_text(exc)}")
        if caps.prompts is not None:
            t = time.perf_counter()
            try:
                prompts = await c.list_prompts()
                result.prompts = [p.name for p in prompts.prompts]
                first = first if first is not None else (time.perf_counter() - t) * 1000
            except Exception as exc:
                result.warnings.append(f"prompts/list failed: {_text(exc)}")
        result.first_response_ms = first
        result.latency_ms = result.startup_ms + (first or 0.0)
        result.ok = True


def _leaf(exc: BaseException) -> BaseException | None:
    """The first real error inside (nested) exception groups; None if only cancellations."""
    import anyio

    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _leaf(inner)
            if found is not None:
                return found
        return None
    if isinstance(exc, anyio.get_cancelled_exc_class() | asyncio.CancelledError):
        return None
    return exc


def _text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _describe(exc: BaseException, launch: Launch, run: _Run) -> tuple[str, str]:
    """A message and a hint a user can act on."""
    secrets = launch.secrets
    if isinstance(exc, FileNotFoundError) and launch.transport == "stdio":
        if launch.cwd and not os.path.isdir(launch.cwd):
            return f"working folder {launch.cwd} does not exist", "fix the entry's cwd"
        cmd = launch.command
        install = {
            "npx": "install Node.js (https://nodejs.org), which provides npx",
            "uvx": "install uv (https://docs.astral.sh/uv/), which provides uvx",
            "docker": "install Docker (https://docs.docker.com/get-docker/)",
        }.get(cmd, f"install {cmd} or use an absolute path")
        return f"command {cmd!r} not found", install
    if isinstance(exc, PermissionError) and launch.transport == "stdio":
        return f"command {launch.command!r} cannot be run (permission denied)", "chmod +x it"
    if launch.transport == "stdio" and (run.self_exit is not None or run.garbage):
        return _stdio_failure(launch, run, _text(exc))
    name = type(exc).__name__
    if name in ("ConnectError", "ConnectTimeout"):
        return (
            f"cannot connect to {redact(launch.url, secrets)}: {redact(_text(exc), secrets)}",
            "is the server running, and the URL right?",
        )
    status = getattr(getattr(exc, "response", None), "status_code", None) or run.http_status
    if status is not None and launch.transport != "stdio":
        hint = (
            "check the credentials in the headers (Authorization)"
            if status in (401, 403)
            else "check the URL and the transport (streamable-http or sse)"
        )
        return f"HTTP {status} from {redact(launch.url, secrets)}", hint
    text = redact(_text(exc), secrets)
    if name == "MCPError":
        return f"MCP error during the handshake: {text}", "start the server by hand to see why"
    return f"{name}: {text}", "start the server by hand to see why"


def _stdio_failure(launch: Launch, run: _Run, detail: str) -> tuple[str, str]:
    if run.garbage:
        shown = redact(run.garbage[0], launch.secrets)
        return (
            f"the server wrote non-JSON-RPC output on stdout: {shown!r}",
            "stdout is reserved for MCP messages: the server must log to stderr",
        )
    if run.self_exit is not None:
        return (
            f"the server exited during start-up (exit code {run.self_exit})",
            "run the command by hand to see its error; check its arguments and env",
        )
    return f"the connection failed: {redact(detail, launch.secrets)}", "run the command by hand"


def _timeout_message(
    launch: Launch, run: _Run, timeout: float, result: ServerProbe
) -> tuple[str, str]:
    stage = "to the handshake" if result.startup_ms is None else "to tools/list"
    if launch.transport == "stdio" and run.garbage:
        message, hint = _stdio_failure(launch, run, "")
        return f"no answer {stage} within {timeout:g}s; {message}", hint
    return (
        f"no answer {stage} within {timeout:g}s (the process group was killed)"
        if launch.transport == "stdio"
        else f"no answer {stage} within {timeout:g}s",
        "raise --timeout for a slow first start (npx/uvx download packages), or run the "
        "command by hand to see where it hangs",
    )


def _tail(file: IO[bytes], secrets: list[str]) -> str:
    try:
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(max(0, size - _STDERR_TAIL))
        text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return redact(text, secrets)


# ---- many servers ------------------------------------------------------------------------------


async def aprobe_launches(
    launches: list[Launch],
    *,
    jobs: int = DEFAULT_JOBS,
    timeout: float = DEFAULT_TIMEOUT,
    on_done: Callable[[ServerProbe], None] | None = None,
    mode: str = "auto",
    inherit_env: bool = False,
) -> list[ServerProbe]:
    """Probe ``launches`` concurrently, at most ``jobs`` at a time; results in input order."""
    import anyio

    if jobs < 1:
        raise UsageError(f"jobs must be at least 1, got {jobs}", "use --jobs 1 or more")
    if timeout <= 0:
        raise UsageError(f"timeout must be positive, got {timeout}", "use --timeout 30")
    _preload()
    limiter = anyio.CapacityLimiter(jobs)
    results: list[ServerProbe | None] = [None] * len(launches)

    async def one(i: int, launch: Launch) -> None:
        async with limiter:
            res = await _probe_one(launch, timeout, mode=mode, inherit_env=inherit_env)
        results[i] = res
        if on_done is not None:
            on_done(res)

    async with anyio.create_task_group() as tg:
        for i, launch in enumerate(launches):
            tg.start_soon(one, i, launch)
    return [r for r in results if r is not None]


def _preload() -> None:
    """Import the SDK before any clock starts, so start-up times are the server's own."""
    import httpx2  # noqa: F401
    import mcp
    import mcp.client.sse
    import mcp.client.stdio
    import mcp.client.streamable_http  # noqa: F401
    from anyio.streams import text  # noqa: F401


def is_disabled(entry: dict[str, Any]) -> bool:
    """True when the client's own entry switches the server off (Cline, Kiro, Windsurf and Amp
    ``disabled``; Codex, Goose, OpenCode and Kilo ``enabled``; 5ire ``isActive``; Jan ``active``)."""
    return (
        entry.get("disabled") is True
        or entry.get("enabled") is False
        or entry.get("isActive") is False
        or entry.get("active") is False
    )


def _source(
    source: Any, client: str | None, workspace: Any
) -> tuple[ClientSpec, dict[str, dict[str, Any]], str]:
    """(client, name -> native entry, label) of a Draft, Artifact, Target, path or payload."""
    from .draft import Draft
    from .models import Artifact
    from .validation import server_map
    from .validation.config import Target, resolve_target

    if isinstance(source, Target):
        return source.client, source.servers, source.label
    kind = type(source).__name__
    if isinstance(source, Draft):
        return source.client, dict(source.servers), f"draft {source.profile.ref}"
    if isinstance(source, Artifact):
        spec = get_client(source.client)
        return spec, dict(source.servers), f"artifact {source.short_id}"
    if isinstance(source, dict):
        if not client:
            raise UsageError("probing a payload needs its client", "pass client='cursor' (say)")
        spec = get_client(client)
        return spec, {n.rstrip(): e for n, e in server_map(spec, source).items()}, spec.id
    if isinstance(source, str | os.PathLike):
        target = resolve_target(
            os.path.expanduser(os.fspath(source)), client=client, workspace=workspace
        )
        return target.client, target.servers, target.label
    raise UsageError(
        f"cannot probe a {kind}",
        "pass a Draft, an Artifact, a config file path, 'draft:CLIENT/PROFILE' or 'artifact:ID'",
    )


async def aprobe(
    source: Any,
    *,
    client: str | None = None,
    servers: list[str] | None = None,
    jobs: int = DEFAULT_JOBS,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    workspace: Any = None,
    mode: str = "auto",
    inherit_env: bool = False,
) -> ProbeReport:
    """:func:`probe` for code that already runs an event loop."""
    spec, entries, label = _source(source, client, workspace)
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
        skipped = [n for n, e in entries.items() if is_disabled(e)]
        entries = {n: e for n, e in entries.items() if n not in skipped}
    launches = [launch_for(spec, name, entry) for name, entry in entries.items()]
    bar = _progress_bar(len(launches), label, progress)
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


def probe(
    source: Any,
    *,
    client: str | None = None,
    servers: list[str] | None = None,
    jobs: int = DEFAULT_JOBS,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool | None = None,
    workspace: Any = None,
    mode: str = "auto",
    inherit_env: bool = False,
) -> ProbeReport:
    """Probe every server (or ``servers``) of a Draft, an Artifact, a client config file path
    (``client`` detected from the path unless given), ``"draft:CLIENT/PROFILE"``,
    ``"artifact:ID"`` or a payload dict (with ``client``).

    ``jobs`` servers run at a time, each within ``timeout`` seconds. ``progress``: None shows a
    bar for several servers when stderr is a terminal (or in a notebook with ipywidgets), True
    always, False never. ``inherit_env`` passes this whole environment to stdio servers instead
    of the SDK's short default list. Works inside a running event loop (a notebook) too.
    """
    kwargs: dict[str, Any] = {
        "client": client,
        "servers": servers,
        "jobs": jobs,
        "timeout": timeout,
        "progress": progress,
        "workspace": workspace,
        "mode": mode,
        "inherit_env": inherit_env,
    }
    import anyio

    async def main() -> ProbeReport:
        return await aprobe(source, **kwargs)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(main)
    # A loop already runs in this thread (Jupyter): run ours in a worker thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, main).result()


# ---- progress ----------------------------------------------------------------------------------


class _NoBar:
    def advance(self, result: ServerProbe) -> None:
        pass

    def close(self) -> None:
        pass


class _TerminalBar(_NoBar):
    """``probing [#####-----] 3/8 github ok`` redrawn in place on stderr."""

    def __init__(self, total: int, label: str, stream: Any) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.label, self.stream = label, stream
        self._draw("")

    def _draw(self, last: str) -> None:
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        failed = f", {self.failed} failed" if self.failed else ""
        line = f"\rprobing [{bar}] {self.done}/{self.total}{failed} {last}"[:120]
        self.stream.write(line.ljust(100))
        self.stream.flush()

    def advance(self, result: ServerProbe) -> None:
        self.done += 1
        self.failed += 0 if result.ok else 1
        self._draw(f"{result.server} {'ok' if result.ok else 'FAILED'}")

    def close(self) -> None:
        self.stream.write("\r" + " " * 100 + "\r")
        self.stream.flush()


class _WidgetBar(_NoBar):
    """An ipywidgets progress bar with a caption, shown in the notebook output."""

    def __init__(self, total: int, label: str) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.total, self.done, self.failed = total, 0, 0
        self.bar = widgets.IntProgress(value=0, min=0, max=max(total, 1), description="probing")
        self.caption = widgets.Label(value=f"0/{total} {label}")
        self.box = widgets.HBox([self.bar, self.caption])
        display(self.box)

    def advance(self, result: ServerProbe) -> None:
        self.done += 1
        self.failed += 0 if result.ok else 1
        self.bar.value = self.done
        failed = f", {self.failed} failed" if self.failed else ""
        self.caption.value = f"{self.done}/{self.total}{failed} (last: {result.server})"
        if self.failed:
            self.bar.bar_style = "danger"

    def close(self) -> None:
        if self.bar.bar_style != "danger":
            self.bar.bar_style = "success"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:
        return False
    return ip is not None and hasattr(ip, "kernel")


def _progress_bar(total: int, label: str, progress: bool | None) -> _NoBar:
    if progress is False or total == 0 or (progress is None and total < 2):
        return _NoBar()
    if _in_notebook():
        try:
            return _WidgetBar(total, label)
        except ImportError:
            pass
    stream = sys.stderr
    if progress or (stream is not None and hasattr(stream, "isatty") and stream.isatty()):
        return _TerminalBar(total, label, stream)
    return _NoBar()
