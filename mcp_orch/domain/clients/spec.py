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
from mcp_orch.domain.pins import MCP_REMOTE, MCP_REMOTE_VERSION, npm_spec

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
    headers: str = "headers"  # a dotted path for a nested map (Continue: requestOptions.headers)
    alt_urls: tuple[str, ...] = ()  # more fields read as the URL (Gemini's old httpUrl), first wins
    untyped: bool = False  # an entry with the URL and no type field is this transport
    required: tuple[str, ...] = ()  # fields the client needs in this entry (Goose: description)

    @property
    def header_group(self) -> str:
        """The top-level field that holds the headers (``requestOptions`` for Continue)."""
        return self.headers.split(".", 1)[0]


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
    # (field, values): entries with one of these values are the client's own extensions (Goose's
    # builtin ones, Zed's from an extension): valid without a command, never imported or probed
    builtin_kinds: tuple[str, tuple[str, ...]] | None = None
    required_fields: tuple[str, ...] = ()  # fields every stdio entry must have (schema)
    sample_servers: tuple[str, ...] = ()  # catalog ids `init-configs` publishes for this client
    max_servers: int | None = None
    max_name_length: int | None = None
    # most tools (of every server together) the client gives the model, as its documentation
    # states (rule MCP015); None: no documented limit. The source cites where it says so.
    tool_limit: int | None = None
    tool_limit_source: str = ""
    name_pattern: str = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"  # JSON Schema (ECMA); use re.fullmatch
    # -- secrets in headers: how the client reads a header's value from the environment ------
    header_env_field: str | None = None  # map header name -> variable (Codex env_http_headers)
    header_placeholder: str | None = None  # placeholder in headers only (Goose ${NAME})
    # (variable, header, format) fields naming one header's variable (Mistral Vibe api_key_env)
    api_key_fields: tuple[str, str, str] | None = None
    named_fields: tuple[str, ...] = ()  # fields written with the server's name if absent (Goose)
    # (variable, folder): a set variable replaces that user folder (CODEX_HOME for ~/.codex)
    home_env: tuple[str, str] | None = None
    # -- the client's own secret mechanism: a top-level list of prompted inputs (VS Code's
    # "inputs" with promptString and password: true, kept encrypted by the client), referenced
    # in entries as input_placeholder (NAME stands for the input's id)
    inputs_key: str | None = None
    input_placeholder: str | None = None
    other_project_paths: tuple[str, ...] = ()  # more project files it reads (not written)
    deployable: bool = True  # False: the client no longer reads the file (deploy refuses)
    limits: str = ""
    source: str = ""
    verified_by: str = ""  # the client build or source file and commit these facts come from

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
            names |= {shape.url, shape.header_group, *shape.alt_urls, *shape.required}
            if shape.type_key:
                names.add(shape.type_key)
        for key in (self.env_passthrough, self.bearer_env_field, self.header_env_field):
            if key:
                names.add(key)
        names |= set(self.api_key_fields or ()) | set(self.named_fields)
        return names

    def url_fields(self) -> set[str]:
        """The fields that hold a remote server's URL in this client's entries."""
        return {u for shape in self.remote.values() for u in (shape.url, *shape.alt_urls)}

    def header_fields(self) -> set[str]:
        """The (top-level) fields that hold a remote server's headers in this client's entries."""
        return {shape.header_group for shape in self.remote.values()}

    def switched_off(self, entry: Any) -> bool:
        """True when ``entry`` carries this client's off switch (``off_switch``) at its off value;
        a client without a switch starts every entry."""
        if not self.off_switch or not isinstance(entry, dict) or self.off_switch[0] not in entry:
            return False
        key, off = self.off_switch
        value = entry[key]
        return type(value) is type(off) and bool(value == off)

    def is_builtin(self, entry: Any) -> bool:
        """True when ``entry`` is one of the client's own extensions (``builtin_kinds``): the
        client runs it itself, so it has no command or URL of its own."""
        if not self.builtin_kinds or not isinstance(entry, dict):
            return False
        key, values = self.builtin_kinds
        return isinstance(entry.get(key), str) and entry[key] in values

    def placeholder_for(self, var: str) -> str | None:
        return self.placeholder.replace("NAME", var) if self.placeholder else None

    def input_for(self, var: str) -> str | None:
        """``var`` as a reference to the client's own prompted input (``${input:VAR}``), or
        None for a client without inputs."""
        return self.input_placeholder.replace("NAME", var) if self.input_placeholder else None

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
            "deployable": self.deployable,
            "limits": self.limits,
            "source": self.source,
            "verified_by": self.verified_by,
        }


_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")


def to_native(
    spec: ClientSpec, neutral: dict[str, Any], target_os: str = "linux", pin: str = "exact"
) -> dict[str, Any]:
    """Render a neutral entry as ``spec``'s entry. Remote transports the client cannot run
    natively are wrapped with ``mcp-remote``, pinned at ``pin`` (see :func:`wrap_remote`)."""
    transport = neutral.get("transport", "stdio")
    if transport != "stdio" and transport not in spec.remote:
        neutral = wrap_remote(neutral, pin)
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
            _set_path(out, r.headers, dict(neutral["headers"]))
    for key, value in spec.static_fields.items():
        out.setdefault(key, value)
    return out


def from_native(spec: ClientSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """Read ``spec``'s entry back into the neutral shape (unknown fields are dropped). Header
    values the client reads from the environment (Codex ``env_http_headers`` and
    ``bearer_token_env_var``, Goose ``${NAME}``, Mistral Vibe ``api_key_env``) come back as
    ``${env:NAME}`` references, and so do the variables a client passes through by name."""
    s = spec.stdio
    for transport, r in spec.remote.items():
        url_key = _remote_url_key(r, entry)
        if url_key is not None:
            headers = _get_path(entry, r.headers)
            return {
                "transport": transport,
                "url": entry[url_key],
                "headers": _headers_from_env_forms(
                    spec, entry, dict(headers) if isinstance(headers, dict) else {}
                ),
            }
    if s.command_array:
        cmd = list(entry.get(s.command) or [""])
        command, args = (cmd[0] if cmd else ""), cmd[1:]
    else:
        command, args = entry.get(s.command, ""), list(entry.get(s.args) or [])
    if command == "cmd" and args[:1] in (["/c"], ["/C"]) and len(args) >= 2:
        command, args = args[1], args[2:]
    env = dict(entry.get(s.env) or {})
    passed = entry.get(spec.env_passthrough) if spec.env_passthrough else None
    for name in passed if isinstance(passed, list) else []:
        if isinstance(name, str):
            env.setdefault(name, "${env:" + name + "}")
    return {"transport": "stdio", "command": command, "args": args, "env": env}


def _remote_url_key(r: RemoteShape, entry: dict[str, Any]) -> str | None:
    """The field holding the URL when ``entry`` is a remote entry of shape ``r``, else None."""
    typed = r.type_key is None or not r.type_value or entry.get(r.type_key) == r.type_value
    if r.untyped and r.type_key and r.type_key not in entry:
        typed = True
    for key in r.alt_urls:  # an old or alternative URL field: its own transport, any type
        if key in entry and (typed or not r.type_key or r.type_key not in entry):
            return key
    return r.url if r.url in entry and typed else None


def _get_path(entry: dict[str, Any], path: str) -> Any:
    node: Any = entry
    for key in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _set_path(entry: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = entry
    for key in parents:
        child = node.get(key)
        node[key] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[last] = value


def _pop_path(entry: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node: Any = entry
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)
    if parents and isinstance(entry.get(parents[0]), dict) and not entry[parents[0]]:
        del entry[parents[0]]  # an emptied requestOptions goes too


_BARE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _headers_from_env_forms(
    spec: ClientSpec, entry: dict[str, Any], headers: dict[str, Any]
) -> dict[str, Any]:
    """``headers`` plus the headers ``entry`` takes from the environment, as references."""
    if spec.header_placeholder:
        head, _, tail = spec.header_placeholder.partition("NAME")
        pattern = re.compile(re.escape(head) + r"([A-Za-z_][A-Za-z0-9_]*)" + re.escape(tail))
        headers = {
            k: pattern.sub(lambda m: "${env:" + m.group(1) + "}", v) if isinstance(v, str) else v
            for k, v in headers.items()
        }
    named = entry.get(spec.header_env_field) if spec.header_env_field else None
    for name, var in (named or {}).items() if isinstance(named, dict) else ():
        headers.setdefault(str(name), "${env:" + str(var) + "}")
    bearer = entry.get(spec.bearer_env_field) if spec.bearer_env_field else None
    if isinstance(bearer, str) and bearer:
        headers.setdefault("Authorization", "Bearer ${env:" + bearer + "}")
    if spec.api_key_fields and isinstance(entry.get(spec.api_key_fields[0]), str):
        var_key, header_key, format_key = spec.api_key_fields
        header = str(entry.get(header_key) or "Authorization")
        fmt = str(entry.get(format_key) or "Bearer {token}")
        value = fmt.replace("{token}", "${env:" + entry[var_key] + "}")
        headers.setdefault(header, value.replace("{{", "{").replace("}}", "}"))
    return headers


def _placeholders(form: str, value: Any) -> Any:
    """``value`` with each ``${env:NAME}`` written in the placeholder ``form``."""
    if not isinstance(value, str):
        return value
    return _REF.sub(lambda m: form.replace("NAME", m.group(1)), value)


def header_env_forms(spec: ClientSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """Move the ``${env:NAME}`` references in a remote entry's headers into the form ``spec``
    reads them from the environment in, so the secret is never written into the file:
    Codex ``env_http_headers`` (a whole-value reference) and ``bearer_token_env_var``
    (``Bearer ${env:NAME}``), Goose ``${NAME}`` in the header with NAME in ``env_keys``, Mistral
    Vibe ``api_key_env`` (one header). References left over are resolved at deploy time."""
    entry = copy.deepcopy(entry)
    for shape in spec.remote.values():
        headers = _get_path(entry, shape.headers)
        if not isinstance(headers, dict) or _remote_url_key(shape, entry) is None:
            continue
        headers = dict(headers)
        if spec.header_placeholder:
            names = [n for v in headers.values() for n in _REF.findall(str(v))]
            headers = {k: _placeholders(spec.header_placeholder, v) for k, v in headers.items()}
            if names and spec.env_passthrough:
                listed = entry.get(spec.env_passthrough)
                known = list(listed) if isinstance(listed, list) else []
                entry[spec.env_passthrough] = list(dict.fromkeys([*known, *names]))
        if spec.bearer_env_field:
            m = re.fullmatch(
                r"Bearer \$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", str(headers.get("Authorization", ""))
            )
            if m:
                del headers["Authorization"]
                entry[spec.bearer_env_field] = m.group(1)
        if spec.header_env_field:
            moved = {k: m.group(1) for k, v in headers.items() if (m := _REF.fullmatch(str(v)))}
            if moved:
                known_map = entry.get(spec.header_env_field)
                entry[spec.header_env_field] = {
                    **(known_map if isinstance(known_map, dict) else {}),
                    **moved,
                }
                headers = {k: v for k, v in headers.items() if k not in moved}
        if spec.api_key_fields:
            var_key, header_key, format_key = spec.api_key_fields
            for name, value in list(headers.items()):
                refs = _REF.findall(str(value))
                if len(refs) != 1 or var_key in entry:
                    continue
                m = _REF.search(str(value))
                assert m is not None
                text = str(value)
                fmt = (
                    text[: m.start()].replace("{", "{{").replace("}", "}}")
                    + "{token}"
                    + text[m.end() :].replace("{", "{{").replace("}", "}}")
                )
                entry[var_key] = refs[0]
                if name != "Authorization":
                    entry[header_key] = name
                if fmt != "Bearer {token}":
                    entry[format_key] = fmt
                del headers[name]
                break  # the client names one header's variable
        if headers:
            _set_path(entry, shape.headers, headers)
        else:
            _pop_path(entry, shape.headers)
        break
    return entry


def bridge_env_forms(spec: ClientSpec, entry: dict[str, Any]) -> dict[str, Any]:
    """For a client that passes variables through by name (``env_passthrough``: Codex
    ``env_vars``, Goose ``env_keys``): an ``mcp-remote`` bridge's header variable whose value
    holds references (``AUTH_HEADER = Bearer ${env:TOKEN}``) is dropped, the argument names the
    variables themselves (``Authorization:Bearer ${TOKEN}``, which mcp-remote expands) and they
    are passed through, so no secret is written. Under ``cmd /c`` (Windows) a value with a space
    is left alone: cmd would split the argument."""
    s = spec.stdio
    env, args = entry.get(s.env), entry.get(s.args)
    if (
        not spec.env_passthrough
        or not isinstance(env, dict)
        or not isinstance(args, list)
        or bridge_index(args) is None
    ):
        return entry
    windows = entry.get(s.command) == "cmd"
    entry = copy.deepcopy(entry)
    env, args = entry[s.env], entry[s.args]
    names: list[str] = []
    for key, value in list(env.items()):
        text = str(value)
        refs = _REF.findall(text)
        slot = "${" + key + "}"
        if not refs or text == "${env:" + key + "}" or (windows and " " in text):
            continue
        holders = [i for i, a in enumerate(args) if isinstance(a, str) and slot in a]
        if not holders:
            continue
        for i in holders:
            args[i] = args[i].replace(slot, _REF.sub(lambda m: "${" + m.group(1) + "}", text))
        del env[key]
        names += refs
    if names:
        listed = entry.get(spec.env_passthrough)
        known = list(listed) if isinstance(listed, list) else []
        entry[spec.env_passthrough] = list(dict.fromkeys([*known, *names]))
    return entry


def header_env_name(header: str) -> str:
    """The env var that carries a header's value through mcp-remote."""
    if header.lower() == "authorization":
        return "AUTH_HEADER"
    return re.sub(r"[^A-Za-z0-9]+", "_", header).strip("_").upper() + "_HEADER"


def bridge_index(args: list[Any]) -> int | None:
    """The index of the ``mcp-remote`` argument (bare or ``mcp-remote@version``), or None."""
    for i, a in enumerate(args):
        if isinstance(a, str) and (a == MCP_REMOTE or a.startswith(MCP_REMOTE + "@")):
            return i
    return None


def wrap_remote(neutral: dict[str, Any], pin: str = "exact") -> dict[str, Any]:
    """A remote server as a stdio bridge: ``npx -y mcp-remote@0.15.1 <url> --header
    Name:${VAR}`` (the bridge pinned at ``pin``: ``exact``, ``minor`` or ``floating``).

    The header value goes into ``env`` and the argument holds ``Name:${VAR}`` with no space after
    the colon, because Claude Desktop, Cursor and Codex do not quote arguments on Windows.
    """
    args = ["-y", npm_spec(MCP_REMOTE, MCP_REMOTE_VERSION, pin), neutral["url"]]
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
    at = bridge_index(args)
    if neutral.get("command") not in ("npx", "bunx", "pnpx") or at is None:
        return neutral
    rest = args[at + 1 :]
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
            if m and m.group(1) in env:
                headers[name.strip()] = env[m.group(1)]
            else:  # mcp-remote expands ${VAR} from its environment (passed through by name)
                headers[name.strip()] = _BARE.sub(
                    lambda v: str(env.get(v.group(1), "${env:" + v.group(1) + "}")), value.strip()
                )
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


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _has_control(name: str) -> bool:
    return _CONTROL.search(name) is not None


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
        items: list[tuple[Any, Any]] = list(node.items())
        names = [str(name) for name in node]
    else:
        wanted = "an array of tables ([[" + path + "]])" if spec.layout != "list" else sequence
        if not isinstance(node, list):
            what = f"is {_kind(spec, node)}, but {spec.name} expects {wanted} of servers"
            return path, what, f"the `{path}` key"
        items = list(enumerate(node))
        field = spec.name_field or "name"
        names = [str(e.get(field, "")) for e in node if isinstance(e, dict)]
    for key, entry in items:  # the key path is only worked out for the entry that is wrong
        if not isinstance(entry, dict):
            where = f"{path}[{key}]" if spec.layout != "map" else f"{path}.{key}"
            what = f"is {_kind(spec, entry)}, but a server entry must be {mapping}"
            return where, what, f"the entry `{where}`"
    if not _has_control("".join(names)):  # one search over every name rules out the common case
        return None
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


def with_named_fields(spec: ClientSpec, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` with each of ``spec.named_fields`` it lacks set to the server's name (Goose
    skips an extension without a description)."""
    missing = [f for f in spec.named_fields if f not in entry]
    if not missing or spec.is_builtin(entry):
        return entry
    return {**entry, **dict.fromkeys(missing, name)}


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and scalars; anything else through
    ``copy.deepcopy``): several times faster than ``deepcopy`` for a payload's entries."""
    kind = type(value)
    if kind is dict:
        return {k: _copy(v) for k, v in value.items()}
    if kind is list:
        return [_copy(v) for v in value]
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    return copy.deepcopy(value)


def build_payload(spec: ClientSpec, servers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The client-native config holding ``servers`` (name -> native entry) at the client's key."""
    servers = {name: with_named_fields(spec, name, e) for name, e in servers.items()}
    node: Any
    if spec.layout == "map":
        named = spec.name_in_entry
        node = {
            name: ({named: name, **_copy(e)} if named else _copy(e)) for name, e in servers.items()
        }
    else:
        node = [{spec.name_field or "name": name, **_copy(e)} for name, e in servers.items()]
    for key in reversed(spec.servers_key):
        node = {key: node}
    result: dict[str, Any] = node
    return result
