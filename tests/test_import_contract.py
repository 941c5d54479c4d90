"""The import-layer contract (``make lint`` checks it too): ``lint-imports`` keeps the contracts in
``pyproject.toml`` and ``scripts/check_imports.py`` finds no module-level cycle and no unexplained
function-local import; and that script's checks do fail on a tiny package that breaks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_imports.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _check(package: Path) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, str(SCRIPT), str(package))


def _package(root: Path, files: dict[str, str]) -> Path:
    package = root / "fakepkg"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")
    return package


def test_check_imports_passes_on_the_tree() -> None:
    result = _run(sys.executable, str(SCRIPT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check_imports: ok:" in result.stdout


def test_lint_imports_keeps_every_contract() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (it is in the dev extra)")
    result = _run(lint_imports, "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cycle_detector_finds_a_cycle_of_imports_that_run(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "a.py": "from fakepkg import b\n",
            "b.py": "from . import c\n",
            "c.py": "import fakepkg.a\n\nC = 1\n",
        },
    )
    result = _check(package)
    assert result.returncode == 1, result.stdout
    assert (
        "import cycle: fakepkg.a (fakepkg/a.py:1) -> fakepkg.b (fakepkg/b.py:1)"
        " -> fakepkg.c (fakepkg/c.py:1) -> fakepkg.a\n"
    ) in result.stdout


def test_a_type_only_back_reference_is_not_a_cycle(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "a.py": "from fakepkg import b\n",
            "b.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .a import A\n",
        },
    )
    result = _check(package)
    assert result.returncode == 0, result.stdout
    assert "0 cycles" in result.stdout


def test_acyclic_package_with_explained_local_imports_passes(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "a.py": "from fakepkg import b\n",
            "b.py": (
                "def later():\n"
                "    # explained: a cycle otherwise\n"
                "    from fakepkg import a\n"
                "    from fakepkg.sub import c  # explained too\n"
            ),
            "sub/__init__.py": "",
            "sub/c.py": "from .. import b\n",
        },
    )
    result = _check(package)
    assert result.returncode == 0, result.stdout
    assert "5 modules, 2 module-level edges, 0 cycles, 2 function-local" in result.stdout


def test_unexplained_or_too_many_local_imports_fail(tmp_path: Path) -> None:
    body = "".join(f"    import fakepkg.a  # why {i}\n" for i in range(9))
    package = _package(
        tmp_path,
        {
            "a.py": "",
            "b.py": f"def f():\n    # noqa: PLC0415\n    from fakepkg import a\n{body}",
            "frontends/__init__.py": "def f():\n    import fakepkg.a\n",  # front ends are exempt
        },
    )
    result = _check(package)
    assert result.returncode == 1, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == "fakepkg/b.py:3: function-local import of fakepkg.a without a comment why"
    assert lines[1] == "10 function-local imports outside the front ends (must be < 10)"
