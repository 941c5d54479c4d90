"""A real client starts a server through the launcher (``mcp-orch exec``) with a secret from the
secret store: Mistral Vibe cannot expand variables in ~/.vibe/config.toml, so with the profile's
``secrets = "launcher"`` deploy writes an entry that runs the installed ``mcp-orch exec --``, and
no value goes into the file. The server (tests/servers/gated_stdio.py) exits before the MCP
handshake unless it received the secret, so Vibe's own discovery (initialize + tools/list)
listing its tool proves it did."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from kit import PYPI_BIN, client_bin, sandbox_open
from test_mistral_vibe import READ

from mcp_orch.services.secrets.store import SecretStore

CLIENT = "mistral-vibe"
VALUE = "acceptance-store-secret-9137"
GATED = str(Path(__file__).resolve().parents[1] / "servers" / "gated_stdio.py")


def test_vibe_connects_to_a_launched_server_that_needs_a_stored_secret(
    tmp_path: Path, verdict
) -> None:
    verdict.cell(CLIENT, "launcher")
    client_bin("vibe")
    with sandbox_open(tmp_path / "acc", None) as sb:
        SecretStore(sb.home / ".local" / "share" / "mcp-orch-secrets", backend="file").set(
            "GATE_SECRET", VALUE
        )
        prof = sb.ws.profile(CLIENT, target_os="linux")
        prof.configure(secrets="launcher")
        prof.draft.add_custom(
            "gated",
            command=sys.executable,
            args=[GATED, hashlib.sha256(VALUE.encode()).hexdigest()],
            env={"GATE": "${env:GATE_SECRET}", "TINY_TOOLS": "echo"},
        )
        dep = prof.draft.validate(ignore=["MCP006"]).publish(changelog="gated").deploy()
        text = Path(dep.path).read_text()
        assert VALUE not in text and "exec" in text and "${env:GATE_SECRET}" in text
        out = sb.run([str(PYPI_BIN / "python"), "-c", READ], timeout=240)
        assert out.returncode == 0, out.stderr
        servers = json.loads(out.stdout.strip().splitlines()[-1])
    srv = servers["gated"]
    assert srv["transport"] == "stdio" and srv["argv"][1:3] == ["exec", "--"], srv
    assert srv["env"].get("GATE") == "${env:GATE_SECRET}", srv  # Vibe passes the reference
    assert srv["failed"] is None and srv["tools"] == ["echo"], srv
    verdict(CLIENT, "launcher", "connected ✓ secret from the store via mcp-orch exec")
