"""Fixtures of the acceptance suite: ask the real clients what they read from the files
mcp-orch deploys (docs/explanation/acceptance.md).

- ``client_bin(name)``: an installed binary (scripts/ci-clients.sh), else a failure.
- ``sandbox``: a fresh HOME with a project folder, an mcp-orch workspace deploying into it, the
  clients' environment, ``run(argv)`` and ``deploy(client_id)``.
- ``everything``: the real server-everything over streamable HTTP and SSE on loopback, behind a
  proxy that demands ``Authorization: Bearer <token>`` (session scope).
- ``verdict(client, transport, outcome)``: a cell of the client × transport matrix printed at the
  end of the run; ``verdict.cell(client, transport)`` names the cell a failure fills.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kit import TOKEN, TOKEN_VAR, Everything, Sandbox, client_bin, everything_running
from matrix import CELL, PROP

__all__ = ["client_bin"]

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.acceptance)


@pytest.fixture(scope="session")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Everything]:
    with everything_running(tmp_path_factory.mktemp("everything")) as ev:
        yield ev


@pytest.fixture
def sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Sandbox:
    # clients whose rendering resolves secrets at deploy time read the value from here
    monkeypatch.setenv(TOKEN_VAR, TOKEN)
    ev = request.getfixturevalue("everything")
    return Sandbox(tmp_path / "acc", everything=ev)


class Verdict:
    def __init__(self, node: pytest.Item) -> None:
        self.node = node

    def __call__(self, client: str, transport: str, outcome: str) -> None:
        self.node.user_properties.append((PROP, (client, transport, outcome)))

    def cell(self, client: str, transport: str) -> None:
        """This test decides the cell: if it fails (or xfails), the cell says so."""
        self.node.user_properties.append((CELL, (client, transport)))


@pytest.fixture
def verdict(request: pytest.FixtureRequest) -> Verdict:
    return Verdict(request.node)


@pytest.fixture(name="client_bin")
def client_bin_fixture() -> object:
    """``client_bin`` as a fixture too (the function is in kit)."""
    return client_bin
