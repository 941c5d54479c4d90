"""``python -m mcp_orch`` runs the CLI."""

from mcp_orch.frontends.cli import main

if __name__ == "__main__":
    main()
