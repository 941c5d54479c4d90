"""Scale part ``files``: deploy into a big JSONC file, publish, and ``check`` of a big file.

    .venv/bin/python bench/scale.py --only files [--quick]

Three rows, each against a floor measured in the same run, interleaved:

1. deploy 20 servers into a hand-kept 5,000-server VS Code ``mcp.json`` (comments, trailing
   commas, ``inputs``, another top-level key: ``big_jsonc`` of bench_release.py), the file as
   the user left it restored (untimed) before each run. Floor: the naive deploy of the same
   content as plain JSON (read, ``json.loads``, add the 20 servers, ``json.dumps(indent=2)``,
   write a temp file, fsync, rename). Goal: <= 2x the floor.
2. ``Draft.publish()`` of a 20-server cursor draft whose content changes every run, after an
   untimed ``Draft.validate()`` of that content (the notebook chain
   ``draft.validate().publish()``). Floor: write + fsync + rename of the stored object's bytes.
   Goal: <= 5x the floor.
3. ``operations.checks.check`` of a 500-server Cursor ``mcp.json`` (in process), against
   ``json.load`` of the same file; the whole ``mcp-orch check FILE`` process is timed too
   (against ``python -c pass``), as a note. Goal: <= 60 ms in process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import _scale

DEPLOY_SERVERS = 5000
CHECK_SERVERS = 500


def big_jsonc(servers: int) -> str:
    """A VS Code mcp.json the user maintains by hand (as in bench_release.py)."""
    lines = [
        "// VS Code MCP servers, kept by hand",
        "{",
        '  /* prompts for secrets */ "inputs": [',
        '    {"type": "promptString", "id": "api-key", "description": "API key", '
        '"password": true},',
        "  ],",
        '  "servers": {',
    ]
    for i in range(servers):
        if i % 50 == 0:
            lines.append(f"    // ---- group {i // 50} ----")
        body = {
            "type": "stdio",
            "command": "uvx" if i % 2 else "npx",
            "args": [f"user-server-{i}", "--port", str(9000 + i)],
            "env": {"API_KEY": "${input:api-key}", "INDEX": str(i)},
        }
        pretty = json.dumps(body, indent=2).replace("\n", "\n    ")
        lines.append(f'    "user-{i:04d}": {pretty},  // server {i}')
    lines += ["  },", '  "other": {"keep": true}', "}", ""]
    return "\n".join(lines)


def entry(client: str, i: int, version: int = 0) -> dict[str, Any]:
    e: dict[str, Any] = {
        "command": "npx",
        "args": ["-y", f"@example/mcp-server-{i}@1.{version}.0", "--stdio"],
        "env": {"LOG_LEVEL": "info", "TOKEN": f"${{env:SERVER_{i}_TOKEN}}"},
    }
    if client == "vscode":
        e = {"type": "stdio", **e}
    return e


def _naive_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# ---- 1. deploy ---------------------------------------------------------------------------------


def deploy_row(ctx: _scale.Context, runs: int) -> _scale.Row:
    import mcp_orch as mo

    base = ctx.tmp / "files-deploy"
    ws = mo.Workspace(base / "ws", client_root=base / "root")
    profile = ws.profile("vscode")
    for i in range(20):
        profile.draft.add_entry(f"bench-{i:02d}", entry("vscode", i))
    artifact = profile.draft.publish(changelog="bench")
    target = profile.config_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    text = big_jsonc(DEPLOY_SERVERS)
    plain = json.dumps(_strip(text), indent=2) + "\n"
    naive = base / "naive" / "mcp.json"
    naive.parent.mkdir(parents=True)
    additions = {f"bench-{i:02d}": entry("vscode", i) for i in range(20)}

    def restore() -> None:
        target.write_text(text, encoding="utf-8")

    def deploy() -> None:
        dep = artifact.deploy()
        assert dep.changed

    def restore_naive() -> None:
        naive.write_text(plain, encoding="utf-8")

    def naive_deploy() -> None:
        data = json.loads(naive.read_text(encoding="utf-8"))
        data["servers"].update(additions)
        _naive_write(naive, json.dumps(data, indent=2) + "\n")

    restore()
    deploy()  # first-touch costs (locks, folders) out of the figures
    times = _scale.interleave(
        {"deploy": (restore, deploy), "naive": (restore_naive, naive_deploy)}, runs
    )
    got, floor = _scale.median(times["deploy"]), _scale.median(times["naive"])
    parses = _parse_count(restore, deploy, len(text))
    return _scale.Row(
        f"deploy 20 servers into a {DEPLOY_SERVERS:,}-server JSONC file",
        f"{_scale.ms(got)} ({_scale.ratio(got, floor)})",
        f"naive load+dump+fsync {_scale.ms(floor)}",
        "<= 2x the naive floor",
        got <= 2 * floor,
        [
            f"file {len(text.encode()) / 1e6:.2f} MB; {runs} runs interleaved; "
            f"the whole file is parsed {parses} time(s) per deploy"
        ],
    )


def _strip(text: str) -> Any:
    from mcp_orch.domain.clients import jsonc

    return jsonc.loads(text)


def _parse_count(setup: _scale.Op, op: _scale.Op, size: int) -> int:
    from mcp_orch.domain.clients import jsonc

    calls = [0]
    real = jsonc.parse

    def counting(text: str, *a: Any, **kw: Any) -> Any:
        calls[0] += len(text) > size // 2  # the whole file, not a changed part read back
        return real(text, *a, **kw)

    setup()
    jsonc.parse = counting  # type: ignore[assignment]
    try:
        op()
    finally:
        jsonc.parse = real  # type: ignore[assignment]
    return calls[0]


# ---- 2. publish --------------------------------------------------------------------------------


def publish_row(ctx: _scale.Context, runs: int) -> _scale.Row:
    import mcp_orch as mo

    base = ctx.tmp / "files-publish"
    ws = mo.Workspace(base / "ws", client_root=base / "root")
    draft = ws.profile("cursor").draft
    for i in range(20):
        draft.add_entry(f"bench-{i:02d}", entry("cursor", i))
    last = draft.publish(changelog="initial")  # the signing key is made here, untimed
    raw = ws.store.object_path(last.artifact_id).read_bytes()
    floor_path = base / "floor" / "object.json"
    floor_path.parent.mkdir(parents=True)
    state = {"version": 0}

    def bump_and_validate() -> None:
        state["version"] += 1
        draft.add_entry("bench-00", entry("cursor", 0, state["version"]), replace=True)
        draft.validate()

    def publish() -> None:
        draft.publish(changelog=f"bump {state['version']}")

    def floor() -> None:
        _naive_write(floor_path, raw.decode())

    times = _scale.interleave(
        {"publish": (bump_and_validate, publish), "floor": (lambda: None, floor)}, runs
    )
    got, low = _scale.median(times["publish"]), _scale.median(times["floor"])
    counter = [0, 0]
    bump_and_validate()
    with _scale.fsync_counted(counter):
        publish()
    calls, together = counter
    waits = calls - together + (1 if together else 0)
    return _scale.Row(
        "publish of a 20-server draft (after validate)",
        f"{_scale.ms(got)} ({_scale.ratio(got, low)})",
        f"write+fsync+rename {_scale.ms(low)}",
        "<= 5x the floor",
        got <= 5 * low,
        [
            f"{runs} runs interleaved; {calls} fsync calls per publish, {together} of them "
            f"together in parallel threads: {waits} waits in a row (the floor: 1)"
        ],
    )


# ---- 3. check ----------------------------------------------------------------------------------


def check_file(path: Path, servers: int) -> None:
    data = {
        "mcpServers": {
            f"server-{i:03d}": (
                {
                    "command": "npx" if i % 3 else "uvx",
                    "args": ["-y", f"@example/mcp-server-{i}@1.{i % 7}.0", "--stdio"],
                    "env": {"LOG_LEVEL": "info", "TOKEN": f"${{env:SERVER_{i}_TOKEN}}"},
                }
                if i % 5
                else {"url": f"https://mcp{i}.example.com/mcp", "headers": {"X-Index": str(i)}}
            )
            for i in range(servers)
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def check_row(ctx: _scale.Context, runs: int) -> _scale.Row:
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.operations.checks import check

    base = ctx.tmp / "files-check"
    path = base / "project" / ".cursor" / "mcp.json"
    check_file(path, CHECK_SERVERS)
    ws_path = base / "ws"

    def operation() -> None:
        result = check([str(path)], workspace=lambda: Workspace(ws_path))
        assert result.outcomes and result.outcomes[0].report is not None

    def load() -> None:
        with open(path, encoding="utf-8") as fh:
            json.load(fh)

    cwd = os.getcwd()
    os.chdir(base / "project")  # no pyproject settings of the checkout
    try:
        operation()  # imports (jsonschema, rules) out of the in-process figure
        times = _scale.interleave(
            {"check": (lambda: None, operation), "load": (lambda: None, load)}, runs
        )
        procs = _scale.interleave(
            {
                "process": (lambda: None, lambda: _scale.peak_rss(_scale.cli("check", str(path)))),
                "python": (lambda: None, lambda: _scale.peak_rss([sys.executable, "-c", "pass"])),
            },
            max(3, runs // 4),
        )
    finally:
        os.chdir(cwd)
    got, floor = _scale.median(times["check"]), _scale.median(times["load"])
    proc, bare = _scale.median(procs["process"]), _scale.median(procs["python"])
    return _scale.Row(
        f"check of a {CHECK_SERVERS}-server file (operation, in process)",
        _scale.ms(got),
        f"json.load {_scale.ms(floor)}",
        "<= 60 ms",
        got <= 0.060,
        [
            f"the whole `mcp-orch check FILE` process: {_scale.ms(proc)} "
            f"(python -c pass {_scale.ms(bare)}); {runs} runs interleaved"
        ],
    )


def rows(ctx: _scale.Context) -> list[_scale.Row]:
    deploy_runs, publish_runs, check_runs = (7, 15, 7) if ctx.quick else (21, 51, 21)
    out = []
    for name, make, runs in (
        ("deploy", deploy_row, deploy_runs),
        ("publish", publish_row, publish_runs),
        ("check", check_row, check_runs),
    ):
        t = time.perf_counter()
        out.append(make(ctx, runs))
        print(f"   {name}: {out[-1].value} ({time.perf_counter() - t:.0f} s)", flush=True)
    return out
