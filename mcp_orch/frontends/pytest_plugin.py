"""pytest plugin: MCP client configs as test items, one per server and check level.

    pytest --mcp-config ~/.cursor/mcp.json --mcp-config configs/claude_desktop_config.json
    pytest --mcp-probe                       # also start every server (the live level)

or in the ini file (``pytest.ini``, ``[tool.pytest.ini_options]``, ...)::

    mcp_configs = configs/claude_desktop_config.json .vscode/mcp.json configs/*.json
    mcp_client = cursor        # only for files whose name does not say which client reads them

Each server of each file becomes a test item per level, with ids like
``claude_desktop_config.json::github::static`` and ``...::github::environment`` (and
``...::github::live`` with ``--mcp-probe``); findings about the whole file go to
``...::(config)::static``. A failure shows each failing rule's code, message, field and hint;
warnings become pytest warnings. Rule selection and levels come from ``[tool.mcp-orch]`` of the
nearest pyproject.toml (see :mod:`mcp_orch.services.validation.settings`).

The fixture ``mcp_orch_workspace`` gives a test its own temporary :class:`~mcp_orch.Workspace`
(and points ``MCP_ORCH_HOME`` / ``MCP_ORCH_CLIENT_ROOT`` at temporary folders), so tests never
touch the real workspace or the real client config files.

Registered through the ``pytest11`` entry point ``mcp_orch``; load it by hand with
``-p mcp_orch.frontends.pytest_plugin``. Importing it is cheap: mcp-orch itself loads when items run.
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr

    from mcp_orch.core.errors import MCPOrchError
    from mcp_orch.facade.workspace import Workspace
    from mcp_orch.services.probe import ProbeReport
    from mcp_orch.services.validation import ValidationReport
    from mcp_orch.services.validation.settings import Settings
    from mcp_orch.services.validation.targets import Target


class McpConfigWarning(UserWarning):
    """A warning-level finding about an MCP server config."""


class McpCheckFailed(Exception):
    """A check item failed: ``lines`` are what the report shows."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


# ---- options ---------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcp-orch", "MCP server configs (mcp-orch)")
    group.addoption(
        "--mcp-config",
        action="append",
        default=[],
        dest="mcp_config",
        metavar="PATH",
        help="Check this MCP client config file (repeatable; globs allowed).",
    )
    group.addoption(
        "--mcp-client",
        dest="mcp_client",
        default=None,
        metavar="CLIENT",
        help="Read the config files as this client's (default: detected from each path).",
    )
    group.addoption(
        "--mcp-probe",
        action="store_true",
        dest="mcp_probe",
        default=False,
        help="Also start each server and run the MCP handshake (live items).",
    )
    group.addoption(
        "--mcp-probe-timeout",
        type=float,
        dest="mcp_probe_timeout",
        default=None,
        metavar="SECONDS",
        help="Seconds each live probe may take (default 30).",
    )
    parser.addini(
        "mcp_configs",
        type="args",
        default=[],
        help="MCP client config files to check (relative to the ini file; globs allowed).",
    )
    parser.addini("mcp_client", type="string", default="", help="Client of the config files.")
    parser.addini("mcp_probe", type="bool", default=False, help="Add live (probe) items.")


_PATHS = pytest.StashKey[list[Path]]()


def _config_paths(config: pytest.Config) -> list[Path]:
    """The configured files (ini option and --mcp-config), resolved once per session."""
    if _PATHS not in config.stash:
        config.stash[_PATHS] = _find_config_paths(config)
    return config.stash[_PATHS]


def _find_config_paths(config: pytest.Config) -> list[Path]:
    base = config.inipath.parent if config.inipath else config.rootpath
    raw: list[tuple[Path, str]] = [(base, str(p)) for p in config.getini("mcp_configs")]
    raw += [(config.invocation_params.dir, p) for p in config.getoption("mcp_config") or []]
    out: list[Path] = []
    for folder, pattern in raw:
        pattern = os.path.expanduser(pattern)
        full = pattern if os.path.isabs(pattern) else str(folder / pattern)
        matches = sorted(glob.glob(full)) if glob.has_magic(full) else [full]
        for m in matches:
            path = Path(m).resolve()
            if path not in out:
                out.append(path)
    return out


def _probing(config: pytest.Config) -> bool:
    return bool(config.getoption("mcp_probe") or config.getini("mcp_probe"))


# ---- collection ------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> McpConfigFile | None:
    """A configured file inside the collected folders is collected where pytest finds it."""
    paths = _config_paths(parent.config)
    if paths and file_path.resolve() in paths:
        node: McpConfigFile = McpConfigFile.from_parent(parent, path=file_path)
        return node
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Configured files outside the collected folders are added here (before -k/-m select)."""
    paths = _config_paths(config)
    if not paths:
        return
    seen = {item.path.resolve() for item in items if isinstance(item, McpCheckItem)}
    for path in paths:
        if path in seen:
            continue
        node = McpConfigFile.from_parent(session, path=path)
        items.extend(session.genitems(node))


class McpConfigFile(pytest.File):
    """One client config file; checks it once and hands each item its share."""

    _target: Target | None = None
    _settings: Settings | None = None
    _report: ValidationReport | None = None
    _probe: ProbeReport | None = None
    _error: MCPOrchError | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            from mcp_orch.services.validation.settings import load_settings

            self._settings = load_settings(self.config.rootpath)
        return self._settings

    def levels(self) -> list[str]:
        levels = [lv for lv in self.settings().levels if lv != "live"]
        if _probing(self.config) or "live" in self.settings().levels:
            levels.append("live")
        return levels

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from mcp_orch.core.errors import MCPOrchError
        from mcp_orch.services.validation.suite import CONFIG_NODE
        from mcp_orch.services.validation.targets import resolve_target

        client = self.config.getoption("mcp_client") or self.config.getini("mcp_client") or None
        try:
            self._target = resolve_target(self.path, client=client, settings=self.settings())
        except MCPOrchError as exc:
            self._error = exc
        yield McpServer.from_parent(self, name=CONFIG_NODE, levels=["static"])
        if self._target is None:
            return
        for server in self._target.servers:
            yield McpServer.from_parent(self, name=server, levels=self.levels())

    def report(self) -> ValidationReport:
        from mcp_orch.services.validation.targets import check_target

        if self._report is None:
            assert self._target is not None
            settings = self.settings()
            self._report = check_target(
                self._target,
                select=settings.select,
                ignore=settings.ignore,
                levels=tuple(lv for lv in self.levels() if lv != "live"),
            )
        return self._report

    def probe_report(self) -> ProbeReport:
        from mcp_orch.services.probe import DEFAULT_TIMEOUT, probe_set

        if self._probe is None:
            assert self._target is not None
            timeout = self.config.getoption("mcp_probe_timeout") or DEFAULT_TIMEOUT
            # Probe, concurrently, the servers whose live items are selected (not -k'd away).
            selected = [
                item.server
                for item in self.session.items
                if isinstance(item, McpCheckItem) and item.name == "live" and item.file is self
            ]
            self._probe = probe_set(
                self._target, servers=selected or None, timeout=timeout, progress=False
            )
        return self._probe


class McpServer(pytest.Collector):
    """One server of a config file (or ``(config)`` for findings about the whole file)."""

    def __init__(self, *, levels: list[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.levels = levels

    def collect(self) -> Iterator[pytest.Item]:
        for level in self.levels:
            yield McpCheckItem.from_parent(self, name=level)


class McpCheckItem(pytest.Item):
    """The checks of one level for one server: ``file::server::level``."""

    @property
    def server(self) -> str:
        assert self.parent is not None
        return self.parent.name

    @property
    def file(self) -> McpConfigFile:
        node = self.getparent(McpConfigFile)
        assert node is not None
        return node

    def runtest(self) -> None:
        from mcp_orch.frontends.render import PYTEST, spelled_hint
        from mcp_orch.services.validation.suite import finding_lines, findings_at

        file = self.file
        if file._error is not None:
            exc = file._error
            hint = spelled_hint(exc, PYTEST)
            raise McpCheckFailed(
                [f"cannot check {self.path.name}: {exc.message}", f"  hint: {hint}"]
            )
        if self.name == "live":
            self._run_live(file)
            return
        mine = findings_at(file.report()).get((self.server, self.name), [])
        for f in mine:
            if f.severity != "error":
                self._warn(_finding_text(f, self))
        errors = [f for f in mine if f.severity == "error"]
        if errors:
            raise McpCheckFailed([line for f in errors for line in finding_lines(f)])

    def _run_live(self, file: McpConfigFile) -> None:
        result = file.probe_report()[self.server]
        for w in result.warnings:
            self._warn(f"{self.parent.nodeid if self.parent else self.server}: {w}")
        if not result.ok:
            lines = [f"PROBE live-probe: {result.error}", f"  hint: {result.hint}"]
            if result.target:
                lines.append(f"  server: {result.target}")
            if result.stderr.strip():
                tail = result.stderr.strip().splitlines()[-5:]
                lines += ["  stderr (last lines):", *("    " + ln for ln in tail)]
            raise McpCheckFailed(lines)

    def _warn(self, text: str) -> None:
        # Attributed to the config file, not to this module, in pytest's warnings summary.
        warnings.warn_explicit(McpConfigWarning(text), McpConfigWarning, str(self.path), 1)

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, McpCheckFailed):
            return "\n".join(excinfo.value.lines)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # The failure headline. The trailing space keeps it from being a suffix of the node id,
        # which pytest's verbose lines would otherwise print with each "." turned into "::".
        return self.path, None, self.nodeid + " "


def _finding_text(f: Any, item: McpCheckItem) -> str:
    at = f" [{f.field}]" if f.field else ""
    where = item.parent.nodeid if item.parent is not None else item.server
    return f"{where}: {f.code} {f.message}{at} (hint: {f.hint})"


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def mcp_orch_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A temporary mcp-orch workspace with its own client root (the stand-in for home).

    ``MCP_ORCH_HOME`` and ``MCP_ORCH_CLIENT_ROOT`` point at it for the test, so the CLI run in
    a subprocess uses it too.
    """
    from mcp_orch.facade.workspace import Workspace

    root = tmp_path / "mcp-orch-client-root"
    root.mkdir(exist_ok=True)
    path = tmp_path / "mcp-orch-workspace"
    monkeypatch.setenv("MCP_ORCH_HOME", str(path))
    monkeypatch.setenv("MCP_ORCH_CLIENT_ROOT", str(root))
    return Workspace(path, client_root=root)
