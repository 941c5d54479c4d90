"""The ``mcp-orch`` command line (alias ``mcp-orchestration``), a thin layer over the operations.

Every command parses its options, calls one function of :mod:`mcp_orch.operations` and prints
its result: ``--json`` prints the result's ``to_dict()`` (exactly what the MCP tool returns),
otherwise a text rendering. Every command takes ``--workspace`` (or ``$MCP_ORCH_HOME``),
``--client-root`` (or ``$MCP_ORCH_CLIENT_ROOT``) and ``--json``. Exit codes: 0 success, 1 a
failed check (validation, signature, drift, parse), 2 bad usage. Errors print one line and a
hint, never a traceback (set ``MCP_ORCH_DEBUG=1`` to see one).

Operation modules are imported inside each command: the light commands (``list-servers``,
``list-clients``, ``--help``) must not load pydantic, cryptography or the MCP SDK.
"""

from __future__ import annotations

import os
import sys

import click

from mcp_orch.frontends.cli.base import Ctx, Group, client_profile, common, examples, pairs
from mcp_orch.frontends.cli.commands import COMMANDS
from mcp_orch.frontends.render import table

__all__ = [
    "LAZY_COMMANDS",
    "ORDER",
    "Ctx",
    "cli",
    "client_profile",
    "common",
    "main",
    "pairs",
    "table",
]

#: Commands that live in modules of their own, loaded when they run: a command loads only its
#: own definitions (``mcp-orch list-servers`` neither builds nor imports the others), and
#: ``serve``/``check``/``probe`` keep ``mcp`` off the fast path.
LAZY_COMMANDS = {
    "add-server": "mcp_orch.frontends.cli.draft_commands:add_server_cmd",
    "get-server": "mcp_orch.frontends.cli.draft_commands:get_server_cmd",
    "remove-server": "mcp_orch.frontends.cli.draft_commands:remove_server_cmd",
    "show-draft": "mcp_orch.frontends.cli.draft_commands:show_draft_cmd",
    "validate-draft": "mcp_orch.frontends.cli.draft_commands:validate_draft_cmd",
    "publish-config": "mcp_orch.frontends.cli.release_commands:publish_config_cmd",
    "deploy-config": "mcp_orch.frontends.cli.release_commands:deploy_config_cmd",
    "get-config": "mcp_orch.frontends.cli.release_commands:get_config_cmd",
    "diff-config": "mcp_orch.frontends.cli.release_commands:diff_config_cmd",
    "drift": "mcp_orch.frontends.cli.release_commands:drift_cmd",
    "rollback": "mcp_orch.frontends.cli.release_commands:rollback_cmd",
    "restore": "mcp_orch.frontends.cli.release_commands:restore_cmd",
    "backups": "mcp_orch.frontends.cli.release_commands:backups_group",
    "config-history": "mcp_orch.frontends.cli.release_commands:config_history_cmd",
    "audit-log": "mcp_orch.frontends.cli.release_commands:audit_log_cmd",
    "verify": "mcp_orch.frontends.cli.release_commands:verify_cmd",
    "init-configs": "mcp_orch.frontends.cli.release_commands:init_configs_cmd",
    "keys": "mcp_orch.frontends.cli.key_commands:keys_group",
    "approve": "mcp_orch.frontends.cli.policy_commands:approve_cmd",
    "policy": "mcp_orch.frontends.cli.policy_commands:policy_group",
    "registry": "mcp_orch.frontends.cli.registry_commands:registry_group",
    "serve": "mcp_orch.frontends.cli.serve:serve_cmd",
    "token": "mcp_orch.frontends.cli.serve:token_group",
    "install-self": "mcp_orch.frontends.cli.serve:install_self_cmd",
    "check": "mcp_orch.frontends.cli.check:check_cmd",
    "probe": "mcp_orch.frontends.cli.check:probe_cmd",
    "profile-settings": "mcp_orch.frontends.cli.pin_commands:profile_settings_cmd",
    "outdated": "mcp_orch.frontends.cli.pin_commands:outdated_cmd",
    "upgrade": "mcp_orch.frontends.cli.pin_commands:upgrade_cmd",
    "secret": "mcp_orch.frontends.cli.secret_commands:secret_group",
    "exec": "mcp_orch.frontends.cli.secret_commands:exec_cmd",
    "remote": "mcp_orch.frontends.cli.remote_commands:remote_group",
    "push": "mcp_orch.frontends.cli.remote_commands:push_cmd",
    "pull": "mcp_orch.frontends.cli.remote_commands:pull_cmd",
}

#: The order ``--help`` lists the commands in (lazy ones included).
ORDER = [
    "list-clients",
    "list-profiles",
    "list-servers",
    "describe-server",
    "import-servers",
    "detect",
    "import",
    "sync",
    "registry",
    "add-server",
    "get-server",
    "remove-server",
    "show-draft",
    "validate-draft",
    "profile-settings",
    "outdated",
    "upgrade",
    "publish-config",
    "deploy-config",
    "get-config",
    "diff-config",
    "drift",
    "rollback",
    "restore",
    "backups",
    "config-history",
    "audit-log",
    "verify",
    "keys",
    "secret",
    "exec",
    "approve",
    "policy",
    "remote",
    "push",
    "pull",
    "init-configs",
    "serve",
    "token",
    "install-self",
    "check",
    "probe",
]


@click.group(
    cls=type("Cli", (Group,), {"lazy": LAZY_COMMANDS, "order": ORDER}),
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        "mcp-orch list-servers --search git",
        "mcp-orch add-server time --client cursor",
        "mcp-orch publish-config --client cursor -m 'add time'",
        "mcp-orch deploy-config --client cursor --dry-run",
        "mcp-orch COMMAND --help   (each command's own examples)",
    ),
)
@click.version_option(package_name="mcp-orch", prog_name="mcp-orch")
def cli() -> None:
    """mcp-orch: MCP server configuration as signed releases.

    Discover servers in the catalog, add them to a draft per client profile, validate, publish
    signed artifacts, deploy them safely into each client's own config file, and keep a history
    and audit trail.
    """


for _command in COMMANDS:
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    invoked = os.path.basename(sys.argv[0]) if sys.argv else ""
    prog = "mcp-orchestration" if invoked.startswith("mcp-orchestration") else "mcp-orch"
    cli.main(args=argv, prog_name=prog)


if __name__ == "__main__":
    main()
