// What the Cline CLI reads and connects to: its own MCP code, @cline/core (the `cline` package
// pins it and its compiled binary embeds it), called the way the CLI does at session start.
// Usage: node cline_read.mjs <node_modules>   (HOME sandboxed; prints one JSON object)
// - path: resolveDefaultMcpSettingsPath() (~/.cline/data/settings/cline_mcp_settings.json,
//   or $CLINE_MCP_SETTINGS_PATH / $CLINE_DATA_DIR / $CLINE_DIR)
// - servers: resolveMcpServerRegistrations(), the parsed entries (transport, url, headers, env)
// - status: InMemoryMcpManager + createDefaultMcpServerClientFactory, connectServer + listTools.
//   The connect timeout is raised to 60 s (Cline's default is 3 s, too short for a Python
//   server starting on a loaded 2-core CI machine); nothing else is changed.
const core = await import(`${process.argv[2]}/@cline/core/dist/index.js`);
const out = { path: core.resolveDefaultMcpSettingsPath(), servers: {}, status: {} };
let regs = [];
try {
  regs = core.resolveMcpServerRegistrations();
} catch (e) {
  out.error = String(e?.message ?? e);
}
const manager = new core.InMemoryMcpManager({
  clientFactory: core.createDefaultMcpServerClientFactory(),
});
for (const reg of regs) {
  out.servers[reg.name] = reg.transport;
  await manager.registerServer({ ...reg, timeoutSeconds: 60 });
}
for (const reg of regs) {
  try {
    await manager.connectServer(reg.name);
    const tools = await manager.listTools(reg.name);
    out.status[reg.name] = { connected: true, tools: tools.map((t) => t.name) };
  } catch (e) {
    out.status[reg.name] = { connected: false, error: String(e?.message ?? e) };
  }
}
console.log(JSON.stringify(out));
await manager.dispose();
process.exit(0);
