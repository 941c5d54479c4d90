"""How the bundled MCP server answers: values as plain JSON (:func:`_jsonable`, :func:`_dump`),
a library error as an MCP tool error carrying the CLI's text and ``--json`` document
(:func:`error_result`), the guards every tool (:func:`_guard_tool`) and resource
(:func:`_guard_resource`) runs in, so that no error reaches the client as a crash, and the
checks of what comes in and goes out:

* :func:`argument_error` -- the arguments of a call checked before the tool runs: an unknown
  (or misspelled, or renamed) argument, a missing one, one of the wrong type or out of range,
  each as a :class:`~mcp_orch.core.errors.UsageError` (the same error document as any other);
* :data:`OUTPUT_SCHEMAS` -- each tool's ``outputSchema``: the JSON Schema of its result;
* :class:`_Server` -- the ``MCPServer`` whose ``prompts/get`` answers a bad prompt name or bad
  arguments with a JSON-RPC ``invalid params`` error (not an internal error and a traceback).
"""

import difflib
import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent
from pydantic import ValidationError

from mcp_orch.core.errors import MCPOrchError, NotFound, UsageError
from mcp_orch.frontends.render import MCP, as_error, error_document, error_lines

log = logging.getLogger("mcp_orch.server")

#: Argument names of earlier versions (and of the CLI) -> the name the tools take now. An
#: unknown argument is suggested its new name when the tool takes it.
RENAMED = {
    "client": "client_id",
    "profile": "profile_id",
    "server": "server_id",
    "name": "server_name",
    "env": "env_vars",
    "transport": "transport_filter",
    "artifact": "artifact_id",
    "dryRun": "dry_run",
    "projectDir": "project_dir",
}


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _jsonable(data: Any) -> Any:
    """The value as plain JSON types (what ``--json`` prints)."""
    return json.loads(json.dumps(data, ensure_ascii=False, default=str))


def error_result(exc: BaseException) -> CallToolResult:
    """An error as an MCP tool error: the CLI's text (hints spelled as tool arguments) and the
    CLI's ``--json`` document as structured content."""
    err = as_error(exc)
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(error_lines(err, MCP)))],
        structured_content=_jsonable(error_document(err)),
        is_error=True,
    )


def _guard_tool(fn: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    """Run a tool; turn every error into a tool error (never a crash)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return _jsonable(fn(*args, **kwargs))
        except MCPOrchError as exc:
            return error_result(exc)
        except Exception as exc:
            log.exception("tool %s failed", fn.__name__)
            return error_result(exc)

    return wrapper


def _guard_resource(fn: Callable[..., Any]) -> Callable[..., str]:
    """Run a resource; its value as JSON text, errors as resource errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return _dump(fn(*args, **kwargs))
        except NotFound as exc:
            raise ResourceNotFoundError(str(exc)) from None
        except MCPOrchError as exc:
            raise ResourceError(str(exc)) from None
        except Exception as exc:
            log.exception("resource %s failed", fn.__name__)
            raise ResourceError(str(as_error(exc))) from None

    return wrapper


# ---- arguments -------------------------------------------------------------------------------


def suggest(name: str, allowed: Iterable[str]) -> str | None:
    """The allowed argument ``name`` most likely stands for: its new name, or a close spelling."""
    allowed = list(allowed)
    renamed = RENAMED.get(name)
    if renamed in allowed:
        return renamed
    folded = {a.replace("_", "").lower(): a for a in allowed}
    if name.replace("_", "").replace("-", "").lower() in folded:  # dryRun, dry-run -> dry_run
        return folded[name.replace("_", "").replace("-", "").lower()]
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_arguments(tool: str, arguments: Mapping[str, Any], allowed: list[str]) -> UsageError:
    """The error for arguments ``tool`` does not take: each named, the allowed ones listed, and
    "did you mean X?" for each that stands for an allowed one."""
    unknown = [k for k in arguments if k not in allowed]
    names = ", ".join(repr(k) for k in unknown)
    takes = ", ".join(allowed) if allowed else "no arguments"
    guesses = [(k, suggest(k, allowed)) for k in unknown]
    meant = [f"{s}" if len(unknown) == 1 else f"{s} (for {k!r})" for k, s in guesses if s]
    message = f"unknown argument{'s' if len(unknown) > 1 else ''} {names}"
    if meant:
        message += f"; did you mean {' and '.join(meant)}?"
    return UsageError(
        f"{message} ({tool} takes {takes}; nothing was done)",
        f"did you mean {' and '.join(meant)}?"
        if meant
        else "use only the arguments the tool's input schema lists",
    )


def invalid_arguments(tool: str, exc: ValidationError) -> UsageError:
    """The error for arguments of the wrong type, out of range or missing (pydantic's
    reasons, without the values given)."""
    problems: list[str] = []
    names: list[str] = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        names.append(str(err["loc"][0]) if err["loc"] else "")
        if err["type"] == "missing":
            problems.append(f"missing required argument {where}")
        else:
            problems.append(f"{where}: {err['msg']}")
    return UsageError(
        f"invalid arguments for {tool}: " + "; ".join(problems) + " (nothing was done)",
        "give each argument as the tool's input schema describes it",
        inputs=tuple(dict.fromkeys(n for n in names if n)),
    )


# ---- output schemas --------------------------------------------------------------------------

_S: dict[str, Any] = {"type": "string"}
_S0: dict[str, Any] = {"type": ["string", "null"]}
_I: dict[str, Any] = {"type": "integer"}
_B: dict[str, Any] = {"type": "boolean"}
_O: dict[str, Any] = {"type": "object"}
_STRS: dict[str, Any] = {"type": "array", "items": _S}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object with these properties (the first ones required); other keys may follow."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


def _with(
    base: dict[str, Any], required: dict[str, Any], optional: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``base`` with more properties (``required`` ones, then ``optional`` ones)."""
    return {
        "type": "object",
        "properties": {**base["properties"], **required, **(optional or {})},
        "required": [*base["required"], *required],
    }


_SERVER = _obj(
    {
        "id": _S,
        "name": _S,
        "title": _S0,
        "description": _S0,
        "version": _S0,
        "transports": _STRS,
        "runtimes": _STRS,
        "tags": _STRS,
        "category": _S0,
        "source": _S,
    }
)
_INPUT = _obj(
    {
        "kind": _S,
        "name": _S,
        "where": _S0,
        "required": _B,
        "secret": _B,
        "default": {},
        "description": _S0,
    }
)
_FINDING = _obj(
    {
        "code": _S,
        "rule": _S,
        "severity": _S,
        "server": _S0,
        "message": _S,
        "hint": _S0,
        "field": _S0,
    }
)
_REPORT = _obj(
    {
        "ok": _B,
        "client": _S,
        "target": _S,
        "errors": _list(_FINDING),
        "warnings": _list(_FINDING),
        "suggestions": _list(_FINDING),
    }
)
_ARTIFACT = _obj(
    {
        "artifact_id": _S,
        "client": _S,
        "profile": _S,
        "payload": _O,
        "payload_digest": _S,
        "parent": _S0,
        "changelog": _S,
        "created": _S,
        "key_id": _S,
        "signature": _S,
    },
    {
        "lock": {"type": ["object", "null"]},
        "tools": {"type": ["object", "null"]},
        "policy": _S0,  # the digest of the policy it was published under
        "registry_names": {"type": ["object", "null"]},
        "approvals": _STRS,  # the key ids of its co-signers
    },
)
_DEPLOYMENT = _obj(
    {
        "client": _S,
        "profile": _S,
        "artifact_id": _S,
        "path": _S,
        "deployed": _S,
        "managed": _STRS,
        "dry_run": _B,
        "changed": _B,
        "diff_text": _S,
        "backup": _S0,
        "unmanaged": _STRS,
        "overwritten": _STRS,
        "entry_digests": _O,
        "status": {"type": "string", "enum": ["deployed", "dry-run"]},
        "config_path": _S,
    }
)
_EVENT = _obj(
    {"event_id": _S, "seq": _I, "time": _S, "action": _S, "actor": _S},
    {
        "client": _S0,
        "profile": _S0,
        "artifact_id": _S0,
        "changelog": _S0,
        "details": _O,
        "prev": _S0,
        "hash": _S,
    },
)

#: Each tool's ``outputSchema``: the JSON Schema of the object it returns on success (its
#: ``structuredContent``; the CLI's ``--json`` prints the same). Properties may be added.
OUTPUT_SCHEMAS: dict[str, dict[str, Any]] = {
    "list_clients": _obj(
        {
            "clients": _list(
                _obj(
                    {"id": _S, "name": _S, "dialect": _S, "config_path": _S, "servers_key": _S},
                    {"layout": _S, "native_remote": _STRS, "project_path": _S0},
                )
            )
        }
    ),
    "list_profiles": _obj(
        {
            "profiles": _list(
                _obj(
                    {
                        "client": _S,
                        "profile": _S,
                        "draft_servers": _I,
                        "latest": _S0,
                        "deployed": _S0,
                    }
                )
            )
        }
    ),
    "list_available_servers": _obj(
        {
            "servers": _list(_SERVER),
            "count": _I,
            "transport_counts": {
                "type": "object",
                "properties": {"stdio": _I, "streamable-http": _I, "sse": _I},
                "required": ["stdio", "streamable-http", "sse"],
                "additionalProperties": _I,
            },
            "total": _I,
            "offset": _I,
            "limit": {"type": ["integer", "null"]},
            "next_cursor": _S0,
        }
    ),
    "describe_server": _with(
        _SERVER,
        {"inputs": _list(_INPUT), "server_json": _O},
        {"rendered": _obj({"client": _S, "entry": {"type": ["object", "null"]}})},
    ),
    "import_servers": _obj(
        {"imported": _list(_SERVER), "count": _I},
        {"counts": _O, "rejected": _list(_O), "skipped": _list(_O)},
    ),
    "add_server_to_config": _obj({"added": _S, "entry": _O, "draft": _STRS}),
    "remove_server_from_config": _obj({"removed": _S, "draft": _STRS}),
    "view_draft_config": _obj(
        {
            "client": _S,
            "profile": _S,
            "target_os": _S0,
            "servers": _O,
            "payload": _O,
            "updated": _S0,
        }
    ),
    "validate_draft": _REPORT,
    "publish_config": _with(
        _ARTIFACT, {"status": {"type": "string", "enum": ["published", "unchanged"]}}
    ),
    "deploy_config": _DEPLOYMENT,
    "get_config": _ARTIFACT,
    "diff_config": _obj(
        {
            "a": _S0,
            "b": _S0,
            "status": _S,
            "recommendation": _S0,
            "added": _STRS,
            "removed": _STRS,
            "modified": _O,
        }
    ),
    "profile_settings": _obj(
        {
            "client": _S,
            "profile": _S,
            "pin": {"type": "string", "enum": ["exact", "minor", "floating"]},
            "pin_tools": _B,
            "keep_backups": _I,
            "secrets": {"type": "string", "enum": ["auto", "launcher", "inline"]},
        }
    ),
    "list_outdated_servers": _obj(
        {
            "profile": _S,
            "outdated": _STRS,
            "servers": _list(
                _obj(
                    {
                        "server": _S,
                        "registry": _S,
                        "package": _S,
                        "pin": _S,
                        "newer": _B,
                        "status": {"type": "string", "enum": ["outdated", "current", "unresolved"]},
                    },
                    {
                        "spec": _S0,
                        "current": _S0,
                        "latest": _S0,
                        "reason": _S0,
                        "catalog_id": _S0,
                        "catalog_version": _S0,
                        "catalog_changed": _B,
                    },
                )
            ),
        }
    ),
    "upgrade_servers": _obj({"profile": _S, "changed": _O, "unchanged": _STRS, "unresolved": _O}),
    "check_drift": _obj(
        {
            "client": _S,
            "profile": _S,
            "path": _S0,
            "artifact_id": _S0,
            "status": {"type": "string", "enum": ["clean", "drifted"]},
            "edited": _O,
            "removed": _STRS,
            "added": _STRS,
        },
        {
            "tools_checked": _B,
            "tool_changes": _O,
            "tool_errors": _O,
            "unpinned": _STRS,
            "tools_same": _STRS,
        },
    ),
    "rollback_config": _with(_ARTIFACT, {"deployment": {"anyOf": [_DEPLOYMENT, {"type": "null"}]}}),
    "get_config_history": _obj(
        {
            "client": _S,
            "profile": _S,
            "latest": _S0,
            "deployed": _S0,
            "artifacts": _list(
                _obj(
                    {"artifact_id": _S, "created": _S, "changelog": _S, "servers": _STRS},
                    {"parent": _S0, "key_id": _S0, "approvals": _STRS, "policy": _S0},
                )
            ),
            "count": _I,
        }
    ),
    "get_audit_log": _obj({"events": _list(_EVENT), "count": _I}),
}


# ---- the server ------------------------------------------------------------------------------


class _Server(MCPServer):
    """``MCPServer`` whose ``prompts/get`` refuses an unknown prompt, an unknown argument or a
    missing one with a JSON-RPC ``invalid params`` error naming what is allowed."""

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Any = None
    ) -> Any:
        prompts = {p.name: p for p in await self.list_prompts()}
        prompt = prompts.get(name)
        if prompt is None:
            close = difflib.get_close_matches(name, list(prompts), n=1)
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"unknown prompt {name!r}"
                + (f"; did you mean {close[0]}?" if close else "")
                + f" (the prompts are {', '.join(sorted(prompts))})",
                data={"prompts": sorted(prompts)},
            )
        params = prompt.arguments or []
        allowed = [a.name for a in params]
        unknown = [k for k in arguments or {} if k not in allowed]
        if unknown:
            err = unknown_arguments(f"prompt {name}", {k: None for k in unknown}, allowed)
            raise MCPError(code=INVALID_PARAMS, message=err.message, data={"arguments": allowed})
        missing = [a.name for a in params if a.required and a.name not in (arguments or {})]
        if missing:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"prompt {name} needs the argument(s) {', '.join(missing)}",
                data={"arguments": allowed},
            )
        return await super().get_prompt(name, arguments, context)
