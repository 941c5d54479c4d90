"""What a check runs on and how: ``[tool.mcp-orch]`` settings and check targets.

    >>> from mcp_orch.services.validation.settings import load_settings
    >>> settings = load_settings()                 # the nearest pyproject.toml, or defaults
    >>> target = resolve_target("configs/claude_desktop_config.json")   # client from the path
    >>> report = check_target(target, levels=("static",), ignore=["MCP009"])
    >>> target = resolve_target("draft:cursor/default", workspace=ws)

Settings live in the nearest ``pyproject.toml`` (searched upwards from the current folder)::

    [tool.mcp-orch]
    select = ["MCP0"]                  # rule codes, code prefixes or rule names (default: all)
    ignore = ["MCP009"]                # skipped even when selected
    levels = ["static", "environment"] # any of static, environment, live (probe)
    configs = ["configs/*.json"]       # what `mcp-orch check` checks when given no PATH
    [tool.mcp-orch.clients]            # the client of files whose name says too little
    "configs/team-mcp.json" = "cursor"

A target is a client config file (its client detected from its path: file name and parent
folders, matched against every client's config paths; the file's top-level key breaks ties),
``draft:CLIENT/PROFILE`` or ``artifact:ID``.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp_orch.core.errors import ParseError, UsageError
from mcp_orch.domain.clients import get_client
from mcp_orch.services.validation.rules import check_codes

if TYPE_CHECKING:
    pass

#: Levels in the order they build on each other. ``live`` is the probe (see mcp_orch.services.probe).
LEVELS: tuple[str, ...] = ("static", "environment", "live")
DEFAULT_LEVELS: tuple[str, ...] = ("static", "environment")

_KEYS = ("select", "ignore", "levels", "level", "configs", "clients")


def levels_up_to(level: str) -> tuple[str, ...]:
    """``--level environment`` means static and environment; ``live`` adds the probe."""
    if level not in LEVELS:
        raise UsageError(f"unknown level {level!r}", f"use one of: {', '.join(LEVELS)}")
    return LEVELS[: LEVELS.index(level) + 1]


def split_codes(values: Any) -> list[str]:
    """Codes from repeated and/or comma-separated options (``--select MCP001,MCP003``)."""
    out: list[str] = []
    for value in [values] if isinstance(values, str) else list(values or ()):
        out += [v.strip() for v in str(value).split(",") if v.strip()]
    return out


# ---- settings --------------------------------------------------------------------------------


@dataclass
class Settings:
    """``[tool.mcp-orch]`` of a pyproject.toml (or the defaults when there is none)."""

    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    levels: tuple[str, ...] = DEFAULT_LEVELS
    configs: list[str] = field(default_factory=list)
    clients: dict[str, str] = field(default_factory=dict)  # glob (relative to root) -> client
    path: Path | None = None  # the pyproject.toml the settings came from

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def client_for(self, file: Path) -> str | None:
        """The client the ``clients`` table names for ``file``, if any."""
        try:
            rel = file.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            rel = file.as_posix()
        for pattern, client in self.clients.items():
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(file.name, pattern):
                return client
        return None

    def config_files(self) -> list[str]:
        """The ``configs`` globs expanded against the project root (sorted, existing files)."""
        out: list[str] = []
        for pattern in self.configs:
            matches = sorted(self.root.glob(pattern)) if any(c in pattern for c in "*?[") else []
            out += [_nice(m) for m in matches] if matches else [_nice(self.root / pattern)]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "select": self.select,
            "ignore": self.ignore,
            "levels": list(self.levels),
            "configs": self.configs,
            "clients": self.clients,
            "path": str(self.path) if self.path else None,
        }


def _nice(path: Path) -> str:
    """``path`` relative to the current folder when it is below it (shorter in reports)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def find_pyproject(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` (default: the current folder)."""
    here = Path(start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    start: str | os.PathLike[str] | None = None, *, pyproject: str | os.PathLike[str] | None = None
) -> Settings:
    """Settings from ``[tool.mcp-orch]`` of the nearest pyproject.toml (defaults without one)."""
    import tomllib

    path = Path(pyproject) if pyproject else find_pyproject(start)
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ParseError(f"{path} cannot be read: {exc}", "fix the TOML and try again") from None
    table = data.get("tool", {}).get("mcp-orch")
    if not isinstance(table, dict):
        return Settings(path=path)
    where = f"{path} [tool.mcp-orch]"
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}", f"known keys: {', '.join(_KEYS)}")
    settings = Settings(path=path)
    if "select" in table:
        settings.select = check_codes(split_codes(_strings(table["select"], where)), where)
    if "ignore" in table:
        settings.ignore = check_codes(split_codes(_strings(table["ignore"], where)), where)
    if "levels" in table or "level" in table:
        raw = table.get("levels", table.get("level"))
        if isinstance(raw, str):
            settings.levels = levels_up_to(raw)
        else:
            levels = _strings(raw, where)
            for level in levels:
                levels_up_to(level)  # raises on an unknown name
            settings.levels = tuple(lv for lv in LEVELS if lv in levels)
    if "configs" in table:
        settings.configs = _strings(table["configs"], where)
    if "clients" in table:
        clients = table["clients"]
        if not isinstance(clients, dict):
            raise UsageError(f"{where}: clients must be a table", 'write "path/glob" = "client-id"')
        for client in clients.values():
            get_client(str(client))
        settings.clients = {str(k): str(v) for k, v in clients.items()}
    return settings


def _strings(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: expected a list of strings, got {value!r}", 'e.g. ["MCP009"]')
    return list(value)
