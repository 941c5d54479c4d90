"""The pytest plugin (mcp_orch/pytest_plugin.py), run inside ``pytester`` sessions: items per
server and level from ``--mcp-config`` and the ``mcp_configs`` ini option, failures rendered as
the rule's message and hint, warnings, ``--mcp-probe`` live items, pyproject settings, and the
``mcp_orch_workspace`` fixture.

Until the plugin's ``pytest11`` entry point is installed, every run loads it with
``-p mcp_orch.frontends.pytest_plugin`` (see ``_plugin_args``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

# pytester's in-process runs drop the modules first imported inside them; imported here they
# stay, so a later test never meets a second copy of a module (classes that differ by identity).

pytest_plugins = ["pytester"]


def _plugin_args() -> tuple[str, ...]:
    """``-p mcp_orch.frontends.pytest_plugin`` until the pytest11 entry point is installed (then pytest
    loads the plugin itself, and naming it again would register it twice)."""
    from importlib.metadata import entry_points

    installed = any(
        ep.value.split(":")[0] == "mcp_orch.frontends.pytest_plugin"
        for ep in entry_points(group="pytest11")
    )
    return () if installed else ("-p", "mcp_orch.frontends.pytest_plugin")


PLUGIN = (
    *_plugin_args(),
    "-p",
    "no:cacheprovider",
    "-W",
    "ignore::pytest.PytestAssertRewriteWarning",
)
PY = sys.executable
GHP = "ghp_" + "Q1w2E3r4T5y6U7i8O9p0" * 2

TINY = (Path(__file__).parent / "servers" / "tiny_stdio.py").read_text()


def config(path: Path, servers: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": servers}, indent=2))
    return path


LEAKY = {
    "github": {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-github"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": GHP},
    },
    "time": {"command": PY, "args": ["-m", "mcp_server_time"]},
}


def test_each_server_becomes_an_item_per_level(pytester: pytest.Pytester) -> None:
    config(pytester.path / "claude_desktop_config.json", LEAKY)
    result = pytester.runpytest(
        *PLUGIN, "--mcp-config", "claude_desktop_config.json", "--collect-only", "-q"
    )
    ids = [line for line in result.outlines if "::" in line]
    assert ids == [
        "claude_desktop_config.json::(config)::static",
        "claude_desktop_config.json::github::static",
        "claude_desktop_config.json::github::environment",
        "claude_desktop_config.json::time::static",
        "claude_desktop_config.json::time::environment",
    ]


def test_failures_show_the_rule_message_and_hint_with_the_secret_masked(
    pytester: pytest.Pytester,
) -> None:
    config(pytester.path / "claude_desktop_config.json", LEAKY)
    pytester.makepyfile(test_other="def test_ordinary():\n    assert True\n")
    result = pytester.runpytest(*PLUGIN, "--mcp-config", "claude_desktop_config.json")
    result.assert_outcomes(passed=5, failed=1)  # the ordinary test runs alongside
    result.stdout.fnmatch_lines(
        [
            "*_ claude_desktop_config.json::github::static *_",
            "MCP003 literal-secret: GitHub token found as a literal value in"
            " env.GITHUB_PERSONAL_ACCESS_TOKEN (ghp_…(44 chars)) [env.GITHUB_PERSONAL_ACCESS_TOKEN]",
            "  hint: *",
        ]
    )
    assert GHP not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_warnings_are_pytest_warnings_and_do_not_fail(pytester: pytest.Pytester) -> None:
    config(
        pytester.path / "claude_desktop_config.json",
        {"ghost": {"command": "no-such-command-mcp-orch-plugin"}},
    )
    result = pytester.runpytest(*PLUGIN, "--mcp-config", "claude_desktop_config.json")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*McpConfigWarning*ghost: MCP006*not on PATH*"])


def test_ini_option_with_globs_and_files_outside_the_rootdir(pytester: pytest.Pytester) -> None:
    config(pytester.path / "configs" / "claude_desktop_config.json", LEAKY)
    config(
        pytester.path / "configs" / ".cursor" / "mcp.json",
        {"time": {"command": PY, "args": ["-m", "mcp_server_time"]}},
    )
    pytester.makeini("[pytest]\nmcp_configs = configs/*.json configs/.cursor/mcp.json\n")
    pytester.mkdir("tests")
    (pytester.path / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    # only tests/ is collected: the configs are added by the plugin all the same
    result = pytester.runpytest(*PLUGIN, "tests", "-v")
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*configs/claude_desktop_config.json::github::static FAILED*",
            "*configs/.cursor/mcp.json::time::environment PASSED*",
        ]
    )


def test_keyword_selection_applies_to_the_items(pytester: pytest.Pytester) -> None:
    config(pytester.path / "claude_desktop_config.json", LEAKY)
    result = pytester.runpytest(
        *PLUGIN, "--mcp-config", "claude_desktop_config.json", "-k", "time and static"
    )
    result.assert_outcomes(passed=1, deselected=4)


def test_an_ambiguous_or_broken_file_fails_one_item_with_a_hint(pytester: pytest.Pytester) -> None:
    config(pytester.path / "team" / "mcp.json", {"time": {"command": PY}})
    result = pytester.runpytest(*PLUGIN, "--mcp-config", "team/mcp.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "cannot check mcp.json: cannot tell which client reads*",
            "  hint: name the client*(--mcp-client)",
        ]
    )
    fixed = pytester.runpytest(*PLUGIN, "--mcp-config", "team/mcp.json", "--mcp-client", "cursor")
    fixed.assert_outcomes(passed=3)

    (pytester.path / "claude_desktop_config.json").write_text('{"mcpServers": {,,}')
    broken = pytester.runpytest(*PLUGIN, "--mcp-config", "claude_desktop_config.json")
    broken.assert_outcomes(failed=1)
    broken.stdout.fnmatch_lines(["*claude_desktop_config.json::(config)::static*"])


def test_pyproject_settings_select_rules_and_levels(pytester: pytest.Pytester) -> None:
    config(pytester.path / "claude_desktop_config.json", LEAKY)
    (pytester.path / "pyproject.toml").write_text(
        '[tool.mcp-orch]\nignore = ["MCP003"]\nlevels = ["static"]\n'
    )
    result = pytester.runpytest(*PLUGIN, "--mcp-config", "claude_desktop_config.json", "-v")
    result.assert_outcomes(passed=3)  # (config), github and time: static only, MCP003 ignored
    assert "::environment" not in result.stdout.str()


def test_mcp_probe_adds_live_items(pytester: pytest.Pytester) -> None:
    tiny = pytester.path / "tiny.py"
    tiny.write_text(TINY)
    config(
        pytester.path / "claude_desktop_config.json",
        {
            "tiny": {"command": PY, "args": [str(tiny)]},
            "dead": {
                "command": PY,
                "args": ["-c", "import sys; print('boom', file=sys.stderr); sys.exit(4)"],
            },
        },
    )
    result = pytester.runpytest(
        *PLUGIN,
        "--mcp-config",
        "claude_desktop_config.json",
        "--mcp-probe",
        "--mcp-probe-timeout",
        "20",
        "-v",
    )
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::tiny::live PASSED*",
            "*::dead::live FAILED*",
            "PROBE live-probe: the server exited during start-up (exit code 4)*",
            "  hint: *",
        ]
    )
    assert "boom" in result.stdout.str()  # the server's stderr is shown


def test_the_workspace_fixture_is_temporary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ws="""
        import os
        from pathlib import Path

        import mcp_orch as mo


        def test_it(mcp_orch_workspace, tmp_path):
            ws = mcp_orch_workspace
            assert isinstance(ws, mo.Workspace)
            assert Path(ws.path).is_relative_to(tmp_path)
            assert os.environ["MCP_ORCH_HOME"] == str(ws.path)
            assert Path(os.environ["MCP_ORCH_CLIENT_ROOT"]).is_relative_to(tmp_path)
            mo.Registry(workspace=ws).find("time").add_to(ws.profile("cursor"))
            art = ws.profile("cursor").draft.validate().publish(changelog="t")
            dep = art.deploy()
            assert Path(dep.path).is_relative_to(tmp_path)
        """
    )
    # In a subprocess: the test signs an artifact, and cryptography's classes must not be
    # imported a second time in this process.
    pytester.runpytest_subprocess(*PLUGIN).assert_outcomes(passed=1)


def test_the_plugin_adds_nothing_without_configs(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    (pytester.path / "claude_desktop_config.json").write_text(json.dumps({"mcpServers": LEAKY}))
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=1)
    help_text = pytester.runpytest(*PLUGIN, "--help").stdout.str()
    assert "--mcp-config" in help_text and "--mcp-probe" in help_text and "mcp_configs" in help_text
