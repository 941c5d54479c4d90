"""What a client is, as data: where its file lives, its dialect, and the shape of its entries.

    >>> from mcp_orch.domain.clients import get_client
    >>> spec = get_client("cursor")
    >>> spec.servers_key, spec.dialect
    (('mcpServers',), 'json')

Entries move between two shapes. The *neutral* shape is the same for every client::

    {"transport": "stdio", "command": "npx", "args": [...], "env": {...}}
    {"transport": "streamable-http" | "sse", "url": "https://...", "headers": {...}}

and :func:`to_native` / :func:`from_native` turn it into, and back from, the client's own entry
using only the field names in the client's :class:`ClientSpec` row. No client has code of its own.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp_orch.core.errors import ParseError

Dialect = Literal["json", "jsonc", "toml", "yaml"]
OSName = Literal["linux", "macos", "windows"]
TRANSPORTS = ("stdio", "streamable-http", "sse")

# Commands that are scripts or shims rather than executables on Windows: clients that spawn them
# directly fail there, so they are written as ``cmd /c <command> ...`` for clients that need it.
WINDOWS_SHIMS = frozenset({"npx", "npm", "pnpm", "pnpx", "yarn", "bunx", "uvx", "uv", "node"})


@dataclass(frozen=True)
class StdioShape:
    """Field names of a client's stdio entry."""

    type_key: str | None = None  # e.g. "type"; None when the entry has no type field
    type_value: str | None = None  # e.g. "stdio" / "local"
    command: str = "command"
    args: str = "args"
    env: str = "env"
    command_array: bool = False  # OpenCode / Kilo: "command": [cmd, *args]
    cwd: str = "cwd"  # the working-directory field (the probe starts the server there)


@dataclass(frozen=True)
class RemoteShape:
    """Field names of a client's native remote entry for one transport."""

    type_key: str | None = "type"
    type_value: str | None = None
    url: str = "url"
    headers: str = "headers"


@dataclass(frozen=True)
class ClientSpec:
    """One row of the client table."""

    id: str
    name: str
    dialect: Dialect
    paths: dict[str, str]  # os -> path template (tokens: ~ {AS} {AD} {LAD} {XC} {VSU} {SYS})
    servers_key: tuple[str, ...] = ("mcpServers",)
    project_path: str | None = None  # relative to the project dir
    layout: Literal["map", "list", "array-of-tables"] = "map"
    name_field: str | None = None  # where a list/array entry keeps its name
    name_in_entry: str | None = None  # map entries that repeat their name (Goose)
    stdio: StdioShape = StdioShape()
    remote: dict[str, RemoteShape] = field(default_factory=dict)  # native remote transports
    placeholder: str | None = None  # env reference syntax, NAME stands for the variable
    windows_cmd_wrap: bool = True
    extra_fields: tuple[str, ...] = ()  # fields the client knows beyond the shape above
    static_fields: dict[str, Any] = field(default_factory=dict)  # written into every entry
    new_file_fields: dict[str, Any] = field(default_factory=dict)  # top keys of a new file
    env_passthrough: str | None = None  # field listing variables passed through (Codex)
    bearer_env_field: str | None = None  # field naming the bearer token's variable (Codex)
    extra_patterns: tuple[str, ...] = ()  # more files it reads (globs, home- or project-relative)
    off_switch: tuple[str, Any] | None = None  # (field, value): that value switches a server off
    required_fields: tuple[str, ...] = ()  # fields every stdio entry must have (schema)
    sample_servers: tuple[str, ...] = ()  # catalog ids `init-configs` publishes for this client
    max_servers: int | None = None
    max_name_length: int | None = None
    name_pattern: str = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"  # JSON Schema (ECMA); use re.fullmatch
    limits: str = ""
    source: str = ""

    @property
    def native_remote(self) -> bool:
        return bool(self.remote)

    def supports(self, transport: str) -> bool:
        return transport == "stdio" or transport in self.remote

    def known_fields(self) -> set[str]:
        """Every field name this client reads in a server entry."""
        s = self.stdio
        names = {s.command, s.args, s.env} | set(self.extra_fields) | set(self.static_fields)
        for key in (s.type_key, self.name_field, self.name_in_entry):
            if key:
                names.add(key)
        if self.off_switch:
            names.add(self.off_switch[0])
        for shape in self.remote.values():
            names |= {shape.url, shape.headers}
            if shape.type_key:
                names.add(shape.type_key)
        return names

    def url_fields(self) -> set[str]:
        """The fields that hold a remote server's URL in this client's entries."""
        return {shape.url for shape in self.remote.values()}

    def header_fields(self) -> set[str]:
        """The fields that hold a remote server's headers in this client's entries."""
        return {shape.headers for shape in self.remote.values()}

    def switched_off(self, entry: Any) -> bool:
        """True when ``entry`` carries this client's off switch (``off_switch``) at its off value;
        a client without a switch starts every entry."""
        if not self.off_switch or not isinstance(entry, dict) or self.off_switch[0] not in entry:
            return False
        key, off = self.off_switch
        value = entry[key]
        return type(value) is type(off) and bool(value == off)

    def placeholder_for(self, var: str) -> str | None:
        return self.placeholder.replace("NAME", var) if self.placeholder else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "dialect": self.dialect,
            "paths": dict(self.paths),
            "project_path": self.project_path,
            "servers_key": ".".join(self.servers_key)
            if len(self.servers_key) > 1
            else self.servers_key[0],
            "layout": self.layout,
            "native_remote": sorted(self.remote),
            "placeholder": self.placeholder,
            "windows_cmd_wrap": self.windows_cmd_wrap,
            "max_servers": self.max_servers,
            "limits": self.limits,
            "source": self.source,
        }


_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def to_native(
    spec: ClientSpec, neutral: dict[str, Any], target_os: str = "linux"
) -> dict[str, Any]:
    """Render a neutral entry as ``spec``'s entry. Remote transports the client cannot run
    natively are wrapped with ``mcp-remote`` (see :func:`wrap_remote`)."""
    transport = neutral.get("transport", "stdio")
    if transport != "stdio" and transport not in spec.remote:
        neutral = wrap_remote(neutral)
        transport = "stdio"
    out: dict[str, Any] = {}
    if transport == "stdio":
        s = spec.stdio
        command = str(neutral.get("command", ""))
        args = [str(a) for a in neutral.get("args", [])]
        if target_os == "windows" and spec.windows_cmd_wrap and command in WINDOWS_SHIMS:
            command, args = "cmd", ["/c", command, *args]
        if s.type_key and s.type_value:
            out[s.type_key] = s.type_value
        if s.command_array:
            out[s.command] = [command, *args]
        else:
            out[s.command] = command
            if args or s.args:
                out[s.args] = args
        env = neutral.get("env") or {}
        if env:
            out[s.env] = dict(env)
    else:
        r = spec.remote[transport]
        if r.type_key and r.type_value:
            out[r.type_key] = r.type_value
        out[r.url] = neutral["url"]
        if neutral.get("headers"):
            out[r.headers] = dict(neutral["headers"])
    for key, value in spec.static_fields.items():
        out.setdefault(key, value)
    return out


def from_native(spec: ClientSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """Read ``spec``'s entry back into the neutral shape (unknown fields are dropped)."""
    s = spec.stdio
    for transport, r in spec.remote.items():
        if r.url in entry and (
            r.type_key is None or not r.type_value or entry.get(r.type_key) == r.type_value
        ):
            return {
                "transport": transport,
                "url": entry[r.url],
                "headers": dict(entry.get(r.headers) or {}),
            }
    if s.command_array:
        cmd = list(entry.get(s.command) or [""])
        command, args = (cmd[0] if cmd else ""), cmd[1:]
    else:
        command, args = entry.get(s.command, ""), list(entry.get(s.args) or [])
    if command == "cmd" and args[:1] in (["/c"], ["/C"]) and len(args) >= 2:
        command, args = args[1], args[2:]
    return {
        "transport": "stdio",
        "command": command,
        "args": args,
        "env": dict(entry.get(s.env) or {}),
    }


def header_env_name(header: str) -> str:
    """The env var that carries a header's value through mcp-remote."""
    if header.lower() == "authorization":
        return "AUTH_HEADER"
    return re.sub(r"[^A-Za-z0-9]+", "_", header).strip("_").upper() + "_HEADER"


def wrap_remote(neutral: dict[str, Any]) -> dict[str, Any]:
    """A remote server as a stdio bridge: ``npx -y mcp-remote <url> --header Name:${VAR}``.

    The header value goes into ``env`` and the argument holds ``Name:${VAR}`` with no space after
    the colon, because Claude Desktop, Cursor and Codex do not quote arguments on Windows.
    """
    args = ["-y", "mcp-remote", neutral["url"]]
    env: dict[str, str] = {}
    for name, value in (neutral.get("headers") or {}).items():
        var = header_env_name(name)
        args += ["--header", f"{name}:${{{var}}}"]
        env[var] = value
    if neutral.get("transport") == "sse":
        args += ["--transport", "sse-only"]
    return {"transport": "stdio", "command": "npx", "args": args, "env": env}


def unwrap_remote(neutral: dict[str, Any]) -> dict[str, Any]:
    """The remote server behind an ``mcp-remote`` bridge (the inverse of :func:`wrap_remote`);
    any other entry is returned unchanged."""
    args = [str(a) for a in neutral.get("args") or []]
    if neutral.get("command") not in ("npx", "bunx", "pnpx") or "mcp-remote" not in args:
        return neutral
    rest = args[args.index("mcp-remote") + 1 :]
    if not rest or not rest[0].startswith(("http://", "https://")):
        return neutral
    url, rest = rest[0], rest[1:]
    env = dict(neutral.get("env") or {})
    headers: dict[str, str] = {}
    transport = "streamable-http"
    i = 0
    while i < len(rest):
        if rest[i] == "--header" and i + 1 < len(rest):
            name, _, value = rest[i + 1].partition(":")
            m = re.fullmatch(r"\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}\s*", value)
            headers[name.strip()] = env.get(m.group(1), value) if m else value.strip()
            i += 2
        elif rest[i] == "--transport" and i + 1 < len(rest):
            transport = "sse" if rest[i + 1].startswith("sse") else "streamable-http"
            i += 2
        else:
            return neutral  # an option we do not model: keep the bridge as it is
    return {"transport": transport, "url": url, "headers": headers}


def refs_from_placeholders(spec: ClientSpec, value: Any) -> Any:
    """Turn a client's own placeholders (``${NAME}``, ``{env:NAME}``, ...) back into
    ``${env:NAME}`` references."""
    if not spec.placeholder or spec.placeholder == "${env:NAME}":
        return value
    head, _, tail = spec.placeholder.partition("NAME")
    pattern = re.compile(re.escape(head) + r"([A-Za-z_][A-Za-z0-9_]*)" + re.escape(tail))
    if isinstance(value, str):
        return pattern.sub(lambda m: "${env:" + m.group(1) + "}", value)
    if isinstance(value, dict):
        return {k: refs_from_placeholders(spec, v) for k, v in value.items()}
    if isinstance(value, list):
        return [refs_from_placeholders(spec, v) for v in value]
    return value


def env_refs(value: Any) -> list[str]:
    """The names of every ``${env:NAME}`` reference in a value (nested)."""
    found: list[str] = []
    if isinstance(value, str):
        found += _REF.findall(value)
    elif isinstance(value, dict):
        for v in value.values():
            found += env_refs(v)
    elif isinstance(value, list):
        for v in value:
            found += env_refs(v)
    return found


def substitute_refs(value: Any, replace: Any) -> Any:
    """Replace every ``${env:NAME}`` in a value (nested) with ``replace(NAME)``."""
    if isinstance(value, str):
        return _REF.sub(lambda m: replace(m.group(1)), value)
    if isinstance(value, dict):
        return {k: substitute_refs(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_refs(v, replace) for v in value]
    return value


# ---- where a client keeps its servers in its file ----------------------------------------


def server_map(spec: ClientSpec, payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> native entry, read from a payload (or a whole config file) of ``spec``."""
    node: Any = payload
    for key in spec.servers_key:
        if not isinstance(node, dict):
            return {}
        node = node.get(key)
        if node is None:
            return {}
    if spec.layout == "map":
        return dict(node) if isinstance(node, dict) else {}
    out: dict[str, dict[str, Any]] = {}
    if isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, dict):
                name = str(item.get(spec.name_field or "name") or f"#{i}")
                entry = {k: v for k, v in item.items() if k != spec.name_field}
                key = name
                while key in out:  # a repeated name in a list stays visible to MCP005
                    key += " "
                out[key] = entry
    return out


_WORDS = {  # what a dict and a list are called in each dialect
    "json": ("an object", "an array"),
    "jsonc": ("an object", "an array"),
    "toml": ("a table", "an array"),
    "yaml": ("a mapping", "a list"),
}


def _kind(spec: ClientSpec, value: Any) -> str:
    mapping, sequence = _WORDS[spec.dialect]
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return mapping
    if isinstance(value, list):
        return sequence
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return "a " + type(value).__name__.lower()  # TOML dates and times


def _has_control(name: str) -> bool:
    return any(c < " " or "\x7f" <= c <= "\x9f" for c in name)


def servers_problem(spec: ClientSpec, data: Any) -> tuple[str, str, str] | None:
    """What is wrong with the type of the section that holds ``spec``'s servers in ``data`` (a
    whole parsed file), or of one entry in it, as (key path, problem, what to fix); ``None``
    when nothing is (a missing section is fine: the file has no servers yet). Server names with
    a control character (a newline, a NUL) are refused too: no client can use them, and written
    back they would break the file's lines."""
    mapping, sequence = _WORDS[spec.dialect]
    node: Any = data
    for depth, key in enumerate(spec.servers_key):
        if not isinstance(node, dict):
            where = ".".join(spec.servers_key[:depth]) or "(top level)"
            what = f"is {_kind(spec, node)}, but {spec.name} expects {mapping}"
            return where, what, f"the `{spec.servers_key[max(depth - 1, 0)]}` key"
        if key not in node or (node[key] is None and spec.dialect == "yaml"):
            return None  # no servers (a YAML key with no value is an empty section)
        node = node[key]
    path = ".".join(spec.servers_key)
    if spec.layout == "map":
        if not isinstance(node, dict):
            what = f"is {_kind(spec, node)}, but {spec.name} expects {mapping} of servers"
            return path, what, f"the `{path}` key"
        items: list[tuple[str, Any]] = [(f"{path}.{name}", e) for name, e in node.items()]
        names = [str(name) for name in node]
    else:
        wanted = "an array of tables ([[" + path + "]])" if spec.layout != "list" else sequence
        if not isinstance(node, list):
            what = f"is {_kind(spec, node)}, but {spec.name} expects {wanted} of servers"
            return path, what, f"the `{path}` key"
        items = [(f"{path}[{i}]", e) for i, e in enumerate(node)]
        field = spec.name_field or "name"
        names = [str(e.get(field, "")) for e in node if isinstance(e, dict)]
    for where, entry in items:
        if not isinstance(entry, dict):
            what = f"is {_kind(spec, entry)}, but a server entry must be {mapping}"
            return where, what, f"the entry `{where}`"
    for name in names:
        if _has_control(name):
            what = f"has a server named {name!r}, with a control character in its name"
            return path, what, f"the server {name!r}"
    return None


def check_servers(spec: ClientSpec, data: Any, name: str = "the file") -> None:
    """``ParseError`` naming the file, the key path and the expected type when the servers
    section of ``data`` (or an entry in it) has the wrong type (see :func:`servers_problem`)."""
    problem = servers_problem(spec, data)
    if problem is not None:
        where, what, fix = problem
        raise ParseError(
            f"{name}: `{where}` {what}",
            f"fix or remove {fix} in {name}; it was left untouched",
        )


def build_payload(spec: ClientSpec, servers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The client-native config holding ``servers`` (name -> native entry) at the client's key."""
    node: Any
    if spec.layout == "map":
        named = spec.name_in_entry
        node = {
            name: ({named: name, **copy.deepcopy(e)} if named else copy.deepcopy(e))
            for name, e in servers.items()
        }
    else:
        node = [
            {spec.name_field or "name": name, **copy.deepcopy(e)} for name, e in servers.items()
        ]
    for key in reversed(spec.servers_key):
        node = {key: node}
    result: dict[str, Any] = node
    return result
