"""Scale part ``backups``: 60 deploys of a 1.28 MB client file, with and without retention.

Two workspaces deploy into their own copy of one 1.28 MB VS Code ``mcp.json`` (3,000 servers
the profile does not manage, one managed entry that changes every round, so every deploy takes
a backup), in turn: one with the default retention (``keep_backups`` 20), one that keeps every
backup (``keep_backups`` 0: the behaviour before retention). Rows: the backups on disk after 60
deploys (count and bytes) against keep-all, whether the prunes were audited and ``verify``
passes, the time per deploy with pruning against without (deploys 21-60, when each deploy
prunes one backup), and one ``backups prune`` of the keep-all workspace down to 20.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import _scale

ROUNDS = 60
KEEP = 20
FILE_BYTES = 1_280_000


def _client_file(path: Path) -> int:
    """A VS Code ``mcp.json`` of ~1.28 MB (indented, as VS Code writes it)."""
    servers = {}
    i = 0
    while True:
        servers[f"server-{i:05d}"] = {
            "type": "stdio",
            "command": "npx",
            "args": ["-y", f"@example/server-{i:05d}@1.{i % 17}.{i % 5}"],
            "env": {"LOG_LEVEL": "info"},
        }
        i += 1
        if i % 100 == 0:
            text = json.dumps({"servers": servers}, indent=2) + "\n"
            if len(text.encode()) >= FILE_BYTES:
                break
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return len(text.encode())


def _backup_bytes(ws_path: Path) -> tuple[int, int, int]:
    """(backups, bytes on disk under backups/, of which the copies: the rest is their .source
    files, each with the deployment record it restores)."""
    files = [p for p in (ws_path / "backups").rglob("*") if p.is_file()]
    copies = sum(p.stat().st_size for p in files if p.suffix != ".source")
    return sum(p.suffix == ".source" for p in files), sum(p.stat().st_size for p in files), copies


def rows(ctx: _scale.Context) -> list[_scale.Row]:
    import mcp_orch as mo

    size = 0
    profiles: dict[str, mo.Profile] = {}
    for name, keep in (("retention", KEEP), ("keep-all", 0)):
        root = ctx.tmp / f"root-backups-{name}"
        ws = mo.Workspace(ctx.tmp / f"ws-backups-{name}", client_root=root)
        profile = ws.profile("vscode")
        size = _client_file(profile.config_path())
        profile.configure(keep_backups=keep)
        profiles[name] = profile
    print(f"   client file {size / 1e6:.2f} MB, {ROUNDS} deploys into each workspace")

    state = {"round": 0}

    def publish(profile: mo.Profile) -> None:
        profile.draft.clear()
        entry = {"type": "stdio", "command": "npx", "args": ["-y", f"pkg@1.0.{state['round']}"]}
        profile.draft.add_entry("managed", entry)
        profile.draft.publish(changelog=f"round {state['round']}")

    def deploy(profile: mo.Profile) -> None:
        latest = profile.latest()
        assert latest is not None
        latest.deploy()

    # the prune step itself, timed where the deploy calls it
    import mcp_orch.facade.artifact as artifact_module

    real_prune = artifact_module.auto_prune
    prune_times: list[float] = []

    def timed_prune(profile: Any, keep: int) -> Any:
        start = time.perf_counter()
        try:
            return real_prune(profile, keep)
        finally:
            if keep:
                prune_times.append(time.perf_counter() - start)

    artifact_module.auto_prune = timed_prune  # type: ignore[assignment]
    times: dict[str, list[float]] = {name: [] for name in profiles}
    for r in range(ROUNDS):
        state["round"] = r
        got = _scale.interleave(
            {
                name: (lambda p=p: publish(p), lambda p=p: deploy(p))  # type: ignore[misc]
                for name, p in profiles.items()
            },
            1,
        )
        for name, t in got.items():
            times[name] += t
    artifact_module.auto_prune = real_prune  # type: ignore[assignment]

    kept, kept_bytes, copy_bytes = _backup_bytes(profiles["retention"].workspace.path)
    all_count, all_bytes, _ = _backup_bytes(profiles["keep-all"].workspace.path)
    ws = profiles["retention"].workspace
    prunes = [e for e in ws.audit.events() if e["action"] == "prune"]
    removed = sum(len(e["details"]["removed"]) for e in prunes)
    verified = ws.verify().ok
    newest = [b["backup"] for b in profiles["retention"].backups()]
    deploys = [e for e in ws.audit.events() if e["action"] == "deploy"]
    expected = [e["details"]["backup"] for e in reversed(deploys)][:KEEP]
    ideal = KEEP * size
    met = (
        kept == KEEP
        and newest == expected
        and abs(copy_bytes - ideal) <= 0.02 * ideal
        and removed == ROUNDS - KEEP
        and verified
    )
    out = [
        _scale.Row(
            f"backups after {ROUNDS} deploys of a {size / 1e6:.2f} MB file",
            f"{kept} kept, {_scale.mb(kept_bytes)}",
            f"keep all: {all_count}, {_scale.mb(all_bytes)}",
            f"newest {KEEP} kept, ~{KEEP} x file ({_scale.mb(ideal)}), audited",
            met,
            [
                f"{len(prunes)} prune events removed {removed} backups; the newest {KEEP} "
                f"kept: {newest == expected}; verify ok: {verified}",
                f"copies {_scale.mb(copy_bytes)} (goal: within 2 % of {KEEP} x file), their "
                f".source files {(kept_bytes - copy_bytes) / 1e6:.1f} MB (each holds the "
                "deployment record it restores, which lists every unmanaged entry name)",
            ],
        )
    ]

    with_prune = times["retention"][KEEP:]
    without = times["keep-all"][KEEP:]
    a, b = _scale.median(with_prune), _scale.median(without)
    out.append(
        _scale.Row(
            f"deploy of the {size / 1e6:.2f} MB file, pruning one backup (deploys {KEEP + 1}-"
            f"{ROUNDS})",
            _scale.ms(a),
            f"keep all: {_scale.ms(b)}",
            "the cost of pruning, shown",
            None,
            [
                f"median, interleaved; {_scale.ratio(a, b)} of a deploy that prunes nothing; "
                f"the prune step itself: median {_scale.ms(_scale.median(prune_times[KEEP:]))} "
                f"(list, hash the removed copy, an fsync'd audit event, two unlinks), "
                f"{_scale.ms(_scale.median(prune_times[: KEEP - 1] or [0.0]))} while under "
                f"{KEEP} (one directory listing)"
            ],
        )
    )

    keep_all = profiles["keep-all"]
    start = time.perf_counter()
    result = keep_all.prune_backups(keep=KEEP)
    took = time.perf_counter() - start
    left, left_bytes, _ = _backup_bytes(keep_all.workspace.path)
    out.append(
        _scale.Row(
            f"backups prune --keep {KEEP} of the keep-all workspace",
            f"{_scale.ms(took)}, freed {_scale.mb(result['bytes_freed'])}",
            f"{left} left, {_scale.mb(left_bytes)}",
            "-",
            None,
            [f"removed {len(result['removed'])}; verify ok: {keep_all.workspace.verify().ok}"],
        )
    )
    return out
