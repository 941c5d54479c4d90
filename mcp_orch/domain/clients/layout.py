"""Where a client keeps its servers in its file: read them out, or build a payload around them.

>>> server_map(spec, {"mcpServers": {"time": {...}}})      # name -> native entry
>>> build_payload(spec, {"time": {...}})                    # the client-native config
"""

from __future__ import annotations

import copy
from typing import Any

from mcp_orch.domain.clients.spec import ClientSpec


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
