"""Package pins: which registry package an entry runs, at which version, and how to write it.

    >>> from mcp_orch.domain.pins import package_of, pinned
    >>> package_of({"command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"]})
    PackageRef(registry='npm', name='@modelcontextprotocol/server-memory', spec=None, pin='floating', ...)
    >>> pinned("npm", "@modelcontextprotocol/server-memory", "2026.8.31", "exact")
    '@modelcontextprotocol/server-memory@2026.8.31'

An entry runs a registry package when its command is a package runner: ``npx`` / ``bunx`` /
``pnpx`` (npm), ``uvx`` / ``uv tool run`` / ``pipx run`` (PyPI), ``docker run`` / ``podman run``
(OCI) or ``dnx`` (NuGet). Its pin is ``exact`` (one version, or an OCI digest), ``range``
(``~1.2.3``, ``~=1.2.3``, ``>=1``, a partial version) or ``floating`` (no version, or a moving
tag such as ``latest``: the runner takes whatever is newest or cached). Git URLs, tarballs and
local paths are not registry packages and have no pin here.

The profile setting ``pin`` picks what :func:`pinned` writes: ``exact`` (the default,
``pkg@1.2.3``), ``minor`` (newer patches of the same minor: ``pkg@~1.2.3``, ``pkg~=1.2.3``) or
``floating`` (the bare name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

PinMode = Literal["exact", "minor", "floating"]
PIN_MODES: tuple[str, ...] = ("exact", "minor", "floating")
Registry = Literal["npm", "pypi", "oci", "nuget"]

#: The ``mcp-remote`` bridge mcp-orch writes for remotes a client cannot reach itself; the
#: acceptance suite runs exactly this version (tests/acceptance/requirements.txt).
MCP_REMOTE = "mcp-remote"
MCP_REMOTE_VERSION = "0.15.1"

_SEMVER = re.compile(r"v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_PEP440 = re.compile(r"\d+(?:\.\d+)*(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?")
_NPM_RANGE = re.compile(r"^[\^~<>=*xX| .\d-]+$|^\d+(\.\d+)?$|.*\.[xX*]")
_MOVING_TAGS = frozenset({"latest", "next", "canary", "beta", "alpha", "rc", "stable", "main"})


@dataclass(frozen=True)
class PackageRef:
    """One registry package an entry runs.

    ``spec`` is the version part as written (``1.2.3``, ``~1.2.3``, ``latest``) or None;
    ``version`` is the exact version when ``pin == "exact"``; ``digest`` an OCI
    ``sha256:...`` when the image is pinned by digest; ``arg`` the index in ``args`` of the
    argument that names the package (``-1`` when the command itself does, as for ``dnx``)."""

    registry: Registry
    name: str
    spec: str | None
    pin: Literal["exact", "range", "floating"]
    runner: str
    arg: int
    version: str | None = None
    digest: str | None = None

    @property
    def label(self) -> str:
        return f"{self.registry}:{self.name}" + (f"@{self.spec}" if self.spec else "")


# ---- reading a spec --------------------------------------------------------------------------


def split_npm(spec: str) -> tuple[str, str | None] | None:
    """``(name, version part)`` of an npm package spec; None for what is no registry package
    (a git URL, a tarball, a path, an ``npm:`` alias)."""
    if not spec or spec.startswith((".", "/", "~", "file:", "git", "http:", "https:", "npm:")):
        return None
    if "://" in spec or spec.endswith((".tgz", ".tar.gz")):
        return None
    if spec.startswith("@"):
        scope, _, rest = spec.partition("/")
        if not rest:
            return None
        name, at, version = rest.partition("@")
        return f"{scope}/{name}", (version if at else None)
    if "/" in spec:  # github shorthand (user/repo)
        return None
    name, at, version = spec.partition("@")
    return name, (version if at else None)


def npm_pin(version: str | None) -> Literal["exact", "range", "floating"]:
    if not version or version.lower() in _MOVING_TAGS:
        return "floating"
    if _SEMVER.fullmatch(version):
        return "exact"
    if _NPM_RANGE.match(version):
        return "range"
    return "floating"  # another dist-tag: it moves


_PEP508 = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def split_pypi(spec: str) -> tuple[str, str | None, str] | None:
    """``(name, version part, pin)`` of a uv / pip requirement (``name``, ``name@1.2``,
    ``name==1.2``, ``name~=1.2``, ``name[extra]>=1``); None for a URL or a path."""
    if not spec or "://" in spec or spec.startswith((".", "/", "~", "git+")):
        return None
    m = _PEP508.match(spec.strip())
    if not m:
        return None
    name, rest = m.group(1), m.group(3).strip()
    if not rest:
        return name, None, "floating"
    if rest.startswith("@"):  # uv's name@version (or @latest)
        version = rest[1:].strip()
        if version == "latest" or not version:
            return name, version or None, "floating"
        return name, version, "exact" if _PEP440.fullmatch(version) else "range"
    if rest.startswith("===") or (rest.startswith("==") and "*" not in rest and "," not in rest):
        version = rest.lstrip("=").strip()
        return name, rest, "exact" if _PEP440.fullmatch(version) else "range"
    return name, rest, "range"


def split_image(ref: str) -> tuple[str, str | None, str | None]:
    """``(repository, tag, digest)`` of an OCI image reference."""
    digest = None
    if "@" in ref:
        ref, _, digest = ref.partition("@")
    tag = None
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, _, tag = ref.rpartition(":")
    return ref, tag, digest


# ---- reading an entry ------------------------------------------------------------------------

_NPX_VALUE_FLAGS = frozenset({"-p", "--package", "-c", "--call", "--registry", "--cache"})
_UV_VALUE_FLAGS = frozenset(
    {
        "--from",
        "--with",
        "--with-editable",
        "--with-requirements",
        "-w",
        "--python",
        "-p",
        "--index",
        "--default-index",
        "--index-url",
        "-i",
        "--extra-index-url",
        "--find-links",
        "-f",
        "--constraint",
        "--constraints",
        "-c",
        "--override",
        "--overrides",
        "--build-constraint",
        "--build-constraints",
        "-b",
        "--index-strategy",
        "--keyring-provider",
        "--resolution",
        "--prerelease",
        "--exclude-newer",
        "--cache-dir",
        "--directory",
        "--project",
        "--config-file",
        "--color",
        "--env-file",
        "--spec",
        "--pip-args",
        "--allow-insecure-host",
    }
)
_DOCKER_VALUE_FLAGS = frozenset(
    {
        "-e",
        "--env",
        "--env-file",
        "-v",
        "--volume",
        "--mount",
        "--name",
        "--network",
        "--net",
        "-p",
        "--publish",
        "-w",
        "--workdir",
        "-u",
        "--user",
        "--entrypoint",
        "--platform",
        "--pull",
        "-l",
        "--label",
        "--add-host",
        "--cpus",
        "-m",
        "--memory",
        "-h",
        "--hostname",
        "--cap-add",
        "--cap-drop",
        "--device",
        "--dns",
        "--log-driver",
        "--restart",
        "--security-opt",
        "--tmpfs",
        "--ulimit",
        "--shm-size",
        "--ipc",
        "--pid",
        "--runtime",
        "--gpus",
        "--group-add",
        "--label-file",
        "--stop-signal",
        "--stop-timeout",
        "--cidfile",
        "--expose",
    }
)


def _first_positional(args: list[str], start: int, value_flags: frozenset[str]) -> int | None:
    i = start
    while i < len(args):
        a = args[i]
        if a == "--":
            return i + 1 if i + 1 < len(args) else None
        if a.startswith("-") and len(a) > 1:
            i += 1 if "=" in a or a not in value_flags else 2
            continue
        return i
    return None


def _flag_value(args: list[str], names: tuple[str, ...], stop: int) -> tuple[int, str] | None:
    for i, a in enumerate(args[:stop]):
        for n in names:
            if a == n and i + 1 < len(args):
                return i + 1, args[i + 1]
            if a.startswith(n + "="):
                return i, a[len(n) + 1 :]
    return None


def _base(command: str) -> str:
    name = re.split(r"[\\/]", command)[-1].lower()
    for suffix in (".cmd", ".exe", ".bat", ".ps1"):
        name = name.removesuffix(suffix)
    return name


def package_of(entry: dict[str, Any]) -> PackageRef | None:
    """The registry package a neutral or stdio-native entry runs (``command`` + ``args``), or
    None when it runs none (a local command, a git URL, a remote). Windows wrappers
    (``cmd /c npx ...``) are looked through."""
    command: Any = entry.get("command")
    args: Any = entry.get("args") or []
    if isinstance(command, list):  # a client that writes the command as one list
        extra = args if isinstance(args, list) else []
        command, args = (command[0] if command else None), [*command[1:], *extra]
    if not isinstance(command, str) or not isinstance(args, list):
        return None
    args = [str(a) for a in args]
    base = _base(command)
    offset = 0
    if base == "cmd" and len(args) >= 2 and args[0].lower() in ("/c", "/k"):
        base, args, offset = _base(args[1]), args[2:], 2
    ref = _package(base, args)
    if ref is not None and ("{" in ref.name or "}" in ref.name):
        return None  # an unfilled {placeholder}: rule MCP002's business, not a package
    if ref is None or not offset:
        return ref
    return PackageRef(**{**ref.__dict__, "arg": ref.arg + offset if ref.arg >= 0 else -1})


def _package(base: str, args: list[str]) -> PackageRef | None:
    if base in ("npx", "bunx", "pnpx") or (base in ("pnpm", "yarn") and args[:1] == ["dlx"]):
        start = 1 if base in ("pnpm", "yarn") else 0
        explicit = _flag_value(args, ("-p", "--package"), len(args))
        if explicit is not None:
            index, spec = explicit
        else:
            pos = _first_positional(args, start, _NPX_VALUE_FLAGS)
            if pos is None:
                return None
            index, spec = pos, args[pos]
        parts = split_npm(spec)
        if parts is None:
            return None
        name, version = parts
        pin = npm_pin(version)
        return PackageRef(
            "npm", name, version, pin, base, index, version if pin == "exact" else None
        )
    if base in ("uvx", "uv", "pipx"):
        start = 0
        if base == "uv":
            if args[:2] != ["tool", "run"]:
                return None
            start = 2
        elif base == "pipx":
            if args[:1] != ["run"]:
                return None
            start = 1
        pos = _first_positional(args, start, _UV_VALUE_FLAGS)
        explicit = _flag_value(args, ("--from", "--spec"), pos if pos is not None else len(args))
        if explicit is not None:
            index, spec = explicit
        elif pos is not None:
            index, spec = pos, args[pos]
        else:
            return None
        py = split_pypi(spec)
        if py is None:
            return None
        name, version, py_pin = py
        exact = None
        if py_pin == "exact" and version:
            exact = version.lstrip("=@").strip()
        return PackageRef("pypi", name, version, py_pin, base, index, exact)  # type: ignore[arg-type]
    if base in ("docker", "podman"):
        if args[:1] != ["run"]:
            return None
        pos = _first_positional(args, 1, _DOCKER_VALUE_FLAGS)
        if pos is None:
            return None
        repo, tag, digest = split_image(args[pos])
        if digest:
            return PackageRef("oci", repo, tag, "exact", base, pos, tag, digest)
        if not tag or tag == "latest":
            return PackageRef("oci", repo, tag, "floating", base, pos)
        return PackageRef("oci", repo, tag, "exact", base, pos, tag)
    if base == "dnx":
        pos = _first_positional(args, 0, frozenset({"--source", "--version"}))
        if pos is None:
            return None
        name, at, version = args[pos].partition("@")
        explicit = _flag_value(args, ("--version",), len(args))
        if not at and explicit is not None:
            version, at = explicit[1], "@"
        nuget_pin: Literal["exact", "range", "floating"] = (
            "exact" if at and _SEMVER.fullmatch(version) else ("range" if at else "floating")
        )
        return PackageRef(
            "nuget",
            name,
            version or None,
            nuget_pin,
            base,
            pos,
            version if nuget_pin == "exact" else None,
        )
    return None


# ---- writing a pin ---------------------------------------------------------------------------


def _minor_base(version: str) -> str:
    return version.lstrip("v")


def npm_spec(name: str, version: str | None, mode: str = "exact") -> str:
    """``name@1.2.3`` (exact), ``name@~1.2.3`` (minor) or ``name`` (floating, or no version)."""
    if not version or mode == "floating":
        return name
    return f"{name}@~{_minor_base(version)}" if mode == "minor" else f"{name}@{version}"


def pypi_args(name: str, version: str | None, mode: str = "exact") -> list[str]:
    """The uvx arguments that run ``name`` at the pinned version: ``name@1.2.3`` (exact),
    ``--from 'name~=1.2.3' name`` (minor) or ``name`` (floating)."""
    if not version or mode == "floating":
        return [name]
    if mode == "minor" and version.count(".") >= 1:
        return ["--from", f"{name}~={version}", name]
    return [f"{name}@{version}"]


def image_ref(identifier: str, version: str | None, mode: str = "exact") -> str:
    """An OCI reference by tag (the identifier's own, else ``version``), keeping a digest the
    identifier names; ``floating`` drops both."""
    repo, tag, digest = split_image(identifier)
    if mode == "floating":
        return repo
    tag = tag or version
    return repo + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def pinned(registry: str, name: str, version: str | None, mode: str = "exact") -> str:
    """The one-argument spec of a package at a pin (npm, NuGet ``name@version``; PyPI uv's
    ``name@version`` or, for ``minor``, ``name~=version``; OCI ``repo:tag``)."""
    if registry == "npm":
        return npm_spec(name, version, mode)
    if registry == "pypi":
        if not version or mode == "floating":
            return name
        return f"{name}~={version}" if mode == "minor" else f"{name}@{version}"
    if registry == "oci":
        return image_ref(name, version, mode)
    return name if not version or mode == "floating" else f"{name}@{version}"


def check_mode(mode: Any) -> str:
    """``mode`` if it is a pin mode; ``ValueError`` with the choices otherwise."""
    if mode not in PIN_MODES:
        raise ValueError(f"pin must be one of {', '.join(PIN_MODES)}, not {mode!r}")
    return str(mode)


def repin(entry: dict[str, Any], version: str, mode: str = "exact") -> dict[str, Any] | None:
    """A copy of a stdio entry with the package it runs set to ``version`` (written at
    ``mode``), or None when it runs no registry package. The rest of the entry is kept."""
    ref = package_of(entry)
    if ref is None:
        return None
    out = dict(entry)
    command = entry.get("command")
    if isinstance(command, list):
        return None  # written as one list: left to the user
    args = [str(a) for a in entry.get("args") or []]
    i = ref.arg
    if ref.registry == "npm":
        args[i] = npm_spec(ref.name, version, mode)
    elif ref.registry == "oci":
        repo, _tag, _digest = split_image(args[i])
        args[i] = image_ref(f"{repo}:{version}", None, mode)
    elif ref.registry == "nuget":
        args[i] = f"{ref.name}@{version}" if mode != "floating" else ref.name
    else:  # pypi
        is_from = i > 0 and args[i - 1] in ("--from", "--spec")
        inline = not is_from and "=" in args[i] and args[i].startswith(("--from=", "--spec="))
        if is_from or inline:
            value = pinned("pypi", ref.name, version, mode).replace("@", "==", 1)
            args[i] = (args[i].split("=", 1)[0] + "=" + value) if inline else value
        else:
            new = pypi_args(ref.name, version, mode)
            args[i : i + 1] = new
    out["args"] = args
    return out
