"""The built wheel: what it contains (catalog, schemas, ``py.typed``, every module, entry points,
metadata) and that, installed on its own into a folder and run from another working directory,
it works without the checkout: the CLI finds the wheel's bundled catalog and schemas, validates,
publishes and deploys.

The wheel is built once per module with ``pip wheel --no-deps --no-build-isolation --no-index``
(hatchling comes from the venv; no network) and installed with ``pip install --target``.
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

import mcp_orch
from mcp_orch.domain.clients import list_clients

PROJECT = Path(__file__).resolve().parents[1]


def _pip_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp / "home"),
        PIP_NO_CACHE_DIR="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("PYTHONPATH", None)
    return env


def _pip(tmp: Path, *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *args],
        env=_pip_env(tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"pip {args[0]} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Build the wheel and install it into ``site/``; yields their paths."""
    if importlib.util.find_spec("hatchling") is None or importlib.util.find_spec("pip") is None:
        pytest.skip("the build tools (pip, hatchling) are not installed in this environment")
    tmp = tmp_path_factory.mktemp("wheel")
    (tmp / "home").mkdir()
    dist, site = tmp / "dist", tmp / "site"
    _pip(
        tmp,
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        str(PROJECT),
        "-w",
        str(dist),
    )
    wheels = sorted(dist.glob("mcp_orch-*.whl"))
    assert len(wheels) == 1, wheels
    _pip(tmp, "install", "--no-deps", "--no-index", "--target", str(site), str(wheels[0]))
    yield {"wheel": wheels[0], "site": site}


@pytest.fixture(scope="module")
def names(built: dict[str, Path]) -> list[str]:
    with zipfile.ZipFile(built["wheel"]) as zf:
        return zf.namelist()


def _read(built: dict[str, Path], member: str) -> bytes:
    with zipfile.ZipFile(built["wheel"]) as zf:
        return zf.read(member)


def _dist_info(names: list[str], file: str) -> str:
    found = [n for n in names if re.fullmatch(r"mcp_orch-[^/]+\.dist-info/" + re.escape(file), n)]
    assert len(found) == 1, f"{file} in the wheel: {found}"
    return found[0]


# ---- contents ------------------------------------------------------------------------------


def test_wheel_name_and_version(built: dict[str, Path]) -> None:
    assert built["wheel"].name == f"mcp_orch-{mcp_orch.__version__}-py3-none-any.whl"


def test_wheel_bundles_the_catalog_and_schemas(built: dict[str, Path], names: list[str]) -> None:
    catalog = sorted(n for n in names if re.fullmatch(r"mcp_orch/_data/catalog/[^/]+\.json", n))
    assert len(catalog) >= 30
    in_checkout = sorted(p.name for p in (PROJECT / "catalog").glob("*.json"))
    assert [n.rsplit("/", 1)[1] for n in catalog] == in_checkout
    for member in catalog:  # byte for byte what the checkout has
        name = member.rsplit("/", 1)[1]
        assert _read(built, member) == (PROJECT / "catalog" / name).read_bytes(), name

    assert "mcp_orch/_data/schemas/server.schema.json" in names
    server_schema = json.loads(_read(built, "mcp_orch/_data/schemas/server.schema.json"))
    assert isinstance(server_schema, dict) and server_schema

    client_schemas = {
        n.rsplit("/", 1)[1]
        for n in names
        if re.fullmatch(r"mcp_orch/_data/schemas/clients/[^/]+\.schema\.json", n)
    }
    assert client_schemas
    assert client_schemas == {p.name for p in (PROJECT / "schemas" / "clients").glob("*.json")}
    missing = [c.id for c in list_clients() if f"{c.id}.schema.json" not in client_schemas]
    assert missing == [], f"clients without a schema in the wheel: {missing}"


def test_wheel_has_every_module_and_the_typed_marker(names: list[str]) -> None:
    assert "mcp_orch/py.typed" in names
    modules = {
        p.relative_to(PROJECT).as_posix()
        for p in (PROJECT / "mcp_orch").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules - set(names) == set()
    assert {
        "mcp_orch/__main__.py",
        "mcp_orch/frontends/cli/__init__.py",
        "mcp_orch/frontends/pytest_plugin.py",
    } <= set(names)
    junk = [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("tests/")]
    assert junk == []
    outside = [n for n in names if not n.startswith(("mcp_orch/", "mcp_orch-"))]
    assert outside == []


def test_wheel_entry_points(built: dict[str, Path], names: list[str]) -> None:
    parser = configparser.ConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(_read(built, _dist_info(names, "entry_points.txt")).decode())
    scripts = dict(parser["console_scripts"])
    assert scripts["mcp-orch"] == "mcp_orch.frontends.entry:main"
    assert scripts["mcp-orchestration"] == "mcp_orch.frontends.entry:main"
    assert dict(parser["pytest11"]) == {"mcp_orch": "mcp_orch.frontends.pytest_plugin"}


def _dist_name(requirement: str) -> str:
    name = re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_wheel_metadata(built: dict[str, Path], names: list[str]) -> None:
    meta = Parser().parsestr(_read(built, _dist_info(names, "METADATA")).decode())
    assert meta["Name"] == "mcp-orch"
    assert meta["Version"] == mcp_orch.__version__
    assert meta["Requires-Python"] == ">=3.11"
    requires = meta.get_all("Requires-Dist") or []
    runtime = {_dist_name(r) for r in requires if "extra ==" not in r}
    pyproject: dict[str, Any] = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    declared = {_dist_name(r) for r in pyproject["project"]["dependencies"]}
    assert runtime == declared
    assert {"click", "pydantic", "cryptography", "jsonschema", "polars", "mcp"} <= runtime
    assert "notebook" in (meta.get_all("Provides-Extra") or [])


# ---- the installed wheel, away from the checkout -------------------------------------------


def test_installed_wheel_runs_from_another_directory(
    built: dict[str, Path], cli_env: dict[str, str], tmp_path: Path
) -> None:
    site = built["site"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**cli_env, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("MCP_ORCH_DEBUG", None)

    def run(*args: str, code: int = 0, python: list[str] | None = None) -> str:
        proc = subprocess.run(
            [*(python or [sys.executable, "-m", "mcp_orch"]), *args],
            env=env,
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        assert proc.returncode == code, (
            f"{args}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
        )
        return proc.stdout

    where = run(
        "-c",
        "import mcp_orch, mcp_orch.frontends.cli, mcp_orch.core.resources as r; "
        "print(mcp_orch.__file__); print(mcp_orch.frontends.cli.__file__); "
        "print(r.data_dir('catalog')); print(r.data_dir('schemas'))",
        python=[sys.executable],
    ).splitlines()
    for line in where:
        assert Path(line).resolve().is_relative_to(site.resolve()), where
    assert not Path(where[0]).resolve().is_relative_to(PROJECT.resolve())

    servers = json.loads(run("list-servers", "--json"))["servers"]
    assert len(servers) >= 30
    assert len(servers) == len(list((PROJECT / "catalog").glob("*.json")))
    assert all(s["source"] == "bundled" for s in servers)

    github = json.loads(run("describe-server", "github", "--json"))
    assert github["id"] == "github" and github["title"] == "GitHub"
    assert any(i["name"] == "GITHUB_PERSONAL_ACCESS_TOKEN" for i in github["inputs"])

    assert "added time" in run("add-server", "time", "--client", "cursor")
    assert "ok" in run("validate-draft", "--client", "cursor")
    # the client schemas come from the wheel: a schema violation is found (MCP010)
    bad = elsewhere / "bad.json"
    bad.write_text(json.dumps({"mcpServers": {"x": "not an object"}}), encoding="utf-8")
    report = json.loads(run("validate-draft", "-c", "cursor", "--file", str(bad), "--json", code=1))
    assert "MCP010" in {f["code"] for f in report["errors"]}

    published = run("publish-config", "--client", "cursor", "-m", "x")
    assert published.startswith("published sha256:")
    deployed = run("deploy-config", "--client", "cursor")
    assert deployed.startswith("deployed sha256:")
    target = Path(cli_env["MCP_ORCH_CLIENT_ROOT"]) / ".cursor" / "mcp.json"
    assert json.loads(target.read_text(encoding="utf-8"))["mcpServers"]["time"]["command"]
    assert json.loads(run("verify", "--json"))["ok"] is True

    # the console scripts pip wrote for the wheel run the same CLI
    bindir = site / "bin"
    for script in ("mcp-orch", "mcp-orchestration"):
        path = bindir / script
        assert path.is_file(), f"{script} was not installed from the wheel"
        assert mcp_orch.__version__ in run("--version", python=[sys.executable, str(path)])
    history = json.loads(
        run("config-history", "-c", "cursor", "--json", python=[str(bindir / "mcp-orch")])
    )["artifacts"]
    assert [h["changelog"] for h in history] == ["x"]
    assert sorted(p.name for p in elsewhere.iterdir()) == ["bad.json"]
