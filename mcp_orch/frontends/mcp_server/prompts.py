"""The bundled MCP server's prompts, registered by :func:`register_prompts`: ``setup_server``
(discover, add, validate, publish and deploy one server for a client, step by step with the
tools) and ``review_drift`` (find hand edits in a client's file and decide what to do with them).
They are text only: they name tools and call nothing.
"""

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field


def register_prompts(mcp: MCPServer) -> None:
    """Add every prompt to ``mcp``."""

    @mcp.prompt(
        title="Set up a server for a client",
        description="Walk through discover → add → validate → publish → deploy for one client.",
    )
    def setup_server(
        client_id: Annotated[str, Field(description="Client id, e.g. cursor (see list_clients).")],
        server: Annotated[
            str, Field(description="What to set up: a catalog id or a few words.")
        ] = "",
        profile_id: Annotated[str, Field(description="Profile id.")] = "default",
    ) -> str:
        what = f"the MCP server {server!r}" if server else "an MCP server"
        client, profile = client_id, profile_id
        return f"""\
Set up {what} for the MCP client {client!r} (profile {profile!r}) with the mcp-orch tools.
Go step by step and tell me what you are doing.

1. Discover: call list_available_servers with search="{server}" (and transport_filter if I
   asked for local or remote). If several match, show me the candidates and let me choose.
2. Inspect: call describe_server with server_id=<id> and client_id="{client}". Show me the inputs
   it needs. Ask me for required values. Never ask me to paste a secret: pass secrets as
   references like ${{env:GITHUB_TOKEN}} and tell me which variable to set.
3. Add: call add_server_to_config with client_id="{client}", profile_id="{profile}",
   server_id=<id> and params / env_vars / headers. If the name is taken, ask before using replace=true.
4. Validate: call validate_draft with client_id="{client}", profile_id="{profile}". If ok is false,
   explain each error and its hint, fix it (add again with replace=true, or
   remove_server_from_config) and validate again. Warnings do not block, but mention them.
5. Publish: call publish_config with a short changelog that says what changed and why.
6. Preview: call deploy_config with dry_run=true and show me the diff of the client's file.
7. Deploy: after I agree, call deploy_config (dry_run=false). If it reports a conflict with an
   entry mcp-orch does not manage, explain it and ask before retrying with adopt=true.
8. Confirm: call check_drift (status should be clean) and tell me to restart or reload
   {client} so it picks up the new server.
If something goes wrong after deploying, get_config_history and rollback_config (deploy=true)
bring back the previous release."""

    @mcp.prompt(
        title="Review drift",
        description="Find hand edits in a client's config and decide what to do with them.",
    )
    def review_drift(
        client_id: Annotated[str, Field(description="Client id.")],
        profile_id: Annotated[str, Field(description="Profile id.")] = "default",
    ) -> str:
        client, profile = client_id, profile_id
        return f"""\
Check whether the config file of the MCP client {client!r} (profile {profile!r}) still matches
what mcp-orch deployed.

1. Call check_drift with client_id="{client}", profile_id="{profile}". If status is clean, say so.
2. Otherwise call diff_config for the same profile and show me each edited, removed or added
   entry (secret values are masked).
3. Offer two ways forward and wait for my choice: redeploy the release with deploy_config
   (overwrites hand edits to managed entries; the old file is backed up), or keep the edits by
   adding them to the draft (add_server_to_config with replace=true), then validate_draft,
   publish_config and deploy_config.
4. Use get_audit_log with client_id="{client}" to show who deployed last and when."""
