"""Named validation rules. Each has a stable code, a severity, and a fix hint.

    >>> from mcp_orch.services.validation import RULES
    >>> [r.code for r in RULES][:3]
    ['MCP001', 'MCP002', 'MCP003']

A rule is a function of one :class:`Subject` (a server entry with what the catalog knows about
it), of the whole :class:`Context`, or (scope ``probe``, level ``live``) of one server's probe
result; it yields :class:`Finding` objects. docs/reference/rules.md
lists every rule with a failing example and its fix.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlparse

from mcp_orch.core.errors import MCPOrchError, UsageError
from mcp_orch.core.resources import client_schema_name, data_dir, validator
from mcp_orch.core.text import plural
from mcp_orch.domain.clients import (
    ClientSpec,
    all_servers_keys,
    all_url_fields,
    bridge_index,
    env_refs,
)
from mcp_orch.domain.pins import package_of, pinned
from mcp_orch.domain.secrets import is_placeholder, is_reference, scan_entry, without_references
from mcp_orch.domain.transport import unfilled
from mcp_orch.services.secrets.store import SecretStore, is_launcher_entry
from mcp_orch.services.validation.fastschema import accepts
from mcp_orch.services.validation.report import Finding, Severity

if TYPE_CHECKING:
    from mcp_orch.domain.catalog import Server
    from mcp_orch.services.probe import ServerProbe


@dataclass
class Subject:
    """One server entry under check."""

    name: str
    native: dict[str, Any]
    neutral: dict[str, Any]
    catalog: Server | None = None  # when the entry came from the catalog
    required_env: list[str] = field(default_factory=list)
    secret_inputs: set[str] = field(default_factory=set)


@dataclass
class Context:
    client: ClientSpec
    subjects: list[Subject]
    payload: dict[str, Any]
    check_path: bool = True
    in_file: bool = False  # a client's own file (hints are in its syntax), not a draft
    #: command -> whether it is on PATH, looked up once per check (500 entries run few commands)
    on_path: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    title: str
    hint: str
    scope: str  # "server", "config" or "probe" (one probed server: live level only)
    level: str  # "static" (schema and rules) or "environment" (this machine); "live" is probe
    func: Callable[..., Iterator[tuple[str, str, str] | tuple[str, str, str, str]]]

    def run(self, ctx: Context) -> list[Finding]:
        out: list[Finding] = []
        if self.scope == "probe":  # needs a probe result: see run_probe
            return out
        targets: list[Any] = ctx.subjects if self.scope == "server" else [None]
        for subject in targets:
            results = self.func(subject, ctx) if self.scope == "server" else self.func(ctx)
            for res in results:
                server, message, fieldname = res[0], res[1], res[2]
                hint = res[3] if len(res) > 3 else self.hint
                out.append(
                    Finding(self.code, self.name, self.severity, server, message, hint, fieldname)
                )
        return out

    def run_probe(self, probe: ServerProbe) -> list[Finding]:
        """The findings of a ``probe`` rule on one probed server; the function yields
        (message, field, severity)."""
        out: list[Finding] = []
        for res in self.func(probe):
            message, where, severity = res[0], res[1], cast(Severity, res[2])
            out.append(
                Finding(self.code, self.name, severity, probe.server, message, self.hint, where)
            )
        return out


RULES: list[Rule] = []


def rule(
    code: str,
    name: str,
    severity: Severity,
    title: str,
    hint: str,
    scope: str = "server",
    level: str = "static",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        RULES.append(Rule(code, name, severity, title, hint, scope, level, func))
        return func

    return register


def _strings(entry: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(field, value) for every string of a neutral entry."""
    for key in ("command", "url"):
        if isinstance(entry.get(key), str):
            yield key, entry[key]
    for i, arg in enumerate(entry.get("args") or []):
        yield f"args[{i}]", str(arg)
    for group in ("env", "headers"):
        for k, v in (entry.get(group) or {}).items():
            yield f"{group}.{k}", str(v)


@rule(
    "MCP001",
    "required-input-missing",
    "error",
    "A required environment variable or header has no value",
    "give the environment variable a value (a secret as the reference ${env:NAME})",
)
def _required(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str]]:
    env = s.neutral.get("env") or {}
    for name in s.required_env:
        if not str(env.get(name, "")).strip():
            yield s.name, f"required environment variable {name} is not set", f"env.{name}"


@rule(
    "MCP002",
    "unfilled-placeholder",
    "error",
    "A {placeholder} in an argument, URL or header was never filled",
    "give the parameter a value when adding the server",
)
def _placeholders(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str, str]]:
    for where, value in _strings(s.neutral):
        for name in unfilled(value):
            yield (
                s.name,
                f"placeholder {{{name}}} is not filled",
                where,
                f"give the parameter {name} a value when adding the server",
            )


@rule(
    "MCP003",
    "literal-secret",
    "error",
    "A secret is written as a literal value",
    "store a reference instead: ${env:NAME}, and set NAME in the environment",
)
def _literal_secret(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str, str]]:
    flagged: set[str] = set()
    for where, value in _strings(s.neutral):
        group, _, key = where.partition(".")
        if (
            group in ("env", "headers")
            and key in s.secret_inputs
            and value
            and not is_reference(value)
            and not _only_refs(value)
        ):
            var = key.upper().replace("-", "_")
            hint = f"write ${{env:{var}}} and export {var} instead"
            template = _header_template(s, key)
            if template:
                hint = (
                    f"keep the form {template!r} and give its variables ${{env:NAME}} "
                    "references as parameters"
                )
            flagged.add(where)
            yield (
                s.name,
                f"{key} is marked secret in the catalog but holds a literal value",
                where,
                hint,
            )
    # known token formats anywhere; long random values in env and headers
    for hit in scan_entry(s.neutral, server=s.name):
        if hit.field in flagged or is_placeholder(_value_at(s.neutral, hit.field)):
            continue  # a whole ${input:ID} or ${NAME} stands for a value the client asks for
        native = _native_secret_hint(ctx, hit.field, hit.env_name, hit.replacement)
        yield s.name, hit.message, hit.field, native or hit.suggestion


def _value_at(neutral: dict[str, Any], where: str) -> str:
    """The string of a neutral entry at ``env.X``, ``headers.X``, ``args[i]``, ``url``."""
    group, _, key = where.partition(".")
    if key and isinstance(neutral.get(group), dict):
        return str(neutral[group].get(key, ""))
    if where.startswith("args[") and where.endswith("]") and where[5:-1].isdigit():
        args = neutral.get("args") or []
        i = int(where[5:-1])
        return str(args[i]) if i < len(args) else ""
    return str(neutral.get(where, ""))


def _native_secret_hint(ctx: Context, where: str, var: str, replacement: str) -> str | None:
    """How to move a secret out of a client's own file in a way the client still reads (a
    draft's ``${env:NAME}`` written into a file the client does not expand would break it);
    ``None`` for a draft, where ``${env:NAME}`` is right."""
    if not ctx.in_file:
        return None
    spec = ctx.client
    group, _, key = where.partition(".")
    if group == "env" and spec.env_passthrough:
        return (
            f"remove {where} from the file, list {var} in {spec.env_passthrough} and export "
            f"{var}=<the value> where {spec.name} runs"
        )
    if group == "headers" and key.lower() == "authorization" and spec.bearer_env_field:
        return (
            f"remove the header, set {spec.bearer_env_field} = {var!r} and export "
            f"{var}=<the value> where {spec.name} runs"
        )
    native = spec.placeholder_for(var)
    if native:
        written = replacement.replace("${env:" + var + "}", native)
        return f"write {written} in {where} and export {var}=<the value> where {spec.name} runs"
    return _launcher_hint(spec, var)


def _launcher_hint(spec: Any, var: str) -> str:
    """For a client that cannot expand variables: keep the value out of its file with the
    secret store and the launcher (an ``${env:NAME}`` there would reach the server as text)."""
    return (
        f"{spec.name} does not expand variables in its file: put the value in the secret store "
        f"(secret set {var}), import the file into a draft (the secret becomes "
        f"${{env:{var}}}) and deploy with the profile's secrets setting launcher: the entry then "
        "runs the mcp-orch launcher, which reads the value as the server starts, and no value "
        "stays in the file or its backups"
    )


def _header_template(s: Subject, header: str) -> str | None:
    if s.catalog is None:
        return None
    for remote in s.catalog.remotes:
        for h in remote.get("headers") or []:
            if h.get("name") == header and h.get("value"):
                return str(h["value"])
    return None


def _only_refs(value: str) -> bool:
    rest = without_references(value).strip()
    return rest.lower() in ("", "bearer", "token", "basic")


@rule(
    "MCP004",
    "invalid-server-name",
    "error",
    "A server name the client cannot use",
    "use letters, digits, '-', '_' and '.', starting with a letter or digit",
)
def _name(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str]]:
    import re

    if not re.fullmatch(ctx.client.name_pattern, s.name):
        yield s.name, f"server name {s.name!r} is not valid for {ctx.client.name}", "name"


@rule(
    "MCP005",
    "duplicate-server-name",
    "error",
    "Two servers whose names differ only in case (or repeat in a list)",
    "rename one of them (the entry's name in the draft)",
    scope="config",
)
def _duplicates(ctx: Context) -> Iterator[tuple[str, str, str]]:
    seen: dict[str, str] = {}
    for s in ctx.subjects:
        key = s.name.lower()
        if key in seen:
            yield s.name, f"server name {s.name!r} clashes with {seen[key]!r}", "name"
        else:
            seen[key] = s.name


@rule(
    "MCP006",
    "command-not-found",
    "warning",
    "The command of a stdio server is not on PATH here",
    "install it (npx: Node.js; uvx: uv; docker: Docker) or use an absolute path",
    level="environment",
)
def _command(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str, str]]:
    if not ctx.check_path or s.neutral.get("transport") != "stdio":
        return
    command = str(s.neutral.get("command") or "")
    if not command or unfilled(command):
        return
    if os.path.isabs(command) and os.path.exists(command):
        return
    found = ctx.on_path.get(command)
    if found is None:
        found = ctx.on_path[command] = shutil.which(command) is not None
    if not found:
        install = {
            "npx": "install Node.js (https://nodejs.org), which provides npx",
            "uvx": "install uv (https://docs.astral.sh/uv/), which provides uvx",
            "docker": "install Docker (https://docs.docker.com/get-docker/)",
        }.get(command, f"install {command} or use an absolute path")
        yield s.name, f"command {command!r} is not on PATH", "command", install


@rule(
    "MCP007",
    "client-limit",
    "error",
    "The config exceeds a documented limit of the client",
    "remove servers or shorten names",
    scope="config",
)
def _limits(ctx: Context) -> Iterator[tuple[str, ...]]:
    spec = ctx.client
    if spec.max_servers is not None and len(ctx.subjects) > spec.max_servers:
        yield (
            "",
            f"{spec.name} reads at most {spec.max_servers} servers, got {len(ctx.subjects)}",
            "",
        )
    if spec.max_name_length is not None:
        for s in ctx.subjects:
            if len(s.name) > spec.max_name_length:
                yield s.name, f"name longer than {spec.max_name_length} characters", "name"
    url_keys = all_url_fields()  # where any client keeps a remote server's URL
    for s in ctx.subjects:
        t = s.neutral.get("transport")
        if t not in ("stdio", None) and t not in spec.remote and "mcp-remote" not in str(s.native):
            yield s.name, f"{spec.name} cannot run a {t} server natively", "transport"
        elif not spec.remote and url_keys & set(s.native):
            key = sorted(url_keys & set(s.native))[0]
            yield (
                s.name,
                f"{spec.name} cannot run remote servers from its config file ({key} is ignored)",
                key,
                "bridge it: command npx, args [-y, mcp-remote@VERSION, URL] (adding the server with the "
                "remote transport does this for you)",
            )


@rule(
    "MCP008",
    "insecure-remote-url",
    "warning",
    "A remote server reached over plain http on a non-local host",
    "use https:// if the server offers it (plain http is only safe on localhost)",
)
def _insecure(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str]]:
    urls = [s.neutral.get("url")] if s.neutral.get("transport") != "stdio" else []
    args = s.neutral.get("args") or []
    if bridge_index(args) is not None:
        urls += [a for a in args if isinstance(a, str) and a.startswith("http")]
    for url in urls:
        if not isinstance(url, str) or unfilled(url):
            continue
        parsed = urlparse(url)
        if parsed.scheme == "http" and not _is_local(parsed.hostname or ""):
            yield s.name, f"{url} is plain http to a non-local host", "url"


def _is_local(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@rule(
    "MCP009",
    "unknown-field",
    "warning",
    "A field the client does not read (it will be ignored)",
    "remove it, or check the field name against the client's documentation",
)
def _unknown(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str]]:
    if ctx.client.is_builtin(s.native):
        return  # the client's own extension: its fields are the client's business
    known = ctx.client.known_fields()
    for key in s.native:
        if key not in known:
            yield s.name, f"{ctx.client.name} does not read the field {key!r}", key


@rule(
    "MCP010",
    "schema",
    "error",
    "The config does not match the client's JSON Schema",
    "fix the field named in the message (see schemas/clients/)",
    scope="config",
)
def _schema(ctx: Context) -> Iterator[tuple[str, str, str]]:
    name = client_schema_name(ctx.client.id)
    if not (data_dir("schemas") / name).exists():
        return
    top = ctx.client.servers_key[0]
    if isinstance(ctx.payload, dict) and top not in ctx.payload:
        wrong = [
            k
            for k in all_servers_keys()  # another client's key for its servers
            if k != top and _holds_servers(ctx.payload.get(k))
        ]
        if wrong:
            yield (
                "",
                f"{ctx.client.name} reads {top!r}, not {wrong[0]!r}: these servers would be "
                "silently ignored",
                wrong[0],
            )
            return
    if accepts(name, ctx.payload):  # valid: jsonschema would find nothing either
        return
    errors = sorted(
        validator(name).iter_errors(ctx.payload), key=lambda e: (-len(e.absolute_path), e.message)
    )
    seen: set[tuple[str, ...]] = set()
    from jsonschema.exceptions import best_match

    for err in errors:
        if err.context:  # anyOf: report the branch the entry meant (stdio, or its remote kind)
            branch = _intended_branch(ctx.client, err.instance)
            chosen = [e for e in err.context if e.relative_schema_path[0] == branch]
            err = best_match(chosen or err.context) or err
        path = [str(p) for p in err.absolute_path]
        server = path[1] if len(path) > 1 else ""
        key = tuple(path)
        if key in seen:
            continue
        seen.add(key)
        yield server, err.message, "/".join(path[2:]) or "/".join(path)
        if len(seen) >= 5:
            break


def _holds_servers(value: Any) -> bool:
    """Whether a top-level value can hold servers: a list, or a map that is empty or holds an
    object. A shared settings file's own ``"extensions": {"disabled": [...]}`` or
    ``"mcp": {"allowed": [...]}`` (Gemini CLI) is not taken for another client's servers."""
    if isinstance(value, list):
        return True
    return isinstance(value, dict) and (
        not value or any(isinstance(v, dict) for v in value.values())
    )


def _intended_branch(spec: ClientSpec, instance: Any) -> int:
    """Index of the schema branch an entry is meant for: 0 = stdio, then the client's remotes."""
    if isinstance(instance, dict):
        for i, shape in enumerate(spec.remote.values(), start=1):
            if shape.url in instance and (
                not shape.type_key
                or not shape.type_value
                or instance.get(shape.type_key) in (shape.type_value, None)
            ):
                return i
    return 0


@rule(
    "MCP011",
    "env-reference-unset",
    "warning",
    "A secret reference names a variable that is not set here",
    "export the variable before deploying (or before starting the client)",
    level="environment",
)
def _refs_unset(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str, str]]:
    spec = ctx.client
    # a reference written as is in the file of a client that neither expands variables nor
    # names them in fields of its own reaches the server as text, set or not
    literal = ctx.in_file and not any(
        (
            spec.placeholder,
            spec.env_passthrough,
            spec.header_env_field,
            spec.header_placeholder,
            spec.api_key_fields,
            spec.bearer_env_field,
        )
    )
    stored: set[str] = set()
    if is_launcher_entry(s.neutral):
        literal = False  # the launcher resolves them as the server starts: from the store too
        try:
            stored = set(SecretStore().names())
        except MCPOrchError:
            stored = set()
    for name in dict.fromkeys(env_refs(s.neutral)):
        if name in stored:
            continue
        if literal:
            yield (
                s.name,
                f"${{env:{name}}} is written in the file, but {spec.name} does not expand it: "
                "the server gets the text itself",
                "env",
                _launcher_hint(spec, name),
            )
        elif name not in os.environ:
            # a client's own file is read by the client (Codex env_vars, Goose env_keys)
            needed = (
                "deploy" if ctx.client.placeholder is None and not ctx.in_file else "the client"
            )
            yield (
                s.name,
                f"${{env:{name}}} is referenced but {name} is not set in this environment",
                "env",
                f"export {name}=... ({needed} needs its value)",
            )


@rule(
    "MCP012",
    "tool-poisoning",
    "error",
    "A tool, prompt or resource description carries hidden instructions (or a URL)",
    "do not use this server until you have read its descriptions (mcp-orch probe --json shows "
    "them) and trust them; report it to its authors",
    scope="probe",
    level="live",
)
def _poisoning(probe: ServerProbe) -> Iterator[tuple[str, str, Severity]]:
    for hit in probe.poisoning:
        severity: Severity = "warning" if hit.severity == "warning" else "error"
        yield hit.message, hit.where, severity


@rule(
    "MCP013",
    "floating-package",
    "warning",
    "A package runs without a version: the runner takes whatever is newest or cached",
    "pin it to one version (npx -y pkg@1.2.3, uvx pkg@1.2.3, image:1.2.3); mcp-orch "
    "add-server pins by default (profile setting pin = exact)",
)
def _floating(s: Subject, ctx: Context) -> Iterator[tuple[str, str, str, str]]:
    ref = package_of(s.neutral)
    if ref is None or ref.pin != "floating":
        return
    moving = f" (the moving tag {ref.spec!r})" if ref.spec else ""
    what = {"npm": "npm package", "pypi": "PyPI package", "oci": "image", "nuget": "NuGet tool"}
    example = pinned(ref.registry, ref.name, "1.2.3")
    yield (
        s.name,
        f"{ref.runner} runs the {what[ref.registry]} {ref.name} unpinned{moving}: each start "
        "may run another version",
        f"args[{ref.arg}]" if ref.arg >= 0 else "command",
        f"pin it: {example} with the version you checked (mcp-orch outdated lists them)",
    )


@rule(
    "MCP014",
    "tool-manifest-changed",
    "error",
    "A server's tools, prompts or resources differ from the manifest its release pinned",
    "re-read the server's tools (mcp-orch probe --against latest shows the diff), then publish "
    "again with --pin-tools to accept them",
    scope="probe",
    level="live",
)
def _manifest_changed(probe: ServerProbe) -> Iterator[tuple[str, str, Severity]]:
    for change in probe.changes:  # empty without a pin (ServerProbe.pinned)
        severity: Severity = "warning" if change.severity == "warning" else "error"
        diff = "".join(f"\n           {line}" for line in change.diff.splitlines())
        yield change.message + diff, change.where, severity


#: The code of the tool budget: it reads the whole profile, see :func:`budget_findings`.
TOOL_BUDGET_CODE = "MCP015"


@rule(
    TOOL_BUDGET_CODE,
    "tool-budget",
    "warning",
    "The profile's servers offer more tools than the client gives the model",
    "disable servers or tools in the client, or split the profile",
    scope="probe",
    level="live",
)
def _tool_budget(probe: ServerProbe) -> Iterator[tuple[str, str, Severity]]:
    """Nothing for one server: the budget is of the whole profile (:func:`budget_findings`)."""
    return iter(())


def budget_findings(client: ClientSpec, counts: Mapping[str, int]) -> list[Finding]:
    """Rule MCP015 on the tool counts of a whole profile (server -> tools, from a probe or from
    the manifests a release pinned): one finding when they add up to more than the client's
    documented ``tool_limit``; none for a client without one."""
    limit = client.tool_limit
    total = sum(max(0, int(n)) for n in counts.values())
    if limit is None or total <= limit:
        return []
    spec = next(r for r in RULES if r.code == TOOL_BUDGET_CODE)
    biggest = sorted(((n, s) for s, n in counts.items() if n > 0), key=lambda x: (-x[0], x[1]))
    shown = ", ".join(f"{s} {n}" for n, s in biggest[:3])
    more = f" and {plural(len(biggest) - 3, 'more server')}" if len(biggest) > 3 else ""
    message = (
        f"{client.name} gives the model at most {limit} tools; the {plural(len(biggest), 'server')} of "
        f"this profile offer {total} ({total - limit} too many); the biggest: {shown}{more}"
    )
    source = client.tool_limit_source
    hint = spec.hint + (f" ({client.name}'s limit: {source})" if source else "")
    return [Finding(spec.code, spec.name, spec.severity, "", message, hint, "tools")]


#: The pseudo rule that carries a failed live probe (select/ignore it like a rule).
PROBE_CODE = "PROBE"
PROBE_RULE = "live-probe"


def check_codes(codes: list[str], what: str = "select") -> list[str]:
    """``codes`` if each names a rule (code, code prefix, or name); ``UsageError`` otherwise.
    The one check of rule names: ``validate``, ``check``, settings and the plugin all use it."""
    known = {r.code for r in RULES} | {r.name for r in RULES} | {PROBE_CODE, PROBE_RULE}
    for code in codes:
        if code in known or any(r.code.startswith(code) for r in RULES if code[:1].isalpha()):
            continue
        close = difflib.get_close_matches(code, sorted(known), n=3, cutoff=0.5)
        raise UsageError(
            f"{what}: unknown rule {code!r}",
            f"did you mean {', '.join(close)}?"
            if close
            else "rule codes are " + ", ".join(r.code for r in RULES) + " (or their names)",
            inputs=(what,),
        )
    return codes


def wanted(code: str, name: str, select: list[str] | None, ignore: list[str] | None) -> bool:
    """Whether the rule ``code`` / ``name`` runs under ``select`` and ``ignore`` (codes, code
    prefixes or names): the one matcher, for rules and for the probe's pseudo rule."""
    keys = {code, name}
    if select and not any(k in keys or code.startswith(k) for k in select):
        return False
    return not (ignore and any(k in keys or code.startswith(k) for k in ignore))


def run_rules(
    ctx: Context,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    levels: tuple[str, ...] = ("static", "environment"),
) -> list[Finding]:
    """Run every rule (or the selected ones, at the given levels) over a context."""
    check_codes(list(select or []), "select")
    check_codes(list(ignore or []), "ignore")
    out: list[Finding] = []
    for r in RULES:
        if r.level in levels and wanted(r.code, r.name, select, ignore):
            out += r.run(ctx)
    return out
