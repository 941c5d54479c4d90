"""The real CNCF distribution registry (Debian's ``docker-registry``) on loopback, with htpasswd
basic auth, for the remote tests and the pull benchmark.

    with oci_registry(tmp / "reg") as reg:      # pytest-free (bench/pull.py uses it too)
        reg.url("team/mcp")                     # 'oci://127.0.0.1:PORT/team/mcp'
        reg.blob_path("sha256:ab…")             # the blob's data file in the registry's storage

The user is :data:`USER` / :data:`PASSWORD`; the bcrypt cost is the minimum (4), because the
registry checks the hash on every request. When the binary is missing, :func:`binary` returns
None; the pytest fixture then fails on CI (``CI`` set: scripts/ci-system-deps.sh installs it)
and skips elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from registry.kit import _stop  # the same process-group stop as the package registries

USER = "alice"
PASSWORD = "s3cret-pass"
START_TIMEOUT = 20.0


def binary() -> str | None:
    return shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if os.path.exists("/usr/bin/docker-registry") else None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Registry:
    root: Path
    port: int
    log: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, repo: str) -> str:
        return f"oci://{self.host}/{repo}"

    def blob_path(self, digest: str) -> Path:
        hexid = digest.split(":", 1)[1]
        return self.root.joinpath("docker/registry/v2/blobs/sha256", hexid[:2], hexid, "data")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code == 401  # up, and asking for the credentials
    except OSError:
        return False


@contextlib.contextmanager
def oci_registry(folder: Path, *, access_log: bool = False) -> Iterator[Registry]:
    """Start docker-registry on a free loopback port with htpasswd auth; stop it after."""
    import bcrypt  # the test extra: distribution's htpasswd needs bcrypt hashes

    exe = binary()
    if exe is None:
        raise FileNotFoundError("docker-registry")
    folder.mkdir(parents=True, exist_ok=True)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    (folder / "htpasswd").write_text(f"{USER}:{hashed}\n", encoding="utf-8")
    port = free_port()
    data = folder / "data"
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: error\n"
        f"  accesslog:\n    disabled: {'false' if access_log else 'true'}\n"
        f"storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: mcp-orch-tests\n    path: {folder / 'htpasswd'}\n",
        encoding="utf-8",
    )
    log = folder / "registry.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(f"http://127.0.0.1:{port}/v2/"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "docker-registry did not start:\n" + log.read_text(errors="replace")[-2000:]
                )
            time.sleep(0.05)
        yield Registry(data, port, log)
    finally:
        _stop(proc)
