"""Generate ``schemas/clients/<id>.schema.json`` and ``docs/reference/clients.md`` from the table.

python -m mcp_orch.domain.clients.generate          # rewrite both (run after editing table.py)
python -m mcp_orch.domain.clients.generate --check  # exit 1 if either is out of date (CI)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mcp_orch.domain.clients.spec import ClientSpec
from mcp_orch.domain.clients.table import CLIENTS

ROOT = Path(__file__).resolve().parents[3]
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
STRINGS = {"type": "array", "items": {"type": "string"}}


def entry_schemas(spec: ClientSpec) -> dict[str, Any]:
    s = spec.stdio
    props: dict[str, Any] = {}
    if s.command_array:
        props[s.command] = {**STRINGS, "minItems": 1}
    else:
        props[s.command] = {"type": "string", "minLength": 1}
        props[s.args] = STRINGS
    props[s.env] = STRING_MAP
    if s.type_key and s.type_value:
        props[s.type_key] = {"const": s.type_value}
    required = [s.command, *spec.required_fields]
    stdio: dict[str, Any] = {"type": "object", "properties": props, "required": required}
    if spec.remote:
        urls = dict.fromkeys(u for r in spec.remote.values() for u in (r.url, *r.alt_urls))
        stdio["not"] = {"anyOf": [{"required": [u]} for u in urls]}
    defs: dict[str, Any] = {"stdio": stdio}
    url_start = "https?://"
    if spec.placeholder:  # the client expands a variable at the start too: ${BASE_URL}/mcp
        head = spec.placeholder.partition("NAME")[0]
        url_start += "|" + "".join("\\" + c if c in "\\^$.|?*+()[]{}" else c for c in head)
    for transport, r in spec.remote.items():
        url_schema = {"type": "string", "pattern": f"^({url_start})"}
        rprops: dict[str, Any] = {u: url_schema for u in (r.url, *r.alt_urls)}
        group, _, nested = r.headers.partition(".")
        rprops[group] = (
            {"type": "object", "properties": {nested: STRING_MAP}} if nested else STRING_MAP
        )
        rreq = [*r.required]
        if r.type_key and r.type_value:
            rprops[r.type_key] = {"const": r.type_value}
            if not r.untyped:
                rreq.append(r.type_key)
        rdef: dict[str, Any] = {"type": "object", "properties": rprops}
        if r.alt_urls:  # any one of the URL fields
            rdef["anyOf"] = [{"required": [u]} for u in (r.url, *r.alt_urls)]
        else:
            rreq.insert(0, r.url)
        defs[transport] = {**rdef, "required": rreq}
    if spec.builtin_kinds:  # the client's own extensions: no command or URL to check
        key, values = spec.builtin_kinds
        defs["builtin"] = {
            "type": "object",
            "properties": {key: {"enum": list(values)}},
            "required": [key],
        }
    return defs


def client_schema(spec: ClientSpec) -> dict[str, Any]:
    defs = entry_schemas(spec)
    entry = {"anyOf": [{"$ref": f"#/$defs/{k}"} for k in defs]}
    if spec.layout == "map":
        servers: dict[str, Any] = {
            "type": "object",
            "propertyNames": {"pattern": spec.name_pattern},
            "additionalProperties": {"$ref": "#/$defs/entry"},
        }
        if spec.max_servers:
            servers["maxProperties"] = spec.max_servers
    else:
        field = spec.name_field or "name"
        servers = {
            "type": "array",
            "items": {
                "allOf": [
                    {"$ref": "#/$defs/entry"},
                    {
                        "type": "object",
                        "properties": {field: {"type": "string", "pattern": spec.name_pattern}},
                        "required": [field],
                    },
                ]
            },
        }
    node: dict[str, Any] = servers
    for key in reversed(spec.servers_key):  # not required: a file without it has no servers
        node = {"type": "object", "properties": {key: node}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://mcp-orch.dev/schemas/clients/{spec.id}.schema.json",
        "title": f"{spec.name} MCP server config ({spec.dialect})",
        "description": f"The part of {spec.name}'s config file that holds MCP servers. "
        f"Source: {spec.source}",
        **node,
        "$defs": {**defs, "entry": entry},
    }


def _placeholder_cell(c: ClientSpec) -> str:
    """How the client reads a secret from the environment, for the reference table."""
    if c.placeholder:
        return f"`{c.placeholder}`"
    forms = [f"`{c.header_placeholder}` in headers"] if c.header_placeholder else []
    for key in (c.env_passthrough, c.bearer_env_field, c.header_env_field):
        if key:
            forms.append(f"`{key}`")
    if c.api_key_fields:
        forms.append(f"`{c.api_key_fields[0]}`")
    if not forms:
        return "none (resolved at deploy)"
    return "by name: " + ", ".join(forms) + " (the rest resolved at deploy)"


def clients_markdown() -> str:
    lines = [
        "# Clients reference",
        "",
        "Generated from `mcp_orch/domain/clients/table.py` by `python -m mcp_orch.domain.clients.generate`;",
        "do not edit by hand. Path tokens: `~` home, `{AS}` ~/Library/Application Support,",
        "`{AD}` %APPDATA%, `{LAD}` %LOCALAPPDATA%, `{XC}` $XDG_CONFIG_HOME or ~/.config,",
        "`{VSU}` the VS Code user folder, `{SYS}` the system root.",
        "",
        "| id | name | format | key | macOS | Windows | Linux | project | native remote | env placeholder | cmd /c on Windows | limits | source | verified by |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in CLIENTS:
        cells = [
            f"`{c.id}`",
            c.name,
            c.dialect.upper(),
            "`" + ".".join(c.servers_key) + "`" + (" (list)" if c.layout != "map" else ""),
            f"`{c.paths.get('macos', '')}`",
            f"`{c.paths.get('windows', '')}`",
            f"`{c.paths.get('linux', '')}`",
            ", ".join(f"`{p}`" for p in (c.project_path, *c.other_project_paths) if p) or "–",
            ", ".join(sorted(c.remote)) or "no (mcp-remote bridge)",
            _placeholder_cell(c),
            "yes" if c.windows_cmd_wrap else "no",
            c.limits.replace("|", "\\|") or "–",
            c.source.replace("|", "\\|"),
            c.verified_by.replace("|", "\\|") or "–",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def outputs() -> dict[Path, str]:
    out = {
        ROOT / "schemas" / "clients" / f"{c.id}.schema.json": json.dumps(client_schema(c), indent=2)
        + "\n"
        for c in CLIENTS
    }
    out[ROOT / "docs" / "reference" / "clients.md"] = clients_markdown()
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    stale = []
    for path, text in outputs().items():
        current = path.read_text() if path.exists() else None
        if current != text:
            stale.append(path)
            if "--check" not in argv:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    if "--check" in argv and stale:
        print("out of date: " + ", ".join(str(p.relative_to(ROOT)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
