"""How the bundled MCP server answers: values as plain JSON (:func:`_jsonable`, :func:`_dump`),
a library error as an MCP tool error carrying the CLI's text and ``--json`` document
(:func:`error_result`), and the guards every tool (:func:`_guard_tool`) and resource
(:func:`_guard_resource`) runs in, so that no error reaches the client as a crash.
"""

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import CallToolResult, TextContent

from mcp_orch.core.errors import MCPOrchError, NotFound
from mcp_orch.frontends.render import MCP, as_error, error_document, error_lines

log = logging.getLogger("mcp_orch.server")


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
