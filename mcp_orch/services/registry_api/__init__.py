"""The official MCP Registry's read API: list pages of ``server.json`` records (:mod:`.client`)."""

from mcp_orch.services.registry_api.client import (
    DEFAULT_URL,
    MAX_LIMIT,
    OFFICIAL_META,
    Page,
    RegistryAPIError,
    fetch_pages,
    format_since,
    servers_url,
)

__all__ = [
    "DEFAULT_URL",
    "MAX_LIMIT",
    "OFFICIAL_META",
    "Page",
    "RegistryAPIError",
    "fetch_pages",
    "format_since",
    "servers_url",
]
