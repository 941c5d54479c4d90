"""Which client reads a file: from its name and parent folders (and its top-level key on a tie).

>>> from mcp_orch.domain.clients.detect import detect_client, find_config_files
>>> detect_client("~/.cursor/mcp.json").id
'cursor'
>>> find_config_files(Path("configs"))         # files named like some client's config
>>> detect(client_root).installed()             # clients installed here, with server counts
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import MCPOrchError, UsageError
from mcp_orch.core.fs import read_text_file
from mcp_orch.core.markup import badge, html_table, safe_html
from mcp_orch.domain.clients import ClientSpec, config_path, list_clients
from mcp_orch.domain.clients.dialects import read_config
from mcp_orch.domain.clients.spec import server_map

if TYPE_CHECKING:
    import polars as pl


#: ``_patterns`` of the table's rows, keyed by client id and the value of the variable that
#: moves its home (``CODEX_HOME``...): under an explicit root nothing else of the environment
#: changes a pattern, and ``check`` asks for every client's patterns on every file.
_PATTERN_CACHE: dict[tuple[str, str | None], list[tuple[str, ...]]] = {}
_TABLE = {id(spec): spec for spec in list_clients()}


def _patterns(spec: ClientSpec) -> list[tuple[str, ...]]:
    """Path parts (relative to the home or file-system root) of every file ``spec`` reads."""
    if _TABLE.get(id(spec)) is not spec:  # a row built elsewhere (a test's variant): no cache
        return _compute_patterns(spec)
    key = (spec.id, os.environ.get(spec.home_env[0]) if spec.home_env else None)
    cached = _PATTERN_CACHE.get(key)
    if cached is None:
        cached = _PATTERN_CACHE[key] = _compute_patterns(spec)
    return list(cached)


def _compute_patterns(spec: ClientSpec) -> list[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for os_name in ("linux", "macos", "windows"):
        try:
            full = config_path(spec, root="/ROOT", target_os=os_name)
        except UsageError:
            continue
        parts = list(PurePath(full).parts)
        for prefix in (["/", "ROOT"], ["/", "Users", "user"], ["C:\\", "Users", "user"]):
            if parts[: len(prefix)] == prefix:
                parts = parts[len(prefix) :]
                break
        else:
            parts = [p for p in parts if p not in ("/", "C:\\")]
        out.add(tuple(parts))
    if spec.project_path:
        out.add(PurePosixPath(spec.project_path).parts)
    for extra in spec.extra_patterns:  # files it also reads, beyond its own (see CLIENTS.md)
        out.add(PurePosixPath(extra).parts)
    return sorted(out)


def _score(parts: tuple[str, ...], pattern: tuple[str, ...]) -> int:
    """How many trailing parts of a file path match a pattern (0: not even the file name)."""
    n = 0
    for have, want in zip(reversed(parts), reversed(pattern), strict=False):
        if not fnmatch.fnmatchcase(have.casefold(), want.casefold()):
            break
        n += 1
    return n


def detect_candidates(path: str | os.PathLike[str]) -> list[tuple[ClientSpec, int]]:
    """Clients that could read ``path``, best match first.

    The score counts matching trailing path parts; a pattern matched in full (``.mcp.json``
    for Claude Code) beats one matched in part (``.warp/.mcp.json`` for Warp).
    """
    parts = PurePath(os.path.abspath(path)).parts
    scored = []
    for spec in list_clients():
        best = 0
        for pattern in _patterns(spec):
            n = _score(parts, pattern)
            if n:
                best = max(best, n + (100 if n == len(pattern) else 0))
        if best:
            scored.append((spec, best))
    scored.sort(key=lambda item: -item[1])
    return scored


def detect_client(path: str | os.PathLike[str], data: dict[str, Any] | None = None) -> ClientSpec:
    """The client whose config file ``path`` is, from its name and parent folders.

    When several clients read files of that name (``mcp.json``, ``settings.json``), the one
    matching more parent folders wins; then the one whose top-level key is in ``data``.
    ``UsageError`` (naming the candidates) when that still leaves a choice: pass ``--client``.
    """
    scored = detect_candidates(path)
    if not scored:
        raise UsageError(
            f"cannot tell which client reads {path}: no client uses that file name",
            "name the client that reads it",
            inputs=("client",),
        )
    top = scored[0][1]
    best = [spec for spec, score in scored if score == top]
    if len(best) > 1 and isinstance(data, dict):
        keyed = [s for s in best if s.servers_key[0] in data]
        if keyed:
            best = keyed
    if len(best) > 1:
        names = ", ".join(s.id for s in best[:8]) + (" ..." if len(best) > 8 else "")
        raise UsageError(
            f"cannot tell which client reads {path}: it could be {names}",
            "name the client (or map the file in [tool.mcp-orch.clients] of pyproject.toml)",
            inputs=("client",),
        )
    return best[0]


def find_config_files(folder: Path) -> list[Path]:
    """Files under ``folder`` named like some client's config file (skips VCS and venvs)."""
    names: set[str] = set()
    for spec in list_clients():
        for pattern in _patterns(spec):
            names.add(pattern[-1].casefold())
    skip = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", ".tox", "__pycache__"}
    out: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(files):
            if any(fnmatch.fnmatchcase(name.casefold(), n) for n in names):
                out.append(Path(root) / name)
    return out


# ---- which clients are installed ----------------------------------------------------------


class Detection(list[dict[str, Any]]):
    """One row per client: installed?, its file, how many servers it holds."""

    def frame(self) -> pl.DataFrame:
        import polars as pl

        return pl.DataFrame(
            list(self),
            schema={
                "client": pl.String,
                "name": pl.String,
                "installed": pl.Boolean,
                "path": pl.String,
                "file_exists": pl.Boolean,
                "servers": pl.Int64,
                "error": pl.String,
            },
        )

    def installed(self) -> list[dict[str, Any]]:
        return [r for r in self if r["installed"]]

    def to_dict(self) -> list[dict[str, Any]]:
        return list(self)

    def _repr_html_(self) -> str:
        return safe_html(
            lambda: html_table(
                ["client", "installed", "servers", "path"],
                [
                    (
                        r["client"],
                        badge("ok", "installed") if r["installed"] else "-",
                        r["servers"],
                        r["path"],
                    )
                    for r in self
                ],
            ),
            self,
        )


def detect(
    client_root: str | os.PathLike[str] | None = None,
    *,
    project_dir: str | os.PathLike[str] | None = None,
) -> Detection:
    """Clients whose config file or app folder exists under the client root (or project)."""
    rows = Detection()
    for spec in list_clients():
        scopes: list[tuple[str, str | os.PathLike[str] | None]] = [("user", None)]
        if project_dir is not None and spec.project_path:
            scopes.append(("project", project_dir))
        for scope, pdir in scopes:
            path = Path(config_path(spec, root=client_root, scope=scope, project_dir=pdir))
            exists = path.is_file()
            app_dir = path.parent.is_dir() and path.parent != Path(client_root or Path.home())
            count, error = None, None
            if exists:
                try:
                    text = read_text_file(path)
                    count = len(server_map(spec, read_config(spec, text, str(path))))
                except MCPOrchError as exc:
                    error = exc.message
                except OSError as exc:
                    error = str(exc)
            if scope == "project" and not exists:
                continue
            rows.append(
                {
                    "client": spec.id,
                    "name": spec.name + (" (project)" if scope == "project" else ""),
                    "installed": exists or app_dir,
                    "path": str(path),
                    "file_exists": exists,
                    "servers": count,
                    "error": error,
                }
            )
    return rows
