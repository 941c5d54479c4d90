"""A minimal MCP server over stdio for probe and check tests (and bench/bench_probe.py).

TINY_NAME sets its name, TINY_TOOLS names its tools (extra argv words add more), TINY_LOG gets
"start NAME PID" / "end NAME" lines, TINY_ECHO_ENV=VAR appends ":<value of VAR>" to its name.
"""

import json
import os
import sys

name = os.environ.get("TINY_NAME", "tiny")
if os.environ.get("TINY_ECHO_ENV"):
    name = name + ":" + os.environ.get(os.environ["TINY_ECHO_ENV"], "<unset>")
tools = [t for t in os.environ.get("TINY_TOOLS", "echo").split(",") if t] + sys.argv[1:]
log = os.environ.get("TINY_LOG")


def note(text):
    if log:
        with open(log, "a") as fh:
            fh.write(text + "\n")


note(f"start {name} {os.getpid()}")


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    req = json.loads(line)
    if "id" not in req:
        continue
    method, rid = req.get("method"), req["id"]
    if method == "initialize":
        result = {
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": name, "version": "0.1.0"},
        }
        send({"jsonrpc": "2.0", "id": rid, "result": result})
    elif method == "tools/list":
        tool_list = [{"name": t, "inputSchema": {"type": "object"}} for t in tools]
        send({"jsonrpc": "2.0", "id": rid, "result": {"tools": tool_list}})
    else:
        send({"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": "no"}})
note(f"end {name}")
