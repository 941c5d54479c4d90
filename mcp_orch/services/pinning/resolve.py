"""Resolve package pins against their registries: one :class:`Lock` row per package.

    >>> from mcp_orch.domain.pins import package_of
    >>> from mcp_orch.services.pinning import resolve
    >>> ref = package_of({"command": "npx", "args": ["-y", "mcp-remote@0.15.1"]})
    >>> [lock] = resolve([ref], timeout=10)
    >>> lock.status, lock.version, lock.integrity[:7], lock.registry_url
    ('resolved', '0.15.1', 'sha512-', 'https://registry.npmjs.org/')
    >>> Lock.from_dict(lock.to_dict()) == lock
    True

Each registry is asked the way its runner would ask it, with the user's own configuration:

- **npm** (``npx``): npm itself runs ``npm view <name>@<spec> ... --json``, so the registry,
  scoped registries, tokens and CA settings of ``.npmrc`` and ``npm_config_*`` apply. The lock
  records ``dist.integrity`` (and the tarball's ``shasum``). A range takes the version npm would
  install: the ``latest`` tag when it matches, else the newest matching version.
- **PyPI** (``uvx``, ``pipx run``): the index URL comes from ``UV_DEFAULT_INDEX``,
  ``UV_INDEX_URL``, uv's ``uv.toml``, ``PIP_INDEX_URL``, then pip's config files (``index-url``
  of ``[install]`` or ``[global]``), else ``https://pypi.org/simple``. The project page is read
  as PEP 691 JSON, else as the PEP 503 HTML page. A range takes the newest matching version that
  is not yanked; the integrity is the ``sha256:`` of the file an installer would pick (a pure
  ``py3-none-any`` wheel, else the sdist), and ``files`` has every file of the version.
- **OCI** (``docker run``): ``HEAD /v2/<repo>/manifests/<tag>`` with the anonymous bearer-token
  flow; the integrity is the manifest digest (``Docker-Content-Digest``).
- **NuGet**: not resolved yet.

A registry that cannot be reached, a package or version it does not have, a missing ``npm``:
each makes an *unresolved* lock with a one-sentence ``reason``, never an exception; every
package is answered within ``timeout`` seconds (``jobs`` are asked at a time). No URL a lock
records carries credentials.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import json
import os
import queue
import re
import shutil
import ssl
import subprocess
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from mcp_orch.core.clock import iso
from mcp_orch.core.errors import ParseError, UsageError
from mcp_orch.domain.pins import PackageRef

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_PYPI_INDEX",
    "DEFAULT_TIMEOUT",
    "LOCK_STATUSES",
    "MAX_VERSIONS",
    "Lock",
    "public_url",
    "pypi_index_url",
    "resolve",
]

DEFAULT_TIMEOUT = 20.0
#: Lookups at a time: each ``npm view`` costs most of a CPU second, so more of them than cores
#: only queue (bench/pinning.py: 8 at once on 2 busy cores timed out 1 in 6; the HTTP ones are
#: cheap, but share the pool).
DEFAULT_JOBS = max(2, min(8, os.cpu_count() or 2))
DEFAULT_PYPI_INDEX = "https://pypi.org/simple"
LOCK_STATUSES = ("resolved", "unresolved")
MAX_VERSIONS = 200  # the most recent versions a lock keeps
_MAX_BODY = 64 * 1024 * 1024  # a registry reply larger than this is cut off (and fails to parse)
_USER_AGENT = "mcp-orch (pin resolution)"


# ---- the lock row ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    """One package's lock: what its spec resolved to at publish time, or why it did not.

    ``version`` is the exact version the spec resolves to; ``integrity`` the registry's hash of
    what runs (npm ``sha512-...``, PyPI ``sha256:<hex>``, OCI ``sha256:<hex>`` manifest digest);
    ``files`` the registry's files of that version (PyPI ``{"filename", "sha256"}``, npm
    ``{"tarball", "shasum"}``); ``latest`` the newest stable version; ``versions`` the known
    versions, oldest first (the :data:`MAX_VERSIONS` newest); ``registry_url`` the registry or
    index asked, without credentials; ``reason`` why an unresolved lock is unresolved."""

    registry: str
    name: str
    spec: str | None
    status: str
    version: str | None = None
    published: str | None = None
    integrity: str | None = None
    files: tuple[dict[str, str], ...] = ()
    latest: str | None = None
    versions: tuple[str, ...] = ()
    registry_url: str = ""
    reason: str | None = None

    @property
    def resolved(self) -> bool:
        return self.status == "resolved"

    @classmethod
    def unresolved(cls, ref: PackageRef, reason: str, registry_url: str = "") -> Lock:
        """The lock of a package that was not (or could not be) resolved: its pin is kept as
        written (``version`` is the exact pin, ``integrity`` an OCI digest pin, if any) and
        ``reason`` says why."""
        return cls(
            registry=ref.registry,
            name=ref.name,
            spec=ref.spec,
            status="unresolved",
            version=ref.version,
            integrity=ref.digest,
            registry_url=public_url(registry_url) if registry_url else "",
            reason=reason,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (lists for the tuples); :meth:`from_dict` reads it back."""
        data = asdict(self)
        data["files"] = [dict(f) for f in self.files]
        data["versions"] = list(self.versions)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Lock:
        """The lock :meth:`to_dict` wrote; ``ParseError`` for anything else."""
        if not isinstance(data, Mapping):
            raise ParseError(f"a lock row must be an object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        missing = [k for k in ("registry", "name", "status") if k not in data]
        if unknown or missing:
            what = f"unknown field {unknown[0]!r}" if unknown else f"no field {missing[0]!r}"
            raise ParseError(f"a lock row has {what}", "the lock was not written by mcp-orch")
        status = data["status"]
        if status not in LOCK_STATUSES:
            raise ParseError(f"a lock row has the status {status!r}", "resolved or unresolved")
        strings = ("registry", "name", "status", "registry_url")
        optional = ("spec", "version", "published", "integrity", "latest", "reason")
        for key in strings:
            if key in data and not isinstance(data[key], str):
                raise ParseError(f"the lock field {key!r} must be a string")
        for key in optional:
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ParseError(f"the lock field {key!r} must be a string or null")
        files = data.get("files") or []
        versions = data.get("versions") or []
        if not isinstance(files, list | tuple) or not all(
            isinstance(f, Mapping) and all(isinstance(v, str) for v in f.values()) for f in files
        ):
            raise ParseError("the lock field 'files' must be a list of objects of strings")
        if not isinstance(versions, list | tuple) or not all(isinstance(v, str) for v in versions):
            raise ParseError("the lock field 'versions' must be a list of strings")
        return cls(
            registry=data["registry"],
            name=data["name"],
            spec=data.get("spec"),
            status=status,
            version=data.get("version"),
            published=data.get("published"),
            integrity=data.get("integrity"),
            files=tuple(dict(f) for f in files),
            latest=data.get("latest"),
            versions=tuple(versions),
            registry_url=data.get("registry_url") or "",
            reason=data.get("reason"),
        )


# ---- resolving -------------------------------------------------------------------------------


def resolve(
    refs: Sequence[PackageRef],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = DEFAULT_JOBS,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> list[Lock]:
    """The lock of each package, in the order of ``refs``.

    ``env`` is the environment whose registry configuration applies (default ``os.environ``):
    npm runs with it, and the PyPI index and pip config files are read from it. ``cwd`` is
    where npm runs (a project ``.npmrc`` there applies). Up to ``jobs`` packages are asked at
    a time, each within ``timeout`` seconds; registry problems make unresolved locks."""
    if isinstance(refs, PackageRef) or not all(isinstance(r, PackageRef) for r in refs):
        raise UsageError("resolve takes a sequence of package references (PackageRef)")
    if not timeout > 0:
        raise UsageError(f"the resolution timeout must be positive, not {timeout!r}")
    if jobs < 1:
        raise UsageError(f"at least one resolution job is needed, not {jobs!r}")
    ctx = _Context(
        env=dict(os.environ if env is None else env),
        cwd=None if cwd is None else str(cwd),
        timeout=float(timeout),
    )
    for ref in refs:
        if ref.registry not in _RESOLVERS:
            raise UsageError(f"no registry {ref.registry!r}", "npm, pypi, oci or nuget")
    # the same question (npx pkg and npx pkg@latest, one server in two clients) is asked once
    asked: dict[tuple[str, ...], int] = {}
    work: list[tuple[PackageRef, Callable[[], Lock]]] = []
    for ref in refs:
        if asked.setdefault(_question(ref), len(work)) == len(work):
            work.append((ref, _bind(_RESOLVERS[ref.registry], ref, ctx)))
    answers = _gather(work, jobs, ctx.timeout)
    return [_as_written(answers[asked[_question(ref)]], ref) for ref in refs]


def _question(ref: PackageRef) -> tuple[str, ...]:
    """What the registry is asked for ``ref``: refs with the same question share the answer."""
    if ref.registry == "npm":
        return ("npm", ref.name, ref.spec or "latest")
    if ref.registry == "pypi":
        spec = (ref.spec or "").strip().lstrip("@")
        return ("pypi", canonicalize_name(ref.name), "" if spec == "latest" else spec)
    if ref.registry == "oci":
        return ("oci", ref.name, ref.digest or ref.spec or "latest")
    return (ref.registry, ref.name, ref.spec or "")


def _as_written(lock: Lock, ref: PackageRef) -> Lock:
    """A shared answer as the lock of ``ref``: its own name and spec (and pin, if unresolved)."""
    if (lock.name, lock.spec) == (ref.name, ref.spec):
        return lock
    if lock.resolved:
        return replace(lock, name=ref.name, spec=ref.spec)
    return replace(lock, name=ref.name, spec=ref.spec, version=ref.version, integrity=ref.digest)


@dataclass
class _Context:
    env: dict[str, str]
    cwd: str | None
    timeout: float
    _npm_registries: dict[str, str] = field(default_factory=dict)
    _npm_asking: dict[str, threading.Event] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)


def _bind(
    fn: Callable[[PackageRef, _Context, float], Lock], ref: PackageRef, ctx: _Context
) -> Callable[[], Lock]:
    def run() -> Lock:
        return fn(ref, ctx, time.monotonic() + ctx.timeout)

    return run


def _gather(
    work: Sequence[tuple[PackageRef, Callable[[], Lock]]], jobs: int, timeout: float
) -> list[Lock]:
    """Run the lookups on daemon threads, ``jobs`` at a time; a lookup still running when its
    share of time is up (a hung DNS lookup, say) is answered unresolved and left behind."""
    results: list[Lock | None] = [None] * len(work)
    if not work:
        return []
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for i in range(len(work)):
        todo.put(i)
    done = threading.Condition()

    def worker() -> None:
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            ref, lookup = work[i]
            try:
                lock = lookup()
            except Exception as exc:  # a registry reply nobody expected must not fail a publish
                why = _scrub(f"{type(exc).__name__}: {exc}")
                lock = Lock.unresolved(ref, f"the registry's answer could not be read ({why}).")
            with done:
                results[i] = lock
                done.notify_all()

    workers = min(jobs, len(work))
    for _ in range(workers):
        threading.Thread(target=worker, name="mcp-orch-resolve", daemon=True).start()
    rounds = -(-len(work) // workers)
    deadline = time.monotonic() + rounds * timeout + 1.0
    with done:
        while any(r is None for r in results):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            done.wait(left)
        return [
            r
            if r is not None
            else Lock.unresolved(ref, f"the registry did not answer within {timeout:g} seconds.")
            for r, (ref, _) in zip(results, work, strict=True)
        ]


# ---- shared helpers --------------------------------------------------------------------------

_USERINFO = re.compile(r"(?<=//)[^/@\s'\"]+@")


def public_url(url: str) -> str:
    """``url`` without credentials (user, password, token in the query) or fragment."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return _USERINFO.sub("", url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _scrub(text: str) -> str:
    """A registry's message with any ``user:password@`` in its URLs taken out."""
    return _USERINFO.sub("", text)


def _left(deadline: float) -> float:
    return max(0.05, deadline - time.monotonic())


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _newest(versions: Iterable[str]) -> tuple[str, ...]:
    return tuple(versions)[-MAX_VERSIONS:]


def _when(value: Any) -> str | None:
    """An ISO-8601 time as mcp-orch writes times (UTC, ``...Z``), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso(dt if dt.tzinfo else dt.replace(tzinfo=UTC))


@dataclass
class _Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


def _proxies(env: Mapping[str, str], url: str) -> dict[str, str]:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host in ("localhost", "127.0.0.1", "::1"):
        return {}
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
    for entry in (e.strip().lower().lstrip(".") for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return {}
    out = {}
    for scheme in ("http", "https"):
        value = env.get(f"{scheme}_proxy") or env.get(f"{scheme.upper()}_PROXY")
        if value:
            out[scheme] = value
    return out


def _request(
    url: str,
    env: Mapping[str, str],
    deadline: float,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    cafile: str | None = None,
) -> _Reply:
    """One HTTP request (any status is a reply; ``OSError`` when no reply came). Credentials
    in the URL become a Basic ``Authorization`` header."""
    parts = urllib.parse.urlsplit(url)
    head = {"User-Agent": _USER_AGENT, **(headers or {})}
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        head.setdefault("Authorization", f"Basic {token}")
        netloc = parts.netloc.rpartition("@")[2]
        url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    cafile = cafile or env.get("SSL_CERT_FILE") or None
    context = ssl.create_default_context(
        cafile=cafile if cafile and Path(cafile).is_file() else None
    )
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler(_proxies(env, url)),
        urllib.request.HTTPSHandler(context=context),
    )
    req = urllib.request.Request(url, method=method, headers=head)
    try:
        with opener.open(req, timeout=_left(deadline)) as resp:
            body = resp.read(_MAX_BODY) if method != "HEAD" else b""
            return _Reply(resp.status, dict(resp.headers.items()), body, resp.geturl())
    except urllib.error.HTTPError as err:
        try:
            body = err.read(_MAX_BODY) if method != "HEAD" else b""
        except OSError:
            body = b""
        return _Reply(err.code, dict(err.headers.items()), body, err.geturl() or url)


def _unreachable(where: str, exc: BaseException) -> str:
    why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    text = _scrub(str(why).strip() or type(why).__name__)
    if isinstance(why, TimeoutError) or "timed out" in text:
        return f"{where} did not answer in time ({text})."
    return f"{where} could not be reached ({text})."


# ---- npm -------------------------------------------------------------------------------------

_NPM_FIELDS = (
    "name",
    "version",
    "dist.integrity",
    "dist.shasum",
    "dist.tarball",
    "time",
    "dist-tags",
    "versions",
)
_NPM_UNREACHABLE = frozenset(
    {"ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH"}
)
_SEMVER_PARTS = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _semver_key(version: str) -> tuple[Any, ...]:
    """Sort key of a semver version (prereleases before their release; junk first)."""
    m = _SEMVER_PARTS.match(version.strip())
    if not m:
        return (-1,)
    major, minor, patch, pre = m.groups()
    ids: tuple[tuple[int, int | str], ...] = tuple(
        (0, int(p)) if p.isdigit() else (1, p) for p in (pre.split(".") if pre else ())
    )
    return (int(major), int(minor), int(patch), 0 if pre else 1, ids)


def _npm_bin(env: Mapping[str, str]) -> str | None:
    return shutil.which("npm", path=env.get("PATH") or os.environ.get("PATH"))


def _npm_env(env: Mapping[str, str]) -> dict[str, str]:
    return {**env, "npm_config_update_notifier": "false", "NO_COLOR": "1"}


def _npm_keys(name: str) -> list[str]:
    """The npm config keys naming the registry of ``name``, the one that wins first."""
    return [f"{name.split('/')[0]}:registry", "registry"] if name.startswith("@") else ["registry"]


def _npm_config_start(npm: str, name: str, ctx: _Context) -> subprocess.Popen[str] | None:
    """``npm config get`` of the registry keys of ``name``, started; None when another lookup
    already asks (or asked) it."""
    key = _npm_keys(name)[0]
    with ctx._lock:
        if key in ctx._npm_registries or key in ctx._npm_asking:
            return None
        ctx._npm_asking[key] = threading.Event()
    try:
        return subprocess.Popen(
            [npm, "config", "get", *_npm_keys(name)],
            env=_npm_env(ctx.env),
            cwd=ctx.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError:
        _npm_settle(ctx, key, _npm_env_registry(name, ctx, {}))
        return None


def _npm_settle(ctx: _Context, key: str, value: str) -> str:
    with ctx._lock:
        ctx._npm_registries[key] = value
        ctx._npm_asking[key].set()
    return value


def _npm_env_registry(name: str, ctx: _Context, found: dict[str, str]) -> str:
    """The first registry URL of ``found`` (``npm config get``'s answer) for ``name``'s keys,
    else ``npm_config_registry`` of the environment; without credentials."""
    for var, v in ctx.env.items():
        if var.lower() == "npm_config_registry":
            found.setdefault("registry", v)
    values = (found.get(k, "") for k in _npm_keys(name))
    value = next((v for v in values if v.startswith(("http://", "https://"))), "")
    return public_url(value) if value else ""


def _npm_registry(
    proc: subprocess.Popen[str] | None, name: str, ctx: _Context, deadline: float
) -> str:
    """The registry npm asks for ``name`` (its scope's registry, if one is set), as ``npm
    config get`` (``proc``, or another lookup's) answers by ``deadline``; from
    ``npm_config_registry`` when npm will not tell (a URL with credentials is "protected")."""
    keys = _npm_keys(name)
    if proc is None:
        with ctx._lock:
            asking = ctx._npm_asking.get(keys[0])
        if asking is not None:
            asking.wait(_left(deadline))
        with ctx._lock:
            known = ctx._npm_registries.get(keys[0])
        return known if known is not None else _npm_env_registry(name, ctx, {})
    try:
        out, _ = proc.communicate(timeout=_left(deadline))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return _npm_settle(ctx, keys[0], _npm_env_registry(name, ctx, {}))
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    found: dict[str, str] = {}
    if proc.returncode == 0 and len(keys) == 1 and len(lines) == 1:
        found[keys[0]] = lines[0]
    elif proc.returncode == 0:
        found = dict(line.split("=", 1) for line in lines if "=" in line)
    return _npm_settle(ctx, keys[0], _npm_env_registry(name, ctx, found))


def _npm_reason(ref: PackageRef, error: Mapping[str, Any], registry: str) -> str:
    code = str(error.get("code") or "")
    summary = _scrub(str(error.get("summary") or "").strip().split("\n", 1)[0])
    where = f"the npm registry {registry}" if registry else "the npm registry"
    if code in ("E404", "ETARGET"):
        if ref.spec and ("No match found" in summary or code == "ETARGET"):
            return f"{where} has no version of {ref.name} matching {ref.spec}."
        return f"{where} has no package {ref.name}."
    if code in ("E401", "E403", "ENEEDAUTH"):
        return f"{where} refused to show {ref.name} ({code}: {summary})."
    if code in _NPM_UNREACHABLE or code.startswith("EAI_"):
        return f"{where} could not be reached ({code})."
    return f"npm could not look {ref.name} up ({code or 'error'}: {summary or 'no detail'})."


def _resolve_npm(ref: PackageRef, ctx: _Context, deadline: float) -> Lock:
    npm = _npm_bin(ctx.env)
    if npm is None:
        return Lock.unresolved(ref, "npm is not installed (no npm on PATH), so it was not asked.")
    spec = f"{ref.name}@{ref.spec or 'latest'}"
    argv = [
        npm,
        "view",
        spec,
        *_NPM_FIELDS,
        "--json",
        "--fetch-retries=0",
        f"--fetch-timeout={int(ctx.timeout * 1000)}",
    ]
    config = _npm_config_start(npm, ref.name, ctx)  # asked while npm view runs
    try:
        out = subprocess.run(
            argv,
            env=_npm_env(ctx.env),
            cwd=ctx.cwd,
            capture_output=True,
            text=True,
            timeout=_left(deadline),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        registry = _npm_registry(config, ref.name, ctx, time.monotonic())
        return Lock.unresolved(ref, f"npm did not answer within {ctx.timeout:g} seconds.", registry)
    except OSError as exc:
        _npm_registry(config, ref.name, ctx, time.monotonic())
        return Lock.unresolved(ref, f"npm could not be started ({exc.strerror or exc}).")
    registry = _npm_registry(config, ref.name, ctx, deadline)
    try:
        data: Any = json.loads(out.stdout) if out.stdout.strip() else None
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return Lock.unresolved(ref, _npm_reason(ref, data["error"], registry), registry)
    if out.returncode != 0 or data is None:
        last = _scrub((out.stderr.strip().splitlines() or ["no output"])[-1])
        if data is None and out.returncode == 0:
            reason = f"the npm registry has no version of {ref.name} matching {ref.spec}."
        else:
            reason = f"npm view failed (exit {out.returncode}): {last}"
        return Lock.unresolved(ref, reason, registry)
    rows = [r for r in (data if isinstance(data, list) else [data]) if isinstance(r, dict)]
    rows = [r for r in rows if isinstance(r.get("version"), str)]
    if not rows:
        return Lock.unresolved(ref, f"npm printed no version of {ref.name}.", registry)
    tags = _obj(rows[0].get("dist-tags"))
    latest = tags.get("latest") if isinstance(tags.get("latest"), str) else None
    # what npm installs for a range: the `latest` tag if it matches, else the newest match
    chosen = next((r for r in rows if r["version"] == latest), None) or max(
        rows, key=lambda r: _semver_key(r["version"])
    )
    version = chosen["version"]
    times = _obj(chosen.get("time"))
    known = chosen.get("versions")
    known = [known] if isinstance(known, str) else known if isinstance(known, list) else []
    tarball = chosen.get("dist.tarball")
    shasum = chosen.get("dist.shasum")
    files: tuple[dict[str, str], ...] = ()
    if isinstance(tarball, str) and isinstance(shasum, str):
        files = ({"tarball": public_url(tarball), "shasum": shasum},)
    integrity = chosen.get("dist.integrity")
    if not isinstance(integrity, str):  # a very old package: only the sha1 shasum
        integrity = None
    return Lock(
        registry="npm",
        name=ref.name,
        spec=ref.spec,
        status="resolved",
        version=version,
        published=_when(times.get(version)),
        integrity=integrity,
        files=files,
        latest=latest,
        versions=_newest(sorted((v for v in known if isinstance(v, str)), key=_semver_key)),
        registry_url=registry,
    )


# ---- PyPI ------------------------------------------------------------------------------------

_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_SIMPLE_ACCEPT = f"{_SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


def _pip_config_files(env: Mapping[str, str]) -> list[Path]:
    """pip's config files, the one that wins first (``PIP_CONFIG_FILE``, the user's, the
    system's); none when ``PIP_CONFIG_FILE`` is ``os.devnull``."""
    named = env.get("PIP_CONFIG_FILE")
    if named == os.devnull:
        return []
    home = Path(env.get("HOME") or Path.home())
    xdg = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    dirs = [d for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if d]
    out = [Path(named)] if named else []
    out += [Path(xdg) / "pip" / "pip.conf", home / ".pip" / "pip.conf", Path("/etc/pip.conf")]
    out += [Path(d) / "pip" / "pip.conf" for d in reversed(dirs)]
    return out


def _pip_config(env: Mapping[str, str], key: str) -> str | None:
    for path in _pip_config_files(env):
        parser = configparser.RawConfigParser()
        try:
            if not parser.read(path, encoding="utf-8"):
                continue
        except (configparser.Error, UnicodeDecodeError):
            continue
        for section in ("install", "global"):
            for spelling in (key, key.replace("-", "_")):
                if parser.has_option(section, spelling):
                    value = parser.get(section, spelling).strip()
                    if value:
                        return value.split()[0]
    return None


def _uv_config_index(env: Mapping[str, str]) -> str | None:
    """The default index of uv's user or system ``uv.toml`` (not read with ``UV_NO_CONFIG``)."""
    if env.get("UV_NO_CONFIG"):
        return None
    home = Path(env.get("HOME") or Path.home())
    xdg = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    dirs = [d for d in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if d]
    named = env.get("UV_CONFIG_FILE")
    candidates = [Path(named)] if named else []
    candidates += [Path(xdg) / "uv" / "uv.toml", *(Path(d) / "uv" / "uv.toml" for d in dirs)]
    candidates.append(Path("/etc/uv/uv.toml"))
    for path in candidates:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        for index in data.get("index") or []:
            if isinstance(index, dict) and index.get("default") and index.get("url"):
                return str(index["url"])
        for table in (data, data.get("pip") or {}):
            if isinstance(table, dict) and isinstance(table.get("index-url"), str):
                return str(table["index-url"])
    return None


def pypi_index_url(env: Mapping[str, str] | None = None) -> str:
    """The index uvx / pip would ask (it may carry credentials: show it via
    :func:`public_url`): ``UV_DEFAULT_INDEX``, ``UV_INDEX_URL``, uv's ``uv.toml``,
    ``PIP_INDEX_URL``, pip's config files, else ``https://pypi.org/simple``."""
    env = os.environ if env is None else env
    for var in ("UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        if env.get(var, "").strip():
            return env[var].strip().split()[0]
    found = _uv_config_index(env)
    if found:
        return found
    if env.get("PIP_INDEX_URL", "").strip():
        return env["PIP_INDEX_URL"].strip().split()[0]
    return _pip_config(env, "index-url") or DEFAULT_PYPI_INDEX


def _pip_cert(env: Mapping[str, str]) -> str | None:
    return env.get("PIP_CERT") or _pip_config(env, "cert")


@dataclass(frozen=True)
class _File:
    filename: str
    sha256: str | None
    yanked: bool
    uploaded: str | None
    version: Version
    wheel_tags: frozenset[str]  # "py3-none-any", ...; empty for an sdist


class _Anchors(HTMLParser):
    """The ``<a>`` elements of a PEP 503 page: (attributes, text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[dict[str, str | None], str]] = []
        self._attrs: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._attrs, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._attrs is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._attrs is not None:
            self.links.append((self._attrs, "".join(self._text).strip()))
            self._attrs = None


def _file(
    name: str, filename: str, sha256: str | None, yanked: bool, uploaded: Any
) -> _File | None:
    filename = filename.strip()
    try:
        if filename.endswith(".whl"):
            project, version, _build, tags = parse_wheel_filename(filename)
            wheel_tags = frozenset(str(t) for t in tags)
        elif filename.endswith((".tar.gz", ".zip")):
            project, version = parse_sdist_filename(filename)
            wheel_tags = frozenset()
        else:  # eggs, installers: no installer today picks them
            return None
    except (ValueError, InvalidVersion):
        return None
    if canonicalize_name(project) != canonicalize_name(name):
        return None
    digest = sha256.lower() if sha256 and re.fullmatch(r"[0-9a-fA-F]{64}", sha256) else None
    return _File(filename, digest, yanked, _when(uploaded), version, wheel_tags)


def _files_json(name: str, data: Any) -> list[_File]:
    out = []
    for item in data.get("files") or [] if isinstance(data, dict) else []:
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            continue
        hashes = _obj(item.get("hashes"))
        yanked = item.get("yanked")
        made = _file(
            name,
            item["filename"],
            hashes.get("sha256"),
            bool(yanked) or isinstance(yanked, str),
            item.get("upload-time"),
        )
        if made:
            out.append(made)
    return out


def _files_html(name: str, page: str) -> list[_File]:
    parser = _Anchors()
    parser.feed(page)
    out = []
    for attrs, text in parser.links:
        href = attrs.get("href") or ""
        path, _, fragment = href.partition("#")
        filename = text or urllib.parse.unquote(path.rstrip("/").rsplit("/", 1)[-1])
        algo, _, digest = fragment.partition("=")
        made = _file(
            name,
            filename,
            digest if algo == "sha256" else None,
            "data-yanked" in attrs,
            attrs.get("data-upload-time"),
        )
        if made:
            out.append(made)
    return out


def _pypi_specifier(spec: str | None) -> SpecifierSet | None:
    """The specifier of a uv / pip version part (``1.2.3`` from ``name@1.2.3``, ``==1.2``,
    ``~=1.2``, ``>=1,<2``); None for none or ``latest``."""
    if spec is None:
        return None
    text = spec.split(";", 1)[0].strip().lstrip("@").strip()
    if not text or text.lower() == "latest":
        return None
    if text[0] not in "=<>!~":
        text = "==" + text
    return SpecifierSet(text)


def _is_exact(specifier: SpecifierSet) -> bool:
    """A specifier that names one version (``==1.2.3``, ``===1.2.3``): yanked files count."""
    specs = list(specifier)
    return len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version


def _pick_file(files: Sequence[_File]) -> _File | None:
    """The file an installer picks on any platform: a pure Python 3 wheel, else the sdist."""
    ordered = sorted(files, key=lambda f: f.filename)
    for wanted in ("py3-none-any", None):
        for f in ordered:
            if f.yanked and len(ordered) > 1:
                continue
            if wanted in f.wheel_tags or (
                wanted is None and any(t.endswith("-none-any") for t in f.wheel_tags)
            ):
                return f
    sdists = [f for f in ordered if not f.wheel_tags]
    return next(
        (f for f in sdists if f.filename.endswith(".tar.gz")), sdists[0] if sdists else None
    )


def _resolve_pypi(ref: PackageRef, ctx: _Context, deadline: float) -> Lock:
    index = pypi_index_url(ctx.env)
    shown = public_url(index)
    try:
        specifier = _pypi_specifier(ref.spec)
    except InvalidSpecifier:
        return Lock.unresolved(ref, f"{ref.spec!r} is not a valid version specifier.", index)
    page = index.rstrip("/") + "/" + canonicalize_name(ref.name) + "/"
    try:
        reply = _request(
            page, ctx.env, deadline, headers={"Accept": _SIMPLE_ACCEPT}, cafile=_pip_cert(ctx.env)
        )
    except (OSError, ValueError) as exc:
        return Lock.unresolved(ref, _unreachable(f"the package index {shown}", exc), index)
    if reply.status == 404:
        return Lock.unresolved(ref, f"the package index {shown} has no project {ref.name}.", index)
    if reply.status != 200:
        return Lock.unresolved(
            ref, f"the package index {shown} answered HTTP {reply.status} for {ref.name}.", index
        )
    kind = next((v for k, v in reply.headers.items() if k.lower() == "content-type"), "")
    text = reply.body.decode("utf-8", "replace")
    if _SIMPLE_JSON in kind:
        try:
            files = _files_json(ref.name, json.loads(text))
        except json.JSONDecodeError:
            return Lock.unresolved(ref, f"the package index {shown} sent broken JSON.", index)
    else:
        files = _files_html(ref.name, text)
    if not files:
        return Lock.unresolved(
            ref, f"the package index {shown} lists no files of {ref.name}.", index
        )
    by_version: dict[Version, list[_File]] = {}
    for f in files:
        by_version.setdefault(f.version, []).append(f)
    live = sorted(v for v, fs in by_version.items() if not all(f.yanked for f in fs))
    stable = [v for v in live if not v.is_prerelease]
    if specifier is None:
        candidates = stable or live
    else:
        pool = sorted(by_version) if _is_exact(specifier) else live
        candidates = list(specifier.filter(pool))
    if not candidates:
        return Lock.unresolved(
            ref,
            f"the package index {shown} has no version of {ref.name} matching {ref.spec}.",
            index,
        )
    version = max(candidates)
    chosen = by_version[version]
    picked = _pick_file(chosen)
    uploads = sorted(f.uploaded for f in chosen if f.uploaded)
    return Lock(
        registry="pypi",
        name=ref.name,
        spec=ref.spec,
        status="resolved",
        version=str(version),
        published=(picked.uploaded if picked and picked.uploaded else None)
        or (uploads[0] if uploads else None),
        integrity=f"sha256:{picked.sha256}" if picked and picked.sha256 else None,
        files=tuple(
            {"filename": f.filename, "sha256": f.sha256 or ""}
            for f in sorted(chosen, key=lambda f: f.filename)
        ),
        latest=str(stable[-1]) if stable else None,
        versions=_newest(str(v) for v in live),
        registry_url=shown,
    )


# ---- OCI -------------------------------------------------------------------------------------

_OCI_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
_DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "[::1]"})
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def _oci_target(name: str) -> tuple[str, str]:
    """``(base URL, repository)`` of an image name (Docker Hub's official images are
    ``library/<name>`` on ``registry-1.docker.io``; loopback registries speak plain HTTP)."""
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, repo = first, rest
    else:
        host, repo = "docker.io", name
    if host.lower() in _DOCKER_HUB:
        host = "registry-1.docker.io"
        if "/" not in repo:
            repo = f"library/{repo}"
    bare = host[: host.index("]") + 1] if host.startswith("[") else host.rsplit(":", 1)[0]
    scheme = "http" if bare.lower() in _LOOPBACK else "https"
    return f"{scheme}://{host}", repo


def _header(reply: _Reply, name: str) -> str | None:
    return next((v for k, v in reply.headers.items() if k.lower() == name.lower()), None)


def _bearer(reply: _Reply, repo: str, ctx: _Context, deadline: float) -> str | None:
    """An anonymous pull token from the realm a 401 names (None when it names none)."""
    challenge = _header(reply, "WWW-Authenticate") or ""
    if not challenge.lower().startswith("bearer"):
        return None
    params = dict(_CHALLENGE.findall(challenge))
    realm = params.get("realm")
    if not realm:
        return None
    query = {"scope": params.get("scope") or f"repository:{repo}:pull"}
    if params.get("service"):
        query["service"] = params["service"]
    answer = _request(f"{realm}?{urllib.parse.urlencode(query)}", ctx.env, deadline)
    if answer.status != 200:
        return None
    try:
        data = json.loads(answer.body)
    except json.JSONDecodeError:
        return None
    token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
    return str(token) if token else None


def _resolve_oci(ref: PackageRef, ctx: _Context, deadline: float) -> Lock:
    base, repo = _oci_target(ref.name)
    reference = ref.digest or ref.spec or "latest"
    url = f"{base}/v2/{repo}/manifests/{reference}"
    where = f"the registry {base}"
    headers = {"Accept": _OCI_ACCEPT}
    try:
        reply = _request(url, ctx.env, deadline, method="HEAD", headers=headers)
        if reply.status == 401:
            token = _bearer(reply, repo, ctx, deadline)
            if token is None:
                return Lock.unresolved(ref, f"{where} asks for credentials to show {repo}.", base)
            headers["Authorization"] = f"Bearer {token}"
            reply = _request(url, ctx.env, deadline, method="HEAD", headers=headers)
        digest = _header(reply, "Docker-Content-Digest") if reply.status == 200 else None
        if reply.status == 200 and not digest:  # a registry that only says it on GET
            reply = _request(url, ctx.env, deadline, headers=headers)
            digest = _header(reply, "Docker-Content-Digest")
            if reply.status == 200 and not digest:
                digest = "sha256:" + hashlib.sha256(reply.body).hexdigest()
    except (OSError, ValueError) as exc:
        return Lock.unresolved(ref, _unreachable(where, exc), base)
    if reply.status in (401, 403):
        return Lock.unresolved(ref, f"{where} refused to show {repo} (HTTP {reply.status}).", base)
    if reply.status == 404:
        return Lock.unresolved(ref, f"{where} has no manifest {repo}:{reference}.", base)
    if reply.status != 200 or not digest:
        return Lock.unresolved(ref, f"{where} answered HTTP {reply.status} for {repo}.", base)
    if ref.digest and digest != ref.digest:
        return Lock.unresolved(
            ref, f"{where} serves {digest} for the pinned digest {ref.digest}.", base
        )
    return Lock(
        registry="oci",
        name=ref.name,
        spec=ref.spec,
        status="resolved",
        version=ref.spec or ("latest" if not ref.digest else None),
        integrity=digest,
        registry_url=public_url(base),
    )


# ---- NuGet -----------------------------------------------------------------------------------


def _resolve_nuget(ref: PackageRef, ctx: _Context, deadline: float) -> Lock:
    return Lock.unresolved(ref, "NuGet resolution is not supported yet.")


_RESOLVERS: dict[str, Callable[[PackageRef, _Context, float], Lock]] = {
    "npm": _resolve_npm,
    "pypi": _resolve_pypi,
    "oci": _resolve_oci,
    "nuget": _resolve_nuget,
}
