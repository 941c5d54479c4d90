"""Running probes: process groups, stdio and remote transports, the MCP session, error text."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from mcp_orch.core import __version__
from mcp_orch.core.errors import UsageError
from mcp_orch.domain.secrets import redact
from mcp_orch.services.probe.launch import Launch
from mcp_orch.services.probe.manifest import build_manifest, manifest_digest
from mcp_orch.services.probe.report import ServerProbe

if TYPE_CHECKING:
    pass

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
    oauth: bool = False  # a 401 named OAuth metadata (RFC 9728 resource_metadata)

    async def on_response(self, response: Any) -> None:
        if response.status_code >= 400 and self.http_status is None:
            self.http_status = response.status_code
            challenge = response.headers.get("www-authenticate", "")
            self.oauth = response.status_code == 401 and "resource_metadata" in challenge.lower()


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
                result.needs_sign_in = _sign_in(launch, run)
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
        tools: list[Any] = []  # the SDK's Tool, Resource and Prompt objects, for the manifest
        resource_list: list[Any] = []
        prompt_list: list[Any] = []
        if caps.tools is not None:
            cursor: str | None = None
            for _ in range(50):
                t = time.perf_counter()
                page = await c.list_tools(cursor=cursor)
                first = first if first is not None else (time.perf_counter() - t) * 1000
                tools += page.tools
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
                resource_list = list(resources.resources)
                result.resources = [str(r.uri) for r in resources.resources]
                first = first if first is not None else (time.perf_counter() - t) * 1000
            except Exception as exc:
                result.warnings.append(f"resources/list failed: {_text(exc)}")
        if caps.prompts is not None:
            t = time.perf_counter()
            try:
                prompts = await c.list_prompts()
                prompt_list = list(prompts.prompts)
                result.prompts = [p.name for p in prompts.prompts]
                first = first if first is not None else (time.perf_counter() - t) * 1000
            except Exception as exc:
                result.warnings.append(f"prompts/list failed: {_text(exc)}")
        result.first_response_ms = first
        result.latency_ms = result.startup_ms + (first or 0.0)
        result.manifest = build_manifest(
            info, c.protocol_version, tools, prompt_list, resource_list
        )
        result.manifest_digest = manifest_digest(result.manifest)
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


def _sign_in(launch: Launch, run: _Run) -> bool:
    """A remote sent no Authorization header and answered 401 with OAuth metadata."""
    sent = {k.lower() for k in (launch.headers or {})}
    return run.oauth and launch.transport != "stdio" and "authorization" not in sent


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
    if _sign_in(launch, run):  # a sign-in, not wrong credentials
        return (
            f"needs sign-in (OAuth): {redact(launch.url, secrets)} answered 401 with OAuth "
            "metadata",
            "sign in from the client, which runs the OAuth flow (or give the server a token "
            "in a header, if it takes one)",
        )
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
        raise UsageError(
            f"jobs must be at least 1, got {jobs}", "probe 1 or more at a time", inputs=("jobs",)
        )
    if timeout <= 0:
        raise UsageError(
            f"timeout must be positive, got {timeout}",
            "give each server some seconds, e.g. 30",
            inputs=("timeout",),
        )
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
