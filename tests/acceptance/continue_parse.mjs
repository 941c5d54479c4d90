// What Continue reads from ~/.continue/config.yaml, with its own parser, and whether it connects.
// Usage: node continue_parse.mjs <node_modules> <config.yaml>   (prints one JSON object)
// - config: @continuedev/config-yaml's unrollAssistant, called as the Continue CLI does for a
//   local file (cn src/configLoader.ts unrollAssistantWithConfig: a RegistryClient rooted at the
//   file's folder, renderSecrets: true). Secrets come from process.env first, as cn's
//   CLIPlatformClient.findSecretInProcessEnv does (its hub fallback is offline here).
// - status: each parsed server connected the way cn does it (src/services/mcpTransports.ts:
//   headers = requestOptions.headers (+ apiKey as Bearer); stdio env = the entry's env over
//   process.env), with the MCP SDK: initialize + tools/list.
import { dirname } from "node:path";

const [nm, file] = process.argv.slice(2);
const cy = await import(`${nm}/@continuedev/config-yaml/dist/index.js`);
const sdk = `${nm}/@modelcontextprotocol/sdk/dist/esm`;
const { Client } = await import(`${sdk}/client/index.js`);
const { SSEClientTransport } = await import(`${sdk}/client/sse.js`);
const { StdioClientTransport } = await import(`${sdk}/client/stdio.js`);
const { StreamableHTTPClientTransport } = await import(`${sdk}/client/streamableHttp.js`);

const platformClient = {
  async resolveFQSNs(fqsns) {
    return fqsns.map((fqsn) => {
      const value = process.env[fqsn.secretName];
      return value
        ? { found: true, fqsn, value, secretLocation: { secretName: fqsn.secretName, secretType: "local_env" } }
        : undefined;
    });
  },
};
const result = await cy.unrollAssistant(
  { uriType: "file", fileUri: file },
  new cy.RegistryClient({ rootPath: dirname(file) }),
  { currentUserSlug: "", alwaysUseProxy: false, renderSecrets: true, platformClient },
);
const servers = result.config?.mcpServers ?? [];
const out = {
  errors: (result.errors ?? []).map((e) => e.message),
  servers: Object.fromEntries(servers.map((s) => [s.name, s])),
  status: {},
};

function transportFor(s) {
  if ("command" in s) {
    const env = { ...(s.env ?? {}) };
    for (const [k, v] of Object.entries(process.env)) if (!(k in env) && v) env[k] = v;
    return new StdioClientTransport({ command: s.command, args: s.args ?? [], env, cwd: s.cwd, stderr: "pipe" });
  }
  const headers = { ...s.requestOptions?.headers, ...(s.apiKey && { Authorization: `Bearer ${s.apiKey}` }) };
  if (s.type === "sse") {
    return new SSEClientTransport(new URL(s.url), {
      eventSourceInit: { fetch: (i, init) => fetch(i, { ...init, headers: { ...init?.headers, ...headers } }) },
      requestInit: { headers },
    });
  }
  return new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers } });
}

for (const s of servers) {
  const client = new Client({ name: "continue-cli-client", version: "1.0.0" }, { capabilities: {} });
  try {
    await client.connect(transportFor(s), { timeout: 60000 });
    const tools = await client.listTools();
    out.status[s.name] = { connected: true, tools: tools.tools.map((t) => t.name) };
  } catch (e) {
    out.status[s.name] = { connected: false, error: String(e?.message ?? e) };
  } finally {
    await client.close().catch(() => {});
  }
}
console.log(JSON.stringify(out));
process.exit(0);
