"""Catalog server + params + env -> a neutral entry -> the client's native entry.

    >>> from mcp_orch.domain.transport import render_server
    >>> rendered = render_server(server_doc, params={"allowed_directory": "/data"})
    >>> rendered.entry
    {'transport': 'stdio', 'command': 'npx', 'args': ['-y', '@modelcontextprotocol/server-filesystem@2026.8.31', '/data'], 'env': {}}

A package is written at the version its server.json names, at the ``pin`` asked (``exact``, the
default: ``npx -y pkg@1.2.3``, ``uvx pkg@1.2.3``, ``image:1.2.3``; ``minor``: ``pkg@~1.2.3``,
``uvx --from 'pkg~=1.2.3' pkg``; ``floating``: the bare name). ``version`` overrides the
catalog's (``mcp-orch upgrade`` uses it).

``{placeholders}`` in arguments, URLs and header values are filled from ``params``, then from
the catalog's defaults; one left unfilled stays in the entry and the validation rule MCP002
reports it. Required secret inputs without a value become ``${env:NAME}`` references, never
literals; an optional input without a value (secret or not) is left out of the entry. A param
the chosen package or remote does not take is refused (``did you mean ...?``), never dropped.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from mcp_orch.core.errors import UsageError
from mcp_orch.domain.pins import image_ref, npm_spec, pypi_args, split_image

PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_RUNTIME = {"npm": "npx", "pypi": "uvx", "oci": "docker", "nuget": "dnx"}


class Rendered:
    """A rendered entry plus what the renderer could not fill. (A plain class, not a dataclass:
    building a dataclass costs ~1.5 ms at import, and this module is on the light path.)"""

    __slots__ = ("entry", "index", "kind", "missing_env")

    def __init__(
        self,
        entry: dict[str, Any],
        kind: str,  # "package" or "remote"
        index: int,
        missing_env: list[str] | None = None,
    ) -> None:
        self.entry = entry
        self.kind = kind
        self.index = index
        self.missing_env = list(missing_env or [])

    def __repr__(self) -> str:
        return f"Rendered({self.entry!r}, {self.kind!r}, {self.index!r}, {self.missing_env!r})"


def unfilled(value: Any) -> list[str]:
    """Placeholders left in a value (nested)."""
    if isinstance(value, str):
        return PLACEHOLDER.findall(value)
    if isinstance(value, dict):
        return [p for v in value.values() for p in unfilled(v)]
    if isinstance(value, list):
        return [p for v in value for p in unfilled(v)]
    return []


def env_ref(name: str) -> str:
    """The ``${env:NAME}`` reference for an input name (upper snake case)."""
    return "${env:" + re.sub(r"[^A-Za-z0-9_]", "_", name).upper() + "}"


def _fill(template: str, lookup: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: lookup.get(m.group(1), m.group(0)), template)


def item_variables(item: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ``{variables}`` of one input: those it declares, and each placeholder of its
    ``value`` it does not declare, which takes the input's own ``isRequired`` and ``isSecret``
    (the registry holds hundreds of headers like ``"Bearer {smithery_api_key}"`` that declare
    nothing: the placeholder is the input, not a literal)."""
    declared = item.get("variables")
    variables: dict[str, dict[str, Any]] = dict(declared) if isinstance(declared, dict) else {}
    value = item.get("value")
    for var in unfilled(value) if isinstance(value, str) else []:
        if var not in variables:
            variables[var] = {
                "description": f"{{{var}}} in {item.get('name', 'the value')}",
                "isRequired": bool(item.get("isRequired")),
                "isSecret": bool(item.get("isSecret")),
                "format": "string",
            }
    return variables


def _variables(item: dict[str, Any], params: dict[str, Any]) -> dict[str, str]:
    """Values for the ``{variables}`` of one input: params, then defaults, then (for a required
    secret) an env reference named after the variable."""
    values: dict[str, str] = {}
    for var, spec in item_variables(item).items():
        if var in params:
            values[var] = str(params[var])
        elif spec.get("value") is not None:
            values[var] = str(spec["value"])
        elif spec.get("default") is not None:
            values[var] = str(spec["default"])
        elif spec.get("isSecret") and (spec.get("isRequired") or item.get("isRequired")):
            values[var] = env_ref(var)
    return values


def _input_value(item: dict[str, Any], key: str | None, params: dict[str, Any]) -> Any:
    if key is not None and key in params:
        return params[key]
    if item.get("value") is not None:
        return _fill(str(item["value"]), {**_variables(item, params), **_str(params)})
    if item.get("default") is not None:
        return str(item["default"])
    return None


def _str(params: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items() if not isinstance(v, list)}


def _arguments(items: list[dict[str, Any]], params: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for arg in items:
        if arg.get("type") == "named":
            flag = arg["name"]
            key = arg.get("valueHint") or flag.lstrip("-")
            aliases = [key, flag.lstrip("-"), flag.lstrip("-").replace("-", "_")]
            chosen = next((k for k in aliases if k in params), key)
            value = _input_value(arg, chosen, params)
            has_value_slot = any(k in arg for k in ("value", "valueHint", "default", "format"))
            if value is None:
                if arg.get("isRequired"):
                    out.append(f"{flag}={{{key}}}" if has_value_slot else flag)
                continue
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, bool) or (not has_value_slot and str(v).lower() == "true"):
                    if v is True or str(v).lower() == "true":
                        out.append(flag)
                    continue
                # --long=value (some servers read only that form); -x value for short flags
                out += [f"{flag}={v}"] if flag.startswith("--") else [flag, str(v)]
        else:
            hint = arg.get("valueHint")
            value = _input_value(arg, hint, params)
            if value is None:
                if arg.get("isRequired") and hint:
                    out.append("{" + hint + "}")
                continue
            out += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return out


def _package_entry(
    pkg: dict[str, Any],
    params: dict[str, Any],
    env: dict[str, str],
    pin: str = "exact",
    version: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    registry = pkg.get("registryType", "")
    runtime = pkg.get("runtimeHint") or _RUNTIME.get(registry)
    if runtime is None or registry == "mcpb":
        raise UsageError(
            f"packages of type {registry!r} cannot be run from a config entry",
            "choose another package or a remote with transport=...",
        )
    ident = pkg["identifier"]
    if version and registry == "oci":  # another version asked: the image's tag is replaced
        repo, tag, _digest = split_image(ident)
        if tag != version:
            ident = f"{repo}:{version}"
    version = version or (str(pkg["version"]) if pkg.get("version") else None)
    runtime_args = _arguments(pkg.get("runtimeArguments") or [], params)
    package_args = _arguments(pkg.get("packageArguments") or [], params)
    env_out: dict[str, str] = {}
    missing: list[str] = []
    for var in pkg.get("environmentVariables") or []:
        name = var["name"]
        value = env.get(name)
        if value is None:
            value = _input_value(var, None, params)
        if value is None and var.get("isSecret") and var.get("isRequired"):
            value = env_ref(name)  # an optional secret without a value is left out
        if value is None:
            if var.get("isRequired"):
                missing.append(name)
            continue
        env_out[name] = str(value)
    for name, value in env.items():  # extra variables the user asked for
        env_out.setdefault(name, str(value))
    if runtime == "docker":
        if not runtime_args:
            runtime_args = ["run", "-i", "--rm"]
            for name in env_out:
                runtime_args += ["-e", name]
        args = [*runtime_args, image_ref(ident, version, pin), *package_args]
        command = "docker"
    elif runtime == "npx":
        args = [*(runtime_args or ["-y"]), npm_spec(ident, version, pin), *package_args]
        command = "npx"
    elif runtime == "dnx":
        spec = f"{ident}@{version}" if version and pin != "floating" else ident
        args = [*runtime_args, spec, "--yes", *package_args]
        command = "dnx"
    else:  # uvx, python, and any other runner that takes the package name first
        command = "uvx" if runtime in ("python", "uvx") else runtime
        pinned = pypi_args(ident, version, pin) if command == "uvx" else [ident]
        if any(a in ("--from", "--with") or a.startswith("--from=") for a in runtime_args):
            pinned = [ident]  # the server.json chose the source itself
        args = [*runtime_args, *pinned, *package_args]
    entry = {"transport": "stdio", "command": command, "args": args, "env": env_out}
    return entry, missing


def _remote_entry(
    remote: dict[str, Any], params: dict[str, Any], headers_in: dict[str, str]
) -> dict[str, Any]:
    lookup = {**_variables(remote, params), **_str(params)}
    url = _fill(remote["url"], lookup)
    headers: dict[str, str] = {}
    for h in remote.get("headers") or []:
        name = h["name"]
        if name in headers_in:
            headers[name] = str(headers_in[name])
            continue
        value = _input_value(h, None, {**lookup, **params})
        if value is not None and unfilled(value) and not h.get("isRequired"):
            continue  # an optional header whose variables were not given (OAuth instead)
        if value is None and h.get("isSecret") and h.get("isRequired"):
            value = env_ref(name)
        if value is None:
            if h.get("isRequired"):
                headers[name] = "{" + re.sub(r"\W", "_", name).lower() + "}"
            continue
        headers[name] = str(value)
    for name, value in headers_in.items():
        headers.setdefault(name, str(value))
    return {"transport": remote["type"], "url": url, "headers": headers}


def choose(
    doc: dict[str, Any], transport: str | None = None, package: str | None = None
) -> tuple[str, int]:
    """Pick the package or remote to render: the first runnable package, unless a transport is
    named (``"stdio"``, ``"remote"``, ``"streamable-http"``, ``"sse"``) or ``package`` picks
    one: its registry type (``npm``, ``pypi``, ``oci``, ``nuget``), its identifier (with or
    without a version or tag) or its number in the document (from 1)."""
    packages = doc.get("packages") or []
    remotes = doc.get("remotes") or []
    runnable = [
        i
        for i, p in enumerate(packages)
        if p.get("registryType") != "mcpb"
        and (p.get("transport") or {}).get("type", "stdio") == "stdio"
    ]
    if package is not None and str(package).strip():
        if transport not in (None, "stdio"):
            raise UsageError(
                f"a package and the {transport} transport exclude each other",
                "name a package, or a remote transport, not both",
                inputs=("package", "transport"),
            )
        return "package", _pick_package(doc, packages, runnable, str(package).strip())
    if transport in (None, "stdio") and runnable:
        return "package", runnable[0]
    if transport in (None, "remote") and remotes:
        return "remote", 0
    for i, r in enumerate(remotes):
        if r.get("type") == transport:
            return "remote", i
    offered = (["stdio"] if runnable else []) + sorted({r.get("type", "") for r in remotes})
    raise UsageError(
        f"{doc.get('name')} has no {transport or 'runnable'} transport",
        f"it offers: {', '.join(offered) or 'nothing runnable'}",
    )


def _pick_package(
    doc: dict[str, Any], packages: list[dict[str, Any]], runnable: list[int], wanted: str
) -> int:
    def labels(p: dict[str, Any]) -> set[str]:
        ident = str(p.get("identifier") or "")
        bare = re.sub(r"(@sha256:[0-9a-f]+|:[^/:@]+)$", "", ident) if ident else ""
        if p.get("registryType") in ("npm", "pypi", "nuget"):
            bare = ident
        return {str(p.get("registryType") or ""), ident, bare, bare.rsplit("/", 1)[-1]} - {""}

    if wanted.isdigit():
        hits = [int(wanted) - 1] if 0 < int(wanted) <= len(packages) else []
    else:  # an exact identifier first, then a registry type or a shorter name
        hits = [i for i, p in enumerate(packages) if wanted == p.get("identifier")]
        hits = hits or [i for i, p in enumerate(packages) if wanted in labels(p)]
    hits = [i for i in hits if i in runnable]
    described = ", ".join(
        f"{n + 1}: {p.get('registryType')} {p.get('identifier')}" for n, p in enumerate(packages)
    )
    if len(hits) != 1:
        what = "no runnable package matches" if not hits else "several packages match"
        raise UsageError(
            f"{doc.get('name')}: {what} {wanted!r}",
            f"its packages are {described or 'none'}; pass a registry type, an identifier "
            "or a number",
            inputs=("package",),
        )
    return hits[0]


def _item_names(item: dict[str, Any]) -> list[str]:
    """The param names one argument, env var or header takes: its key (and a named flag's
    aliases), its ``{variables}`` and the placeholders of its value."""
    names: list[str] = []
    if item.get("type") == "named" and item.get("name"):
        flag = str(item["name"]).lstrip("-")
        names += [item.get("valueHint") or flag, flag, flag.replace("-", "_")]
    elif item.get("type") == "positional" and item.get("valueHint"):
        names.append(str(item["valueHint"]))
    names += list(item.get("variables") or {})
    names += unfilled(item.get("value"))
    return names


def param_names(doc: dict[str, Any], kind: str, index: int) -> list[str]:
    """Every param name the chosen package or remote of ``doc`` takes, in document order."""
    names: list[str] = []
    if kind == "package":
        pkg = doc["packages"][index]
        for item in (
            (pkg.get("runtimeArguments") or [])
            + (pkg.get("packageArguments") or [])
            + (pkg.get("environmentVariables") or [])
        ):
            names += _item_names(item)
    else:
        remote = doc["remotes"][index]
        names += unfilled(remote.get("url")) + list(remote.get("variables") or {})
        for h in remote.get("headers") or []:
            names += _item_names(h)
    return list(dict.fromkeys(names))


def check_params(doc: dict[str, Any], kind: str, index: int, params: dict[str, Any]) -> None:
    """Refuse a param the chosen package or remote does not take (it would do nothing)."""
    valid = param_names(doc, kind, index)
    unknown = [k for k in params if k not in valid]
    if not unknown:
        return
    first = unknown[0]
    close = difflib.get_close_matches(first, valid, n=1, cutoff=0.4)
    env_names = {
        str(v.get("name"))
        for p in (doc.get("packages") or [])
        for v in (p.get("environmentVariables") or [])
    } | {str(h.get("name")) for r in (doc.get("remotes") or []) for h in (r.get("headers") or [])}
    takes = f"it takes {', '.join(valid)}" if valid else "it takes no params"
    inputs: tuple[str, ...] = ("params",)
    if first in env_names:
        hint = f"{first} is an environment variable or header: pass it as env; {takes}"
        inputs = ("params", "env")
    elif close:
        hint = f"did you mean {close[0]}? {takes}"
    else:
        hint = takes
    names = ", ".join(repr(k) for k in unknown)
    raise UsageError(
        f"{doc.get('name')} ({kind}) takes no param{'s' if len(unknown) > 1 else ''} {names}",
        hint,
        inputs=inputs,
    )


def render_server(
    doc: dict[str, Any],
    *,
    params: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    transport: str | None = None,
    pin: str = "exact",
    version: str | None = None,
    package: str | None = None,
) -> Rendered:
    """Render one official server.json document as a neutral entry, its package pinned at
    ``pin`` (the catalog's version, or ``version``). A param the chosen package or remote does
    not take is a :class:`UsageError`."""
    params = dict(params or {})
    kind, index = choose(doc, transport, package)
    check_params(doc, kind, index, params)
    if kind == "package":
        entry, missing = _package_entry(
            doc["packages"][index], params, dict(env or {}), pin, version
        )
        return Rendered(entry, kind, index, missing)
    entry = _remote_entry(doc["remotes"][index], params, {**(env or {}), **(headers or {})})
    return Rendered(entry, kind, index)
