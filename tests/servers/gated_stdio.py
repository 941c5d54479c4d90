"""tiny_stdio.py behind a gate: exits 3 (before any MCP traffic) unless the variable GATE holds
the value whose SHA-256 is the first argument, so a client that connects proves the server got
the secret (and the expected value never has to be written anywhere in clear)."""

import hashlib
import os
import runpy
import sys
from pathlib import Path

want = sys.argv[1] if len(sys.argv) > 1 else ""
if hashlib.sha256(os.environ.get("GATE", "").encode()).hexdigest() != want:
    sys.stderr.write("gated_stdio: GATE does not hold the expected secret\n")
    sys.exit(3)
sys.argv = [sys.argv[0]]
runpy.run_path(str(Path(__file__).with_name("tiny_stdio.py")), run_name="__main__")
