"""What a check runs on and how: ``[tool.mcp-orch]`` settings and check targets.

    >>> from mcp_orch.validation.config import load_settings, resolve_target, check_target
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
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any

from .._util import read_text_file
from ..clients import ClientSpec, config_path, from_native, get_client, list_clients
from ..errors import NotFound, UsageError
from .report import Finding, ValidationReport
from .rules import RULES, Context, Subject, run_rules

if TYPE_CHECKING:
    from ..draft import Draft
    from ..models import Artifact
    from ..workspace import Workspace

#: Levels in the order they build on each other. ``live`` is the probe (see mcp_orch.probes).
LEVELS: tuple[str, ...] = ("static", "environment", "live")
DEFAULT_LEVELS: tuple[str, ...] = ("static", "environment")
#: The pseudo rule that carries a failed live probe (select/ignore it like a rule).
PROBE_CODE = "PROBE"
PROBE_RULE = "live-probe"

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


def check_codes(codes: list[str], what: str) -> list[str]:
    """``codes`` if each names a rule (code, code prefix, or name); ``UsageError`` otherwise."""
    known = {r.code for r in RULES} | {r.name for r in RULES} | {PROBE_CODE, PROBE_RULE}
    for code in codes:
        if code in known or any(r.code.startswith(code) for r in RULES if code[:1].isalpha()):
            continue
        import difflib

        close = difflib.get_close_matches(code, sorted(known), n=3, cutoff=0.5)
        raise UsageError(
            f"{what}: unknown rule {code!r}",
            f"did you mean {', '.join(close)}?"
            if close
            else "see docs/reference/rules.md (codes MCP001..., or rule names)",
        )
    return codes


def wanted(code: str, name: str, select: list[str] | None, ignore: list[str] | None) -> bool:
    """The same select/ignore matching as :func:`run_rules`, for pseudo rules (the probe)."""
    keys = {code, name}
    if select and not any(k in keys or code.startswith(k) for k in select):
        return False
    return not (ignore and any(k in keys or code.startswith(k) for k in ignore))


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

    from ..errors import ParseError

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


# ---- which client reads a file --------------------------------------------------------------

#: File names a client also reads, beyond the one in its table row (see CLIENTS.md).
_EXTRA_PATTERNS: dict[str, tuple[str, ...]] = {
    "continue": (".continue/mcpServers/*.yaml", ".continue/mcpServers/*.yml"),
    "opencode": ("opencode.jsonc", ".opencode/opencode.json", ".opencode/opencode.jsonc"),
    "kilo-code": ("kilo.json", ".kilo/kilo.json", ".kilo/kilo.jsonc"),
    "claude-desktop": ("Claude/claude_desktop_config.json",),
}


def _patterns(spec: ClientSpec) -> list[tuple[str, ...]]:
    """Path parts (relative to the home or file-system root) of every file ``spec`` reads."""
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
    for extra in _EXTRA_PATTERNS.get(spec.id, ()):
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
            "pass --client (see `mcp-orch list-clients`)",
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
            "pass --client CLIENT (or map the file in [tool.mcp-orch.clients] of pyproject.toml)",
        )
    return best[0]


# ---- targets -------------------------------------------------------------------------------


@dataclass
class Target:
    """One thing to check: a client config file, a draft or an artifact."""

    label: str  # the path, draft:CLIENT/PROFILE or artifact:ID
    kind: str  # "file", "draft" or "artifact"
    client: ClientSpec
    payload: dict[str, Any]  # the whole file, or the draft's / artifact's payload
    detected: str = ""  # how the client was chosen: path, content, --client, pyproject
    path: Path | None = None
    draft: Draft | None = None
    artifact: Artifact | None = None

    @property
    def servers(self) -> dict[str, dict[str, Any]]:
        """name -> client-native entry."""
        from . import server_map

        return {n.rstrip(): e for n, e in server_map(self.client, self.payload).items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.label,
            "kind": self.kind,
            "client": self.client.id,
            "client_from": self.detected,
            "servers": list(self.servers),
        }


def resolve_target(
    spec: str | os.PathLike[str],
    *,
    client: str | None = None,
    workspace: Workspace | None = None,
    settings: Settings | None = None,
) -> Target:
    """A target from ``PATH``, ``draft:CLIENT/PROFILE`` or ``artifact:ID`` (prefix allowed)."""
    text = os.fspath(spec)
    if text.startswith("draft:"):
        c, _, p = text[len("draft:") :].partition("/")
        if not c:
            raise UsageError(
                f"{text}: no client", "write draft:CLIENT/PROFILE, e.g. draft:cursor/default"
            )
        ws = workspace if workspace is not None else _default_workspace()
        draft = ws.profile(c, p or "default").draft
        return Target(text, "draft", draft.client, draft.payload, "draft", draft=draft)
    if text.startswith("artifact:"):
        ws = workspace if workspace is not None else _default_workspace()
        art = ws.store.get(text[len("artifact:") :])
        art = art.bind(ws.profile(art.client, art.profile))
        art.verify()
        spec_ = get_client(art.client)
        return Target(text, "artifact", spec_, art.payload, "artifact", artifact=art)
    return read_target_file(Path(text), client=client, settings=settings)


def read_target_file(
    path: Path, *, client: str | None = None, settings: Settings | None = None
) -> Target:
    """A client config file as a target; the client from ``client``, settings, or the path."""
    from ..clients.dialects import read_config

    if path.is_dir():
        raise UsageError(
            f"{path} is a folder", "name the config files (or use check, which walks folders)"
        )
    try:
        text = read_text_file(path)
    except FileNotFoundError:
        raise NotFound(f"no such file: {path}", "check the path") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file", "check the path") from None
    mapped = settings.client_for(path) if settings else None
    if client:
        spec, how = get_client(client), "--client"
    elif mapped:
        spec, how = get_client(mapped), "pyproject"
    else:
        spec, how = None, "path"
    if spec is None:
        # Parse once with a JSON-ish reader only to break ties; the real parse follows below.
        data = _peek(path, text)
        spec = detect_client(path, data)
        scored = detect_candidates(path)
        if len([s for s, n in scored if n == scored[0][1]]) > 1:
            how = "path and content"
    data = read_config(spec, text, str(path))
    return Target(str(path), "file", spec, data, how, path=path)


def _peek(path: Path, text: str) -> dict[str, Any] | None:
    from ..clients import jsonc

    if path.suffix.lower() not in (".json", ".jsonc") or not text.strip():
        return None
    try:
        data = jsonc.loads(text, str(path))
    except Exception:
        return None
    return data if isinstance(data, dict) else None


def _default_workspace() -> Workspace:
    from ..workspace import Workspace

    return Workspace()


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


# ---- checking --------------------------------------------------------------------------------


def subjects_of(target: Target) -> list[Subject]:
    """The servers of a file or artifact as rule subjects (client placeholders read as refs)."""
    from ..clients import refs_from_placeholders

    spec = target.client
    out = []
    from . import server_map

    for name, entry in server_map(spec, target.payload).items():
        native = entry if isinstance(entry, dict) else {}
        neutral = refs_from_placeholders(spec, from_native(spec, native)) if native else {}
        out.append(Subject(name.rstrip(), native, neutral))
    return out


def rule_levels() -> dict[str, str]:
    """rule code -> level."""
    return {r.code: r.level for r in RULES}


def check_target(
    target: Target,
    *,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    levels: tuple[str, ...] = DEFAULT_LEVELS,
) -> ValidationReport:
    """The static and/or environment findings of a target (the live level is :mod:`..probes`)."""
    rule_lv = tuple(lv for lv in levels if lv != "live")
    pseudo = (PROBE_CODE, PROBE_RULE)
    rule_select = [k for k in select or [] if k not in pseudo]
    rule_ignore = [k for k in ignore or [] if k not in pseudo] or None
    if (select and not rule_select) or not rule_lv:  # only the probe was selected
        return ValidationReport([], client=target.client.id, target=target.label)
    select = rule_select or None
    ignore = rule_ignore
    if target.kind == "draft" and target.draft is not None:
        report = target.draft.check(select=select, ignore=ignore)
        by_code = rule_levels()
        findings = [f for f in report.findings if by_code.get(f.code, "static") in rule_lv]
        return ValidationReport(findings, client=report.client, target=target.label)
    ctx = Context(target.client, subjects_of(target), target.payload, check_path=True)
    findings = run_rules(ctx, select, ignore, rule_lv)
    return ValidationReport(findings, client=target.client.id, target=target.label)


def probe_findings(probe_report: Any) -> list[Finding]:
    """Failed probes of a :class:`~mcp_orch.probes.ProbeReport` as findings (code ``PROBE``)."""
    out = []
    for r in probe_report.results:
        if not r.ok:
            out.append(
                Finding(
                    PROBE_CODE,
                    PROBE_RULE,
                    "error",
                    r.server,
                    r.error or "the probe failed",
                    r.hint or "start the server by hand to see why",
                    "",
                )
            )
    return out
