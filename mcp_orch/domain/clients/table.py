"""The client table: one :class:`ClientSpec` row per supported MCP client.

Sources and the choices made where they disagree are in each row's ``source`` and ``limits``;
``docs/reference/clients.md`` is generated from this table (``python -m mcp_orch.domain.clients.generate``).
Path tokens: ``~`` home, ``{AS}`` ~/Library/Application Support, ``{AD}`` %APPDATA%,
``{LAD}`` %LOCALAPPDATA%, ``{XC}`` $XDG_CONFIG_HOME or ~/.config, ``{VSU}`` the VS Code user
folder, ``{SYS}`` the file-system root (system-wide files).
"""

from __future__ import annotations

from typing import Any

from mcp_orch.domain.clients.spec import ClientSpec, RemoteShape, StdioShape

_ALL = {"macos": "~/{p}", "windows": "~/{p}", "linux": "~/{p}"}


def _home(p: str) -> dict[str, str]:
    return {os_: t.format(p=p) for os_, t in _ALL.items()}


def _vsu(p: str) -> dict[str, str]:
    return {"macos": f"{{VSU}}/{p}", "windows": f"{{VSU}}/{p}", "linux": f"{{VSU}}/{p}"}


def _app(p: str) -> dict[str, str]:
    return {"macos": f"{{AS}}/{p}", "windows": f"{{AD}}/{p}", "linux": f"{{XC}}/{p}"}


_URL = RemoteShape(type_key=None)  # remote entry is just url + headers
_HTTP_SSE_TYPED = {
    "streamable-http": RemoteShape(type_value="http"),
    "sse": RemoteShape(type_value="sse"),
}
_STDIO_TYPED = StdioShape(type_key="type", type_value="stdio")


def _vscode_format() -> dict[str, Any]:
    """The fields of VS Code's mcp.json format, shared by VS Code and its variants (Insiders,
    VSCodium, VS Code Server), which differ only in where the file is."""
    return {
        "dialect": "jsonc",
        "servers_key": ("servers",),
        "stdio": _STDIO_TYPED,
        "remote": dict(_HTTP_SSE_TYPED),
        "placeholder": "${env:NAME}",
        # code.visualstudio.com/docs/copilot/customization/mcp-servers (mcp.json "inputs":
        # {"type": "promptString", "id", "description", "password": true}, used as
        # ${input:id}; VS Code asks once and stores the value encrypted)
        "inputs_key": "inputs",
        "input_placeholder": "${input:NAME}",
        "windows_cmd_wrap": False,
        "extra_fields": ("envFile", "cwd", "dev", "gallery", "version"),
        # servers installed from the MCP gallery are named as in the registry: io.github.X/y
        "name_pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$",
        # the limit is VS Code's chat (the variants run the same chat), not a server's
        "tool_limit": 128,
        "tool_limit_source": "code.visualstudio.com/docs/copilot/customization/mcp-servers (FAQ "
        "'Cannot have more than 128 tools per request': a chat request can have a maximum of "
        "128 tools enabled at a time) and /docs/copilot/agents/agent-tools",
    }


CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec(
        id="claude-desktop",
        name="Claude Desktop",
        dialect="json",
        paths={
            **_app("Claude/claude_desktop_config.json"),
            # the MSIX package (since early 2026) reads only its virtualised AppData
            "windows": "{LAD}/Packages/Claude_pzs8sxrjxfjjc/LocalCache/Roaming/Claude/"
            "claude_desktop_config.json",
        },
        remote={},
        placeholder=None,
        limits="Ignores remote servers in its file: they are bridged with mcp-remote. "
        "No env-var expansion: secret references are resolved at deploy time. On Windows the "
        "MSIX app reads only the file under %LOCALAPPDATA%\\Packages (not %APPDATA%\\Claude). "
        "Linux has no official build; the community build reads ~/.config/Claude.",
        extra_patterns=("Claude/claude_desktop_config.json",),
        sample_servers=("time", "fetch", "memory"),
        source="modelcontextprotocol.io/quickstart/user; issue 12 (MSIX package path on Windows)",
        verified_by="issue 12 report (Claude Desktop MSIX build, Windows; no installable build "
        "here)",
    ),
    ClientSpec(
        id="claude-code",
        name="Claude Code",
        dialect="json",
        paths=_home(".claude.json"),
        project_path=".mcp.json",
        stdio=_STDIO_TYPED,
        remote=dict(_HTTP_SSE_TYPED),
        placeholder="${NAME}",
        extra_fields=("cwd",),
        sample_servers=("time", "deepwiki"),
        source="docs.anthropic.com/en/docs/claude-code/mcp (user scope ~/.claude.json, project "
        ".mcp.json; ${VAR} and ${VAR:-default} expansion)",
        verified_by=(
            "acceptance: @anthropic-ai/claude-code 2.1.332 (claude mcp list connects to stdio, "
            "streamable HTTP and SSE; claude mcp get shows the header)"
        ),
    ),
    ClientSpec(
        id="cursor",
        name="Cursor",
        dialect="json",
        paths=_home(".cursor/mcp.json"),
        project_path=".cursor/mcp.json",
        remote={"streamable-http": _URL, "sse": _URL},
        placeholder="${env:NAME}",
        extra_fields=("envFile", "type"),
        max_servers=None,
        limits="Cursor sends at most about 40 tools to the model across all servers.",
        tool_limit=40,
        tool_limit_source="docs.cursor.com/context/model-context-protocol (Limitations, Tool "
        "Quantity: Cursor will only send the first 40 tools to the Agent)",
        sample_servers=("time", "sequential-thinking"),
        source="docs.cursor.com/context/model-context-protocol (url+headers, ${env:NAME})",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="cline",
        name="Cline",
        dialect="json",
        paths=_vsu("globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"),
        remote={
            "streamable-http": RemoteShape(type_value="streamableHttp"),
            "sse": RemoteShape(type_value="sse"),
        },
        # McpHub expands ${env:VAR} in the whole settings file (src/services/mcp/envExpansion.ts)
        placeholder="${env:NAME}",
        extra_fields=("disabled", "autoApprove", "timeout", "type", "cwd"),
        off_switch=("disabled", True),
        # the MCP marketplace names a server by its repository: github.com/OWNER/REPO/...
        name_pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$",
        source="docs.cline.bot/mcp/configuring-mcp-servers; cline src/services/mcp/schemas.ts, "
        "envExpansion.ts",
        verified_by="cline 2.18.0 on npm (dist/cli.mjs bundles McpHub: "
        "readAndValidateMcpSettingsFile expands ${env:VAR} before the schema)",
    ),
    ClientSpec(
        id="windsurf",
        name="Windsurf",
        dialect="json",
        paths=_home(".codeium/windsurf/mcp_config.json"),
        remote={
            "streamable-http": RemoteShape(type_key=None, url="serverUrl", alt_urls=("url",)),
            "sse": RemoteShape(type_key=None, url="serverUrl", alt_urls=("url",)),
        },
        placeholder="${env:NAME}",
        extra_fields=("disabled", "disabledTools"),
        limits="Windsurf exposes at most 100 tools in total. Reads url as well as serverUrl "
        "(serverUrl is written).",
        tool_limit=100,
        tool_limit_source="docs.windsurf.com/windsurf/cascade/mcp (Configuring MCP tools: "
        "Cascade has a limit of 100 total tools that it has access to at any given time)",
        off_switch=("disabled", True),
        source="docs.windsurf.com/windsurf/cascade/mcp (serverUrl or url, ${env:NAME})",
        verified_by="issue 12 report (Windsurf accepts url as well as serverUrl; no installable "
        "build here)",
    ),
    ClientSpec(
        id="vscode",
        name="Visual Studio Code",
        **_vscode_format(),
        paths=_vsu("mcp.json"),
        project_path=".vscode/mcp.json",
        limits="Reads 'servers', not 'mcpServers'; at most 128 tools per request.",
        source="code.visualstudio.com/docs/copilot/customization/mcp-servers (mcp.json reference)",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="zed",
        name="Zed",
        dialect="jsonc",
        paths={
            "macos": "{XC}/zed/settings.json",
            "linux": "{XC}/zed/settings.json",
            "windows": "{AD}/Zed/settings.json",
        },
        project_path=".zed/settings.json",
        servers_key=("context_servers",),
        remote={"streamable-http": _URL},
        placeholder=None,
        extra_fields=("source", "settings", "enabled"),
        static_fields={"source": "custom"},
        limits="Shares its file with every Zed setting; only context_servers is touched.",
        off_switch=("enabled", False),
        builtin_kinds=("source", ("extension",)),  # servers a Zed extension provides
        source="zed.dev/docs/ai/mcp (context_servers; url+headers for remote)",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="continue",
        name="Continue",
        dialect="yaml",
        paths=_home(".continue/config.yaml"),
        project_path=".continue/mcpServers/mcp-orch.yaml",
        layout="list",
        name_field="name",
        remote={  # headers go under requestOptions: a top-level headers is stripped
            "streamable-http": RemoteShape(
                type_value="streamable-http", headers="requestOptions.headers", untyped=True
            ),
            "sse": RemoteShape(type_value="sse", headers="requestOptions.headers"),
        },
        placeholder="${{ secrets.NAME }}",
        extra_fields=("type", "cwd", "connectionTimeout", "apiKey", "serverName", "faviconUrl"),
        # config.yaml and block files both start with these (docs.continue.dev mcp deep dive)
        new_file_fields={"name": "mcp-orch servers", "version": "0.0.1", "schema": "v1"},
        extra_patterns=(".continue/mcpServers/*.yaml", ".continue/mcpServers/*.yml"),
        limits="Remote headers live in requestOptions.headers; an untyped url entry is read "
        "as streamable HTTP.",
        source="docs.continue.dev/customize/deep-dives/mcp (YAML list of {name, ...}); "
        "continuedev/continue packages/config-yaml src/schemas/mcp/index.ts",
        verified_by=(
            "acceptance: @continuedev/config-yaml 1.42.0 unrollAssistant, connected as "
            "@continuedev/cli 1.5.47 builds its transports (all three); @continuedev/config-yaml "
            "1.42.0 on npm (dist/schemas/mcp/index.js: sseOrHttpMcpServerSchema has "
            "requestOptions, no headers; type optional)"
        ),
    ),
    ClientSpec(
        id="codex",
        name="OpenAI Codex",
        dialect="toml",
        paths=_home(".codex/config.toml"),
        project_path=".codex/config.toml",
        servers_key=("mcp_servers",),
        remote={"streamable-http": RemoteShape(type_key=None, headers="http_headers")},
        placeholder=None,
        extra_fields=(
            "env_vars",
            "cwd",
            "enabled",
            "startup_timeout_sec",
            "tool_timeout_sec",
            "enabled_tools",
            "disabled_tools",
            "bearer_token_env_var",
            "env_http_headers",
        ),
        env_passthrough="env_vars",
        bearer_env_field="bearer_token_env_var",
        header_env_field="env_http_headers",
        home_env=("CODEX_HOME", "~/.codex"),
        limits="Streamable HTTP only: SSE servers are bridged with mcp-remote. Secret references "
        "become env_vars / bearer_token_env_var / env_http_headers (the bridge's header names "
        "the variable itself), so values stay in the environment; a renamed variable in a "
        "stdio env cannot be expressed and is resolved. $CODEX_HOME replaces ~/.codex.",
        off_switch=("enabled", False),
        source="github.com/openai/codex docs/config.md (mcp_servers tables)",
        verified_by=(
            "acceptance: @openai/codex 0.171.0 (codex mcp get --json; app-server "
            "mcpServerStatus/list connects all three, SSE bridged); @openai/codex 0.171.0 (codex "
            "mcp get --json with CODEX_HOME: env_http_headers, bearer_token_env_var, env_vars)"
        ),
    ),
    ClientSpec(
        id="gemini-cli",
        name="Gemini CLI",
        dialect="json",
        paths=_home(".gemini/settings.json"),
        project_path=".gemini/settings.json",
        remote={  # url + type; httpUrl is deprecated (still read); url alone tries HTTP first
            "streamable-http": RemoteShape(type_value="http", alt_urls=("httpUrl",), untyped=True),
            "sse": RemoteShape(type_value="sse"),
        },
        placeholder="${NAME}",
        extra_fields=(
            "cwd",
            "timeout",
            "trust",
            "includeTools",
            "excludeTools",
            "description",
            "oauth",
            "authProviderType",
            "targetAudience",
            "targetServiceAccount",
        ),
        limits="Writes url + type (http or sse); reads the deprecated httpUrl. A url without "
        "type is streamable HTTP with an SSE fallback. Stdio servers start only in trusted "
        "folders.",
        source="github.com/google-gemini/gemini-cli docs/tools/mcp-server.md (url + type)",
        verified_by=(
            "acceptance: @google/gemini-cli 0.61.0 (gemini mcp list connects all three in a "
            "trusted folder); @google/gemini-cli 0.61.0 on npm (bundle: createUrlTransport; "
            "settings schema type enum stdio/sse/http; 'Using deprecated httpUrl')"
        ),
    ),
    ClientSpec(
        id="goose",
        name="Goose",
        dialect="yaml",
        paths={
            "macos": "{XC}/goose/config.yaml",
            "linux": "{XC}/goose/config.yaml",
            "windows": "{AD}/Block/goose/config/config.yaml",
        },
        servers_key=("extensions",),
        name_in_entry="name",
        stdio=StdioShape(type_key="type", type_value="stdio", command="cmd", env="envs"),
        remote={  # SSE "is no longer supported": bridged with mcp-remote
            "streamable-http": RemoteShape(
                type_value="streamable_http", url="uri", required=("description",)
            ),
        },
        placeholder=None,
        header_placeholder="${NAME}",  # substituted from envs / env_keys
        named_fields=("description",),
        extra_fields=("env_keys", "description", "bundled", "available_tools", "display_name"),
        static_fields={"enabled": True, "timeout": 300},
        env_passthrough="env_keys",
        off_switch=("enabled", False),
        builtin_kinds=("type", ("builtin", "platform", "frontend", "inline_python")),
        limits="An extension without description is skipped, so one is always written (the "
        "server's name). SSE is bridged with mcp-remote. Header secrets are ${VAR} with VAR in "
        "env_keys.",
        source="block.github.io/goose/docs/getting-started/using-extensions (config.yaml); "
        "block/goose crates/goose/src/agents/extension.rs (ExtensionConfig serde types)",
        verified_by="source: block/goose crates/goose/src/agents/extension.rs @ 01cad15fdcd6 "
        "(ExtensionConfig: streamable_http description has no serde default, so it is required; "
        "sse 'no longer supported'; stdio cmd and args required, envs/env_keys optional; builtin "
        "and platform carry display_name); no installable build here",
    ),
    ClientSpec(
        id="lm-studio",
        name="LM Studio",
        dialect="json",
        paths=_home(".lmstudio/mcp.json"),
        remote={"streamable-http": _URL},
        placeholder=None,
        source="lmstudio.ai/docs/app/plugins/mcp (Cursor notation; remote since 0.3.17)",
        verified_by="unverified here: documentation (see source)",
    ),
    # ---- more clients -------------------------------------------------------------------------
    ClientSpec(
        id="roo-code",
        name="Roo Code",
        dialect="json",
        paths=_vsu("globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json"),
        project_path=".roo/mcp.json",
        remote={
            "streamable-http": RemoteShape(type_value="streamable-http"),
            "sse": RemoteShape(type_value="sse"),
        },
        placeholder="${env:NAME}",
        extra_fields=("alwaysAllow", "disabled", "disabledTools", "timeout", "type", "cwd"),
        limits="A url entry needs an explicit type (RooCode issue #9118). Extension discontinued.",
        off_switch=("disabled", True),
        source="docs.roocode.com/features/mcp/using-mcp-in-roo",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="kilo-code",
        name="Kilo Code",
        dialect="jsonc",
        paths={
            "macos": "{XC}/kilo/kilo.jsonc",
            "linux": "{XC}/kilo/kilo.jsonc",
            "windows": "~/.config/kilo/kilo.jsonc",
        },
        project_path="kilo.jsonc",
        servers_key=("mcp",),
        stdio=StdioShape(
            type_key="type", type_value="local", env="environment", command_array=True
        ),
        remote={  # a remote entry tries streamable HTTP, then SSE: no bridge needed
            "streamable-http": RemoteShape(type_value="remote"),
            "sse": RemoteShape(type_value="remote"),
        },
        placeholder="{env:NAME}",
        extra_fields=("enabled", "timeout"),
        static_fields={"enabled": True},
        limits="Current OpenCode-based config; the legacy extension file is not written. A "
        "remote entry falls back to SSE by itself (it reads back as streamable HTTP).",
        off_switch=("enabled", False),
        extra_patterns=("kilo.json", ".kilo/kilo.json", ".kilo/kilo.jsonc"),
        source="Kilo-Org/kilocode packages/kilo-docs/pages/automate/mcp/using-in-kilo-code.md",
        verified_by=(
            "acceptance: @kilocode/cli 7.7.7 (kilo debug config; kilo mcp list connects all "
            "three); @kilocode/cli-linux-x64 7.7.9 on npm (strings: remote transports "
            "StreamableHTTP then SSE)"
        ),
    ),
    ClientSpec(
        id="opencode",
        name="OpenCode",
        dialect="jsonc",
        paths={
            "macos": "{XC}/opencode/opencode.json",
            "linux": "{XC}/opencode/opencode.json",
            "windows": "~/.config/opencode/opencode.json",
        },
        project_path="opencode.json",
        servers_key=("mcp",),
        stdio=StdioShape(
            type_key="type", type_value="local", env="environment", command_array=True
        ),
        remote={  # a remote entry tries streamable HTTP, then SSE: no bridge needed
            "streamable-http": RemoteShape(type_value="remote"),
            "sse": RemoteShape(type_value="remote"),
        },
        placeholder="{env:NAME}",
        extra_fields=("enabled", "timeout", "cwd", "oauth"),
        static_fields={"enabled": True},
        limits="Writes the V1 shape (mcp.<name>), which V1 and V2 both read. A remote entry "
        "falls back to SSE by itself (it reads back as streamable HTTP).",
        off_switch=("enabled", False),
        extra_patterns=("opencode.jsonc", ".opencode/opencode.json", ".opencode/opencode.jsonc"),
        source="anomalyco/opencode packages/web/src/content/docs/mcp-servers.mdx; add-mcp #113",
        verified_by=(
            "acceptance: opencode-ai 1.18.33 (opencode debug config; opencode mcp list connects "
            "all three); opencode-linux-x64 1.18.34 on npm (strings: remote transports "
            "StreamableHTTP then SSE)"
        ),
    ),
    ClientSpec(
        id="qwen-code",
        name="Qwen Code",
        dialect="json",
        paths=_home(".qwen/settings.json"),
        project_path=".qwen/settings.json",
        remote={
            "streamable-http": RemoteShape(type_key=None, url="httpUrl"),
            "sse": RemoteShape(type_key=None, url="url"),
        },
        placeholder="${NAME}",
        extra_fields=("cwd", "timeout", "trust", "includeTools", "excludeTools"),
        source="qwenlm.github.io/qwen-code-docs (Gemini CLI fork, same entry schema)",
        verified_by=(
            "acceptance: @qwen-code/qwen-code 0.24.4 (qwen mcp list connects all three; env and "
            "header expanded)"
        ),
    ),
    ClientSpec(
        id="trae",
        name="Trae",
        dialect="json",
        paths=_app("Trae/User/mcp.json"),
        project_path=".trae/mcp.json",
        remote={"streamable-http": _URL, "sse": _URL},
        placeholder=None,
        extra_fields=("fromGalleryId",),
        source="toolhive pkg/client/config.go; smithery; volcengine docs 86677/2137601",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="5ire",
        name="5ire",
        dialect="json",
        paths=_app("5ire/mcp.json"),
        stdio=StdioShape(type_key="type", type_value="local"),
        remote={
            "streamable-http": RemoteShape(type_value="remote"),
            "sse": RemoteShape(type_value="remote"),
        },
        placeholder=None,
        extra_fields=("key", "isActive", "capabilities", "approvalPolicy", "allowSystemEnv"),
        off_switch=("isActive", False),
        deployable=False,
        limits="Keeps its servers in a database now; mcp.json is read once, to migrate: deploy "
        "refuses (check and import still read the file).",
        source="nanbingxyz/5ire src/types/mcp.d.ts; issue 12 (servers moved into a database)",
        verified_by="issue 12 report (5ire reads mcp.json once for migration; no installable "
        "build here)",
    ),
    ClientSpec(
        id="kiro",
        name="Kiro",
        dialect="json",
        paths=_home(".kiro/settings/mcp.json"),
        project_path=".kiro/settings/mcp.json",
        remote={"streamable-http": _URL, "sse": _URL},
        placeholder="${NAME}",
        extra_fields=("disabled", "autoApprove", "disabledTools", "timeout"),
        limits="${VAR} is expanded only for variables approved in Kiro's settings.",
        off_switch=("disabled", True),
        source="kiro.dev/docs/mcp/configuration",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="copilot-cli",
        name="GitHub Copilot CLI",
        dialect="json",
        paths=_home(".copilot/mcp-config.json"),
        project_path=".github/mcp.json",
        stdio=StdioShape(type_key="type", type_value="local"),
        remote=dict(_HTTP_SSE_TYPED),
        placeholder="${NAME}",
        extra_fields=("cwd",),
        static_fields={"tools": ["*"]},
        limits="Every entry needs 'tools'; bare variable names are taken literally. Also reads "
        "the project's .mcp.json; $COPILOT_HOME replaces ~/.copilot.",
        required_fields=("tools",),
        home_env=("COPILOT_HOME", "~/.copilot"),
        other_project_paths=(".mcp.json",),
        source="docs.github.com/en/copilot/how-tos/copilot-cli/customize-copilot/add-mcp-servers",
        verified_by=(
            "acceptance: @github/copilot 1.0.102 (copilot mcp list --json; an offline prompt run "
            "offers all three servers' tools); @github/copilot 1.0.102 (copilot mcp --help: "
            "workspace .mcp.json or .github/mcp.json; copilot help environment: COPILOT_HOME)"
        ),
    ),
    ClientSpec(
        id="junie",
        name="JetBrains Junie",
        dialect="json",
        paths=_home(".junie/mcp/mcp.json"),
        project_path=".junie/mcp/mcp.json",
        remote={},
        placeholder=None,
        limits="Runs stdio servers only: remote servers are bridged with mcp-remote.",
        source="jetbrains.com/help/junie/model-context-protocol-mcp.html; issue 12 (stdio only)",
        verified_by="issue 12 report (Junie runs stdio servers only; no installable build here)",
    ),
    ClientSpec(
        id="warp",
        name="Warp",
        dialect="json",
        paths=_home(".warp/.mcp.json"),
        project_path=".warp/.mcp.json",
        remote={"streamable-http": _URL, "sse": _URL},
        placeholder=None,
        extra_fields=("working_directory", "start_on_launch"),
        source="warpdotdev/docs agent-platform/capabilities/mcp.mdx",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="visual-studio",
        name="Visual Studio",
        dialect="json",
        paths={"windows": "~/.mcp.json", "macos": "~/.mcp.json", "linux": "~/.mcp.json"},
        project_path=".mcp.json",
        servers_key=("servers",),
        stdio=_STDIO_TYPED,
        remote=dict(_HTTP_SSE_TYPED),
        placeholder="${env:NAME}",
        windows_cmd_wrap=False,
        limits="Windows only (the path is %USERPROFILE%\\.mcp.json).",
        source="MicrosoftDocs/visualstudio-docs docs/ide/mcp-servers.md",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="crush",
        name="Crush",
        dialect="json",
        paths={
            "macos": "{XC}/crush/crush.json",
            "linux": "{XC}/crush/crush.json",
            # %LOCALAPPDATA%\crush\crush.json is its machine state, not its config
            "windows": "~/.config/crush/crush.json",
        },
        project_path=".crush.json",
        servers_key=("mcp",),
        stdio=_STDIO_TYPED,
        remote=dict(_HTTP_SSE_TYPED),
        placeholder="$NAME",
        # MCPConfig.Disabled `json:"disabled"` (charmbracelet/crush internal/config/config.go,
        # commit 003f5dbff29d98e1463e09db415898be97aeab69)
        off_switch=("disabled", True),
        source="charmbracelet/crush README.md; internal/config/config.go (MCPConfig)",
        verified_by="@charmland/crush 0.96.1 on npm (README.md: Windows config under "
        "%USERPROFILE%\\.config\\crush, %LOCALAPPDATA%\\crush is state); internal/config/"
        "config.go @ 003f5dbff29d",
    ),
    ClientSpec(
        id="amp",
        name="Amp",
        dialect="jsonc",
        paths=_home(".config/amp/settings.json"),
        project_path=".amp/settings.json",
        servers_key=("amp.mcpServers",),
        remote={"streamable-http": _URL},
        placeholder=None,
        extra_fields=("disabled",),
        limits="'amp.mcpServers' is one top-level key with a dot in its name.",
        off_switch=("disabled", True),
        source="toolhive; ampcode.com manual (settings.json)",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="factory-droid",
        name="Factory Droid",
        dialect="json",
        paths=_home(".factory/mcp.json"),
        project_path=".factory/mcp.json",
        stdio=_STDIO_TYPED,
        remote={"streamable-http": RemoteShape(type_value="http")},
        placeholder=None,
        extra_fields=("disabled", "disabledTools"),
        limits="SSE is undocumented: SSE servers are bridged with mcp-remote.",
        off_switch=("disabled", True),
        source="docs.factory.ai/cli/configuration/mcp",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="jan",
        name="Jan",
        dialect="json",
        paths={
            "macos": "{AS}/Jan/data/mcp_config.json",
            "windows": "{AD}/Jan/data/mcp_config.json",
            "linux": "~/.local/share/Jan/data/mcp_config.json",
        },
        remote=dict(_HTTP_SSE_TYPED),
        placeholder=None,
        extra_fields=("active", "timeout"),
        static_fields={"active": True},
        off_switch=("active", False),
        source="janhq/jan src-tauri/src/core/mcp/models.rs",
        verified_by="unverified here: source file named in source (no commit recorded)",
    ),
    ClientSpec(
        id="witsy",
        name="Witsy",
        dialect="json",
        paths=_app("Witsy/settings.json"),
        remote={},
        placeholder=None,
        extra_fields=("cwd",),
        limits="Its mcpServers map is stdio only: remote servers are bridged with mcp-remote.",
        source="nbonamy/witsy src/main/mcp.ts",
        verified_by="unverified here: source file named in source (no commit recorded)",
    ),
    ClientSpec(
        id="antigravity",
        name="Google Antigravity",
        dialect="json",
        paths=_home(".gemini/antigravity/mcp_config.json"),
        remote={
            "streamable-http": RemoteShape(type_key=None, url="serverUrl"),
            "sse": RemoteShape(type_key=None, url="serverUrl"),
        },
        placeholder=None,
        source="toolhive and smithery (add-mcp's ~/.gemini/config path not used)",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="claude-code-managed",
        name="Claude Code (managed, system-wide)",
        dialect="json",
        paths={
            "macos": "{SYS}/Library/Application Support/ClaudeCode/managed-mcp.json",
            "windows": "{SYS}/Program Files/ClaudeCode/managed-mcp.json",
            "linux": "{SYS}/etc/claude-code/managed-mcp.json",
        },
        stdio=_STDIO_TYPED,
        remote=dict(_HTTP_SSE_TYPED),
        placeholder="${NAME}",
        limits="Needs admin rights; takes exclusive control of Claude Code's servers.",
        source="anthropics/claude-code issues #18720, #3414, #77835",
        verified_by="unverified here: documentation (see source)",
    ),
    ClientSpec(
        id="mistral-vibe",
        name="Mistral Vibe",
        dialect="toml",
        paths=_home(".vibe/config.toml"),
        servers_key=("mcp_servers",),
        layout="array-of-tables",
        name_field="name",
        stdio=StdioShape(type_key="transport", type_value="stdio"),
        remote={"streamable-http": RemoteShape(type_key="transport", type_value="http")},
        placeholder=None,
        api_key_fields=("api_key_env", "api_key_header", "api_key_format"),
        extra_fields=(
            "cwd",
            "prompt",
            "startup_timeout_sec",
            "tool_timeout_sec",
            "sampling_enabled",
            "disabled",
            "disabled_tools",
            "auth",
        ),
        limits="One header's secret is named by api_key_env (with api_key_header and "
        "api_key_format); other header secrets are resolved at deploy time. SSE is bridged.",
        source="mistralai/mistral-vibe README ([[mcp_servers]] array of tables); "
        "vibe/core/config/models.py (MCPStaticAuth)",
        verified_by=(
            "acceptance: mistral-vibe 3.0.2 (its config loader and MCPRegistry connect all three, "
            "SSE bridged); mistral-vibe 3.0.3 on PyPI (vibe/core/config/models.py: MCPStaticAuth "
            "api_key_env / api_key_header / api_key_format; legacy top-level keys promoted)"
        ),
    ),
    # ---- clients added for issue 12 (each with its source) ----
    # VS Code Insiders, VSCodium and the VS Code Server read the same mcp.json as VS Code (the
    # "vscode" row) from another user folder: the same shape, other paths. The project file
    # .vscode/mcp.json stays the vscode row's (tests/test_new_clients.py keeps the shapes equal).
    ClientSpec(
        id="vscode-insiders",
        name="Visual Studio Code - Insiders",
        **_vscode_format(),
        paths=_app("Code - Insiders/User/mcp.json"),
        limits="VS Code's format in the Insiders user folder; the project's .vscode/mcp.json "
        "is written through the vscode client.",
        source="vendor docs: code.visualstudio.com/docs/copilot/customization/mcp-servers (user "
        "mcp.json in the profile folder) and /docs/configure/settings (Insiders user folder "
        "'Code - Insiders/User')",
        verified_by="unverified here: vendor docs (no installable build; same format as vscode)",
    ),
    ClientSpec(
        id="vscodium",
        name="VSCodium",
        **_vscode_format(),
        paths=_app("VSCodium/User/mcp.json"),
        limits="VS Code's format in VSCodium's user folder; a chat extension must be installed "
        "to use the servers. The project's .vscode/mcp.json is written through the vscode client.",
        source="vendor docs: VSCodium DOCS.md (user data folder 'VSCodium' instead of 'Code') "
        "with VS Code's mcp.json reference",
        verified_by="unverified here: vendor docs (no installable build; same format as vscode)",
    ),
    ClientSpec(
        id="vscode-server",
        name="VS Code Server (Remote-SSH, WSL, containers)",
        **_vscode_format(),
        paths=_home(".vscode-server/data/User/mcp.json"),
        limits="The remote user configuration ('MCP: Open Remote User Configuration') on the "
        "remote or WSL machine; servers there start on that machine. Deploy on the remote host.",
        source="vendor docs: code.visualstudio.com/docs/copilot/customization/mcp-servers "
        "(remote user configuration) and /docs/remote (server data in ~/.vscode-server/data)",
        verified_by="unverified here: vendor docs (no installable build; same format as vscode)",
    ),
    ClientSpec(
        id="windsurf-jetbrains",
        name="Windsurf for JetBrains",
        dialect="json",
        paths=_home(".codeium/mcp_config.json"),
        remote={
            "streamable-http": RemoteShape(type_key=None, url="serverUrl", alt_urls=("url",)),
            "sse": RemoteShape(type_key=None, url="serverUrl", alt_urls=("url",)),
        },
        placeholder="${env:NAME}",
        extra_fields=("disabled", "disabledTools"),
        off_switch=("disabled", True),
        limits="The Windsurf plugin for JetBrains IDEs: Windsurf's mcp_config.json format in "
        "~/.codeium (the editor's file is ~/.codeium/windsurf). At most 100 tools in total.",
        # the editor's page states the 100 (same Cascade); the plugin page itself was not seen
        tool_limit=100,
        tool_limit_source="docs.windsurf.com/windsurf/cascade/mcp (Cascade: a limit of 100 total "
        "tools at any given time); docs.windsurf.com/plugins/cascade/mcp not confirmed here",
        source="vendor docs: docs.windsurf.com/plugins/cascade/mcp (~/.codeium/mcp_config.json; "
        "stdio, Streamable HTTP, SSE; serverUrl or url; env interpolation in command, args, env, "
        "serverUrl, url, headers)",
        verified_by="unverified here: vendor docs (no installable build; same format as windsurf)",
    ),
    ClientSpec(
        id="cline-cli",
        name="Cline CLI",
        dialect="json",
        paths=_home(".cline/data/settings/cline_mcp_settings.json"),
        remote={
            "streamable-http": RemoteShape(type_value="streamableHttp"),
            "sse": RemoteShape(type_value="sse"),
        },
        placeholder=None,
        extra_fields=("disabled", "timeout", "type", "transportType", "cwd", "metadata", "oauth"),
        off_switch=("disabled", True),
        home_env=("CLINE_DIR", "~/.cline"),
        limits="A url entry without type is SSE, so streamable HTTP is always typed. No env-var "
        "expansion found: secret references are resolved at deploy time. $CLINE_DIR replaces "
        "~/.cline ($CLINE_MCP_SETTINGS_PATH names the file itself).",
        source="npm cline 3.0.65 -> @cline/shared 0.0.86 dist/storage/index.js "
        "(resolveMcpSettingsPath: <CLINE_DIR or ~/.cline>/data/settings/cline_mcp_settings.json); "
        "@cline/core 0.0.86 dist/index.js (settings entry schema)",
        verified_by=(
            "acceptance: cline 3.0.65 (@cline/core reads the file and connects all three); "
            "@cline/core 0.0.86 and @cline/shared 0.0.86 on npm (the packages of cline 3.0.65): "
            "type stdio|sse|streamableHttp (http and streamable-http accepted), "
            "command/args/cwd/env, url/headers, disabled, timeout"
        ),
    ),
    ClientSpec(
        id="amazon-q-cli",
        name="Amazon Q Developer CLI",
        dialect="json",
        paths=_home(".aws/amazonq/mcp.json"),
        project_path=".amazonq/mcp.json",
        remote={"streamable-http": RemoteShape(type_value="http")},
        placeholder=None,
        extra_fields=("timeout", "disabled"),
        limits="Remote servers are HTTP only: SSE is bridged with mcp-remote. Newer builds keep "
        "servers in agent files (~/.aws/amazonq/cli-agents) and read mcp.json through the "
        "default agent's useLegacyMcpJson.",
        source="vendor docs: docs.aws.amazon.com/amazonq/latest/qdeveloper-ug "
        "command-line-mcp-config-CLI.html (type http + url, optional headers), qdev-mcp.html; "
        "aws.amazon.com what's-new 2025-09 (remote MCP in mcp.json)",
        verified_by="unverified here: vendor docs (a native binary: no npm or PyPI package)",
    ),
    ClientSpec(
        id="kimi-cli",
        name="Kimi CLI",
        dialect="json",
        paths=_home(".kimi/mcp.json"),
        remote={
            "streamable-http": RemoteShape(type_key="transport", type_value="http"),
            "sse": RemoteShape(type_key="transport", type_value="sse"),
        },
        placeholder=None,
        extra_fields=("cwd", "auth", "transport"),
        home_env=("KIMI_SHARE_DIR", "~/.kimi"),
        limits="No env-var expansion (fastmcp MCPConfig): secret references are resolved at "
        "deploy time. $KIMI_SHARE_DIR replaces ~/.kimi.",
        source="PyPI kimi-cli 1.52.0, kimi_cli/cli/mcp.py (get_global_mcp_config_file: "
        "share dir/mcp.json, mcpServers) and kimi_cli/share.py (~/.kimi); fastmcp 3.2.4 "
        "fastmcp/mcp_config.py (StdioMCPServer, RemoteMCPServer)",
        verified_by="kimi-cli 1.52.0 on PyPI (cli/mcp.py writes {url, transport: http, headers}); "
        "fastmcp 3.2.4 on PyPI (RemoteMCPServer.transport http|streamable-http|sse)",
    ),
    ClientSpec(
        id="qoder-cli",
        name="Qoder CLI",
        dialect="json",
        paths=_home(".qoder/settings.json"),
        project_path=".qoder/settings.json",
        remote={
            "streamable-http": RemoteShape(type_value="http", alt_urls=("httpUrl",), untyped=True),
            "sse": RemoteShape(type_value="sse"),
        },
        placeholder=None,
        extra_fields=("cwd", "timeout"),
        limits="A Gemini CLI derivative: url + type (http or sse), httpUrl also read, a url "
        "without type is streamable HTTP. Env-var expansion in settings not confirmed: secret "
        "references are resolved at deploy time. Also reads the project's .mcp.json.",
        other_project_paths=(".mcp.json",),
        source="npm @qoder-ai/qodercli 1.1.52, bundle/qodercli.js (user config dir .qoder, "
        "getGlobalSettingsPath: <dir>/settings.json, scopes User/Workspace read mcpServers; "
        "transport factory: httpUrl, url+type http|sse|ws, url alone = HTTP)",
        verified_by="@qoder-ai/qodercli 1.1.52 on npm (bundle/qodercli.js, minified)",
    ),
    ClientSpec(
        id="auggie",
        name="Augment (Auggie CLI)",
        dialect="jsonc",
        paths=_home(".augment/settings.json"),
        project_path=".augment/settings.json",
        remote={
            "streamable-http": RemoteShape(type_value="http", untyped=True),
            "sse": RemoteShape(type_value="sse"),
        },
        placeholder=None,
        extra_fields=("type", "disabled", "title", "clientId", "cwd"),
        off_switch=("disabled", True),
        limits="Auggie's settings.json (read with a JSONC parser); the Augment VS Code and "
        "JetBrains extensions keep servers in their own IDE settings (not written). Only "
        "${workspaceFolder} is substituted: secret references are resolved at deploy time.",
        source="npm @augmentcode/auggie 0.36.0, augment.mjs (SettingsManager: "
        "<--augment-cache-dir, default ~/.augment>/settings.json and <workspace>/.augment/"
        "settings.json; mcpServers entry schema type stdio|http|sse)",
        verified_by="@augmentcode/auggie 0.36.0 on npm (augment.mjs, bundled)",
    ),
    ClientSpec(
        id="librechat",
        name="LibreChat",
        dialect="yaml",
        paths=_home("LibreChat/librechat.yaml"),
        project_path="librechat.yaml",
        stdio=StdioShape(type_key="type", type_value="stdio"),
        remote={
            "streamable-http": RemoteShape(type_value="streamable-http"),
            "sse": RemoteShape(type_value="sse"),
        },
        placeholder="${NAME}",
        extra_fields=(
            "title",
            "description",
            "startup",
            "iconPath",
            "timeout",
            "initTimeout",
            "stderr",
            "oauth",
        ),
        new_file_fields={"version": "1.3.17"},  # configSchema requires version (CONFIG_VERSION)
        limits="A server's config: librechat.yaml in the LibreChat folder (the user path assumes "
        "a checkout in ~/LibreChat; $CONFIG_PATH moves it); the project scope is the folder "
        "itself. ${VAR} comes from the server's environment.",
        source="npm librechat-data-provider 0.8.524, dist/types/mcp.d.ts (StdioOptionsSchema "
        "type stdio, command, args, env with ${VAR_NAME}; SSE type sse; streamable-http|http; "
        "url, headers) and dist/types/config.d.ts (configSchema.mcpServers, version); "
        "vendor docs: librechat.ai/docs/configuration/librechat_yaml (file location)",
        verified_by="librechat-data-provider 0.8.524 on npm (types and CONFIG_VERSION 1.3.17); "
        "the file location is from vendor docs",
    ),
    ClientSpec(
        id="boltai",
        name="BoltAI",
        dialect="json",
        paths=_home(".boltai/mcp.json"),
        remote={},
        placeholder=None,
        limits="macOS only. Claude Desktop's format, stdio servers only as documented: remote "
        "servers are bridged with mcp-remote.",
        source="vendor docs: docs.boltai.com/docs/plugins/mcp-servers#faqs (~/.boltai/mcp.json, "
        "mcpServers in Claude Desktop's format)",
        verified_by="unverified here: vendor docs as cited by other installers (no npm or PyPI "
        "package; a macOS app)",
    ),
)
