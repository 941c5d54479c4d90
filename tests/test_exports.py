"""The public surface of ``mcp_orch``: ``__all__`` is sorted and complete, every name in it
imports from the package (lazily), unknown names raise ``AttributeError``, and importing the
package or running a light CLI command does not pull in the heavy dependencies (``mcp``,
``polars``, ``ipywidgets``, ``jsonschema``, ``pydantic``), checked in fresh interpreters.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import mcp_orch

HEAVY = ("mcp", "polars", "ipywidgets", "jsonschema", "pydantic")

# Runs in a fresh interpreter: optional setup, then reports which heavy packages got imported.
PROBE = """
import json, runpy, sys
HEAVY = {heavy!r}
{setup}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set(HEAVY))))
"""

RUN_CLI = """
import mcp_orch
sys.argv = {argv!r}
try:
    runpy.run_module("mcp_orch", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
"""


def test_all_is_sorted_and_unique() -> None:
    names = list(mcp_orch.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert "__version__" in names
    assert {"Workspace", "Registry", "Server", "Draft", "Artifact", "MCPOrchError"} <= set(names)


@pytest.mark.parametrize("name", mcp_orch.__all__)
def test_every_public_name_imports_from_the_package(name: str) -> None:
    value = getattr(mcp_orch, name)
    assert value is not None
    namespace: dict[str, object] = {}
    exec(f"from mcp_orch import {name}", namespace)
    assert namespace[name] is value
    if name != "__version__":
        # the object lives in a submodule of mcp_orch (no re-export of third-party objects)
        assert getattr(value, "__module__", "").startswith("mcp_orch"), name


def test_probe_stays_the_function_after_probe_report_is_used(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    """``mcp_orch.probe`` is the public function: touching ``mcp_orch.ProbeReport`` first (which
    imports the module both live in, as ``Draft.probe`` does) must not shadow it with a module."""
    code = (
        "import mcp_orch\n"
        "mcp_orch.ProbeReport\n"
        "print(type(mcp_orch.probe).__name__, callable(mcp_orch.probe))\n"
        "from mcp_orch import probe\n"
        "print(type(probe).__name__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["function", "True", "function"]


def test_star_import_and_dir_match_all() -> None:
    namespace: dict[str, object] = {}
    exec("from mcp_orch import *", namespace)
    exported = {k for k in namespace if k != "__builtins__"}
    assert exported == set(mcp_orch.__all__)
    assert set(mcp_orch.__all__) <= set(dir(mcp_orch))


def test_every_error_class_is_exported() -> None:
    errors = importlib.import_module("mcp_orch.core.errors")
    public = {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type)
        and issubclass(obj, Exception)
        and obj.__module__ == errors.__name__
    }
    assert public <= set(mcp_orch.__all__)
    assert set(errors.__all__) == public


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = mcp_orch.no_such_thing  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        exec("from mcp_orch import no_such_thing", {})


def test_version_matches_the_installed_metadata() -> None:
    from importlib.metadata import version

    assert mcp_orch.__version__ == version("mcp-orch")


def _heavy_imports(setup: str, env: dict[str, str], cwd: Path) -> list[str]:
    code = PROBE.format(heavy=HEAVY, setup=setup)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    result: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_import_mcp_orch_is_light(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert _heavy_imports("import mcp_orch", cli_env, tmp_path) == []
    # the names in __all__ that are pure (errors, the client table) stay light as well
    light = "import mcp_orch\nmcp_orch.NotFound, mcp_orch.UsageError, mcp_orch.MCPOrchError"
    assert _heavy_imports(light, cli_env, tmp_path) == []
    # the probe is able to see a heavy import at all
    assert _heavy_imports("import mcp_orch\nmcp_orch.Artifact", cli_env, tmp_path) == ["pydantic"]


@pytest.mark.parametrize(
    "argv",
    [
        ["mcp-orch", "list-servers"],
        ["mcp-orch", "list-servers", "--json"],
        ["mcp-orch", "--help"],
        ["mcp-orch", "list-clients"],
    ],
    ids=lambda a: " ".join(a[1:]),
)
def test_light_cli_commands_do_not_import_heavy_packages(
    argv: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    setup = RUN_CLI.format(argv=argv)
    assert _heavy_imports(setup, cli_env, tmp_path) == []
