"""The installed ``mcp-orch`` command: ``exec`` goes straight to the launcher, the rest to the CLI.

A client starts ``mcp-orch exec -- <server>`` each time it starts a launched server, so that path
must not load click and the CLI's command table (about 0.15 s): it is decided here, on the first
argument, before anything else is imported.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["exec"] and sys.argv[2:3] not in (["-h"], ["--help"]):
        from mcp_orch.frontends.launcher import run  # the launcher alone

        sys.exit(run(sys.argv[2:]))
    from mcp_orch.frontends.cli import main as cli_main  # every other command

    cli_main()


if __name__ == "__main__":
    main()
