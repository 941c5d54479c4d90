"""Pin resolution against real registries on loopback (issue 13): verdaccio for npm, pypiserver
for PyPI (tests/registry/kit.py), holding packages the suite builds; the lock records what
those servers serve (integrity, files, times, versions), from the user's own registry config."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import time
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from registry.kit import (
    PROBE,
    Published,
    PypiServer,
    Verdaccio,
    build_npm_server,
    build_pypi_sdist,
    build_pypi_server,
    free_port,
    mcp_exchange,
    serving,
    tool_bin,
)

from mcp_orch.core.clock import iso
from mcp_orch.core.errors import ParseError, UsageError
from mcp_orch.domain.pins import PackageRef, package_of
from mcp_orch.services.pinning import Lock, public_url, pypi_index_url, resolve

EXTRA_NPM = "@mcp-orch-test/pin-extra"  # 1.0.0, 1.0.1, 2.0.0 (latest), 2.1.0-rc.1 (tag next)
EXTRA_PYPI = "mcp-orch-pin-extra"  # 0.9.0 (sdist only), 1.0.0 (wheel + sdist), 1.1.0rc1 (wheel)
CLOSED = "http://127.0.0.1:9/"  # the discard port: nothing listens on loopback


def npx(spec: str) -> PackageRef:
    ref = package_of({"command": "npx", "args": ["-y", spec]})
    assert ref is not None
    return ref


def uvx(*args: str) -> PackageRef:
    ref = package_of({"command": "uvx", "args": list(args)})
    assert ref is not None
    return ref


def one(ref: PackageRef, env: dict[str, str], **kw: Any) -> Lock:
    [lock] = resolve([ref], env=env, **kw)
    return lock


def stamp(value: str) -> str:
    return iso(datetime.fromisoformat(value.replace("Z", "+00:00")))


def without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def npm_extra(verdaccio: Verdaccio, tmp_path_factory: pytest.TempPathFactory) -> None:
    build = tmp_path_factory.mktemp("npm-extra")
    for version in ("1.0.0", "1.0.1", "2.0.0"):
        verdaccio.publish(build_npm_server(build, EXTRA_NPM, version))
    verdaccio.publish(build_npm_server(build, EXTRA_NPM, "2.1.0-rc.1"), tag="next")


@pytest.fixture(scope="module")
def pypi_extra(pypiserver: PypiServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    build = tmp_path_factory.mktemp("pypi-extra")
    made = {
        "0.9.0.tar.gz": build_pypi_sdist(build, EXTRA_PYPI, "0.9.0"),
        "1.0.0.whl": build_pypi_server(build, EXTRA_PYPI, "1.0.0"),
        "1.0.0.tar.gz": build_pypi_sdist(build, EXTRA_PYPI, "1.0.0"),
        "1.1.0rc1.whl": build_pypi_server(build, EXTRA_PYPI, "1.1.0rc1"),
    }
    return {key: pypiserver.add(path) for key, path in made.items()}


NPM_SPECS = {
    "exact": f"{PROBE}@1.0.0",
    "tilde": f"{PROBE}@~1.0.0",
    "caret": f"{PROBE}@^1.0.0",
    "floating": PROBE,
    "latest": f"{PROBE}@latest",
    "no-version": f"{PROBE}@9.9.9",
    "no-package": "mcp-orch-no-such-package",
    "scoped-caret": f"{EXTRA_NPM}@^2.0.0",
    "scoped-tilde": f"{EXTRA_NPM}@~1.0.0",
    "scoped-next": f"{EXTRA_NPM}@next",
}


@pytest.fixture(scope="module")
def npm_locks(verdaccio: Verdaccio, npm_pin_probe: Published, npm_extra: None) -> dict[str, Lock]:
    """One resolve call for every npm case (they run concurrently, as a publish runs them)."""
    locks = resolve([npx(s) for s in NPM_SPECS.values()], env=verdaccio.env, timeout=20)
    return dict(zip(NPM_SPECS, locks, strict=True))


PYPI_ARGS = {
    "exact": (f"{PROBE}@1.0.0",),
    "from-exact": ("--from", f"{PROBE}==1.0.0", PROBE),
    "compatible-minor": ("--from", f"{PROBE}~=1.0", PROBE),
    "compatible-patch": ("--from", f"{PROBE}~=1.0.0", PROBE),
    "below": ("--from", f"{PROBE}>=1,<1.1", PROBE),
    "floating": (PROBE,),
    "no-version": (f"{PROBE}@9.9.9",),
    "no-project": ("mcp-orch-no-such-project",),
    "extra": (EXTRA_PYPI,),
    "extra-sdist": (f"{EXTRA_PYPI}@0.9.0",),
    "extra-pre": ("--from", f"{EXTRA_PYPI}>=1.1.0rc1", EXTRA_PYPI),
}


@pytest.fixture(scope="module")
def pypi_locks(
    pypiserver: PypiServer, pypi_pin_probe: Published, pypi_extra: dict[str, Path]
) -> dict[str, Lock]:
    locks = resolve([uvx(*a) for a in PYPI_ARGS.values()], env=pypiserver.env, timeout=20)
    return dict(zip(PYPI_ARGS, locks, strict=True))


# ---- npm -------------------------------------------------------------------------------------


@pytest.mark.registry
class TestNpm:
    def test_an_exact_pin_records_what_verdaccio_serves(
        self, npm_locks: dict[str, Lock], verdaccio: Verdaccio
    ) -> None:
        lock = npm_locks["exact"]
        doc = verdaccio.packument(PROBE)
        dist = doc["versions"]["1.0.0"]["dist"]
        assert (lock.status, lock.version, lock.reason) == ("resolved", "1.0.0", None)
        assert lock.integrity == dist["integrity"]
        assert lock.files == ({"tarball": dist["tarball"], "shasum": dist["shasum"]},)
        assert lock.published == stamp(doc["time"]["1.0.0"])
        assert (lock.latest, lock.versions) == ("1.1.0", ("1.0.0", "1.1.0"))
        assert lock.registry_url == verdaccio.url
        # and the integrity is the hash of the tarball's bytes, not just a copied field
        with urllib.request.urlopen(dist["tarball"], timeout=10) as resp:
            tgz = resp.read()
        assert lock.integrity == "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode()
        assert npm_locks["floating"].integrity != lock.integrity  # 1.1.0 is another tarball

    def test_a_range_resolves_to_the_newest_matching_version(
        self, npm_locks: dict[str, Lock]
    ) -> None:
        assert npm_locks["tilde"].version == "1.0.0"  # ~1.0.0 is <1.1.0
        assert npm_locks["caret"].version == "1.1.0"
        assert npm_locks["caret"].spec == "^1.0.0"
        # a prerelease published later does not satisfy ^2.0.0
        scoped = npm_locks["scoped-caret"]
        assert (scoped.name, scoped.version, scoped.latest) == (EXTRA_NPM, "2.0.0", "2.0.0")
        assert scoped.versions == ("1.0.0", "1.0.1", "2.0.0", "2.1.0-rc.1")
        # a range that `latest` does not satisfy: the newest version it does
        assert npm_locks["scoped-tilde"].version == "1.0.1"

    def test_floating_and_dist_tags_resolve_to_what_the_tag_names(
        self, npm_locks: dict[str, Lock]
    ) -> None:
        assert npm_locks["floating"].version == "1.1.0"
        assert npm_locks["latest"].version == "1.1.0"
        assert npm_locks["scoped-next"].version == "2.1.0-rc.1"
        assert all(npm_locks[k].status == "resolved" for k in ("floating", "latest"))
        # one question to the registry, each lock keeps its spec as written
        assert (npm_locks["floating"].spec, npm_locks["latest"].spec) == (None, "latest")

    def test_an_unknown_package_or_version_is_unresolved_with_the_reason(
        self, npm_locks: dict[str, Lock], verdaccio: Verdaccio
    ) -> None:
        version = npm_locks["no-version"]
        assert version.status == "unresolved"
        assert version.version == "9.9.9"  # the pin is kept as written
        assert version.reason == (
            f"the npm registry {verdaccio.url} has no version of {PROBE} matching 9.9.9."
        )
        package = npm_locks["no-package"]
        assert (package.status, package.version, package.integrity) == ("unresolved", None, None)
        assert package.reason == f"the npm registry {verdaccio.url} has no package {package.name}."

    def test_a_registry_that_is_down_is_unresolved_quickly(self, verdaccio: Verdaccio) -> None:
        env = {**verdaccio.env, "npm_config_registry": CLOSED}
        began = time.monotonic()
        lock = one(npx(f"{PROBE}@1.0.0"), env, timeout=8)
        assert time.monotonic() - began < 8
        assert lock.status == "unresolved"
        assert lock.reason == f"the npm registry {CLOSED} could not be reached (ECONNREFUSED)."
        assert lock.registry_url == CLOSED

    def test_the_registry_comes_from_the_users_npmrc(
        self, verdaccio: Verdaccio, npm_pin_probe: Published, tmp_path: Path
    ) -> None:
        npmrc = tmp_path / "user.npmrc"
        npmrc.write_text(verdaccio.npmrc.read_text(), encoding="utf-8")
        env = {**without(verdaccio.env, "npm_config_registry"), "npm_config_userconfig": str(npmrc)}
        lock = one(npx(f"{PROBE}@1.0.0"), env)
        assert (lock.status, lock.registry_url) == ("resolved", verdaccio.url)
        # a project's .npmrc (where npm runs) beats the user's: here it names a dead registry
        project = tmp_path / "project"
        project.mkdir()
        (project / ".npmrc").write_text(f"registry={CLOSED}\n", encoding="utf-8")
        dead = one(npx(f"{PROBE}@1.0.0"), env, cwd=project, timeout=8)
        assert (dead.status, dead.registry_url) == ("unresolved", CLOSED)

    def test_credentials_in_the_registry_url_are_never_recorded(
        self, verdaccio: Verdaccio, npm_pin_probe: Published
    ) -> None:
        secret = "mcp-orch-test-pass"
        with_user = verdaccio.url.replace("http://", f"http://mcp-orch-test:{secret}@")
        env = {**verdaccio.env, "npm_config_registry": with_user}
        lock = one(npx(f"{PROBE}@1.0.0"), env)
        assert (lock.status, lock.registry_url) == ("resolved", verdaccio.url)
        assert secret not in json.dumps(lock.to_dict())

    def test_without_npm_the_lock_is_unresolved(self, tmp_path: Path) -> None:
        lock = one(npx(f"{PROBE}@1.0.0"), {"PATH": str(tmp_path), "HOME": str(tmp_path)})
        assert lock.status == "unresolved"
        assert lock.reason == "npm is not installed (no npm on PATH), so it was not asked."


# ---- PyPI ------------------------------------------------------------------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.registry
class TestPypi:
    def test_an_exact_pin_records_the_sha256_of_the_wheel(
        self, pypi_locks: dict[str, Lock], pypi_pin_probe: Published, pypiserver: PypiServer
    ) -> None:
        wheel = pypi_pin_probe.artifacts["1.0.0"]
        for key in ("exact", "from-exact"):
            lock = pypi_locks[key]
            assert (lock.status, lock.version, lock.reason) == ("resolved", "1.0.0", None)
            assert lock.integrity == f"sha256:{sha256(wheel)}"
            assert lock.files == ({"filename": wheel.name, "sha256": sha256(wheel)},)
            assert (lock.latest, lock.versions) == ("1.1.0", ("1.0.0", "1.1.0"))
            assert lock.registry_url == pypiserver.url
            assert lock.published is None  # a PEP 503 page has no upload times
        assert pypi_locks["exact"].spec == "1.0.0"
        assert pypi_locks["from-exact"].spec == "==1.0.0"

    def test_a_range_resolves_to_the_newest_matching_version(
        self, pypi_locks: dict[str, Lock], pypi_pin_probe: Published
    ) -> None:
        assert pypi_locks["compatible-minor"].version == "1.1.0"  # ~=1.0 is >=1.0,<2
        assert pypi_locks["compatible-patch"].version == "1.0.0"  # ~=1.0.0 is >=1.0.0,<1.1
        assert pypi_locks["below"].version == "1.0.0"
        newest = pypi_pin_probe.artifacts["1.1.0"]
        assert pypi_locks["compatible-minor"].integrity == f"sha256:{sha256(newest)}"

    def test_floating_takes_the_newest_stable_version(
        self, pypi_locks: dict[str, Lock], pypi_extra: dict[str, Path]
    ) -> None:
        assert pypi_locks["floating"].version == "1.1.0"
        extra = pypi_locks["extra"]
        assert (extra.version, extra.latest) == ("1.0.0", "1.0.0")  # not 1.1.0rc1
        assert extra.versions == ("0.9.0", "1.0.0", "1.1.0rc1")
        # the wheel is what an installer picks; every file of the version is listed
        wheel, sdist = pypi_extra["1.0.0.whl"], pypi_extra["1.0.0.tar.gz"]
        assert extra.integrity == f"sha256:{sha256(wheel)}"
        assert {f["filename"]: f["sha256"] for f in extra.files} == {
            wheel.name: sha256(wheel),
            sdist.name: sha256(sdist),
        }
        # a version with only an sdist locks the sdist; a spec naming a prerelease takes it
        only = pypi_locks["extra-sdist"]
        assert only.integrity == f"sha256:{sha256(pypi_extra['0.9.0.tar.gz'])}"
        assert pypi_locks["extra-pre"].version == "1.1.0rc1"

    def test_an_unknown_project_or_version_is_unresolved_with_the_reason(
        self, pypi_locks: dict[str, Lock], pypiserver: PypiServer
    ) -> None:
        version = pypi_locks["no-version"]
        assert (version.status, version.version) == ("unresolved", "9.9.9")
        assert version.reason == (
            f"the package index {pypiserver.url} has no version of {PROBE} matching 9.9.9."
        )
        project = pypi_locks["no-project"]
        assert project.status == "unresolved"
        assert project.reason == (
            f"the package index {pypiserver.url} has no project mcp-orch-no-such-project."
        )

    def test_an_index_that_is_down_is_unresolved_quickly(self, pypiserver: PypiServer) -> None:
        env = {**pypiserver.env, "UV_DEFAULT_INDEX": CLOSED + "simple/"}
        began = time.monotonic()
        lock = one(uvx(f"{PROBE}@1.0.0"), env, timeout=5)
        assert time.monotonic() - began < 5
        assert lock.status == "unresolved"
        assert lock.reason is not None
        assert lock.reason.startswith(f"the package index {CLOSED}simple/ could not be reached")

    def test_the_index_comes_from_the_users_configuration(
        self, pypiserver: PypiServer, pypi_pin_probe: Published, tmp_path: Path
    ) -> None:
        bare = without(pypiserver.env, "UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL")
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\nindex-url = {pypiserver.url}\n", encoding="utf-8")
        env = {**bare, "PIP_CONFIG_FILE": str(conf)}
        assert pypi_index_url(env) == pypiserver.url
        lock = one(uvx(f"{PROBE}@1.0.0"), env)
        assert (lock.status, lock.version, lock.registry_url) == (
            "resolved",
            "1.0.0",
            pypiserver.url,
        )
        # uv's own setting wins over pip's; pip's environment variable over its files
        assert pypi_index_url({**env, "PIP_INDEX_URL": CLOSED}) == CLOSED
        assert pypi_index_url({**env, "PIP_INDEX_URL": CLOSED, "UV_INDEX_URL": "http://a/"}) == (
            "http://a/"
        )
        uv_toml = tmp_path / "uv.toml"
        uv_toml.write_text(f'[[index]]\nurl = "{CLOSED}"\ndefault = true\n', encoding="utf-8")
        uv_env = {**without(env, "UV_NO_CONFIG"), "UV_CONFIG_FILE": str(uv_toml)}
        assert pypi_index_url(uv_env) == CLOSED
        assert pypi_index_url({**uv_env, "UV_DEFAULT_INDEX": "http://b/"}) == "http://b/"
        # with no configuration at all: PyPI
        nothing = {"HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull, "UV_NO_CONFIG": "1"}
        assert pypi_index_url(nothing) == "https://pypi.org/simple"

    def test_credentials_in_the_index_url_are_never_recorded(
        self, pypiserver: PypiServer, pypi_pin_probe: Published
    ) -> None:
        secret = "index-secret-42"
        url = pypiserver.url.replace("http://", f"http://someone:{secret}@")
        lock = one(uvx(f"{PROBE}@1.0.0"), {**pypiserver.env, "UV_DEFAULT_INDEX": url})
        assert (lock.status, lock.registry_url) == ("resolved", pypiserver.url)
        assert secret not in json.dumps(lock.to_dict())
        assert public_url(url) == pypiserver.url


# ---- OCI -------------------------------------------------------------------------------------


def push_image(base: str, repo: str, tag: str) -> str:
    """Push a one-layer OCI image over the distribution API; its manifest digest."""

    def blob(data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = urllib.request.Request(f"{base}/v2/{repo}/blobs/uploads/", method="POST", data=b"")
        with urllib.request.urlopen(start, timeout=10) as resp:
            location = urllib.parse.urljoin(base, resp.headers["Location"])
        sep = "&" if "?" in location else "?"
        put = urllib.request.Request(
            f"{location}{sep}digest={digest}",
            method="PUT",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        urllib.request.urlopen(put, timeout=10).close()
        return {"digest": digest, "size": len(data)}

    config = blob(b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    layer = blob(gzip.compress(b"\0" * 1024))
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
        }
    ).encode()
    put = urllib.request.Request(
        f"{base}/v2/{repo}/manifests/{tag}",
        method="PUT",
        data=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    urllib.request.urlopen(put, timeout=10).close()
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def local_image(port: int, image: str) -> PackageRef:
    ref = package_of({"command": "docker", "args": ["run", f"127.0.0.1:{port}/{image}"]})
    assert ref is not None
    return ref


@pytest.mark.registry
class TestOci:
    def test_an_unreachable_registry_is_unresolved_within_the_timeout(self) -> None:
        refs = [
            package_of({"command": "docker", "args": ["run", "-i", image]})
            for image in ("ghcr.io/github/github-mcp-server:v0.1.0", "mcp/time")
        ]
        began = time.monotonic()
        locks = resolve([r for r in refs if r], timeout=3)
        assert time.monotonic() - began < 4
        assert [lock.status for lock in locks] == ["unresolved", "unresolved"]
        assert [lock.registry_url for lock in locks] == [
            "https://ghcr.io",
            "https://registry-1.docker.io",
        ]
        assert locks[0].version == "v0.1.0"  # the tag pin is kept
        assert all(lock.reason for lock in locks)

    def test_a_loopback_registry_resolves_the_manifest_digest(self, tmp_path: Path) -> None:
        binary = tool_bin("docker-registry")
        if binary is None:
            pytest.skip("no docker-registry on this machine (Debian's docker-registry package)")
        port = free_port()
        config = tmp_path / "config.yml"
        config.write_text(
            f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
            f"http:\n  addr: 127.0.0.1:{port}\n",
            encoding="utf-8",
        )
        base = f"http://127.0.0.1:{port}"
        with serving([binary, "serve", str(config)], base + "/v2/", tmp_path / "log", os.environ):
            digest = push_image(base, "mcp/pin-probe", "1.0.0")
            ref = package_of(
                {
                    "command": "docker",
                    "args": ["run", "-i", f"127.0.0.1:{port}/mcp/pin-probe:1.0.0"],
                }
            )
            assert ref is not None
            lock = one(ref, dict(os.environ))
            assert (lock.status, lock.integrity, lock.version) == ("resolved", digest, "1.0.0")
            assert lock.registry_url == base
            by_digest = package_of(
                {"command": "docker", "args": ["run", f"127.0.0.1:{port}/mcp/pin-probe@{digest}"]}
            )
            assert by_digest is not None
            assert one(by_digest, dict(os.environ)).integrity == digest
            missing = one(local_image(port, "mcp/pin-probe:9.9.9"), dict(os.environ))
            assert missing.status == "unresolved"


# ---- NuGet and misuse ------------------------------------------------------------------------


class TestLockRows:
    def test_nuget_is_unresolved_for_now(self) -> None:
        ref = package_of({"command": "dnx", "args": ["Some.Tool@1.2.3"]})
        assert ref is not None
        [lock] = resolve([ref])
        assert (lock.status, lock.version) == ("unresolved", "1.2.3")
        assert lock.reason == "NuGet resolution is not supported yet."

    def test_a_lock_row_round_trips_through_json(self) -> None:
        lock = Lock(
            registry="pypi",
            name="x",
            spec="~=1.0",
            status="resolved",
            version="1.1.0",
            published="2026-01-01T00:00:00.000000Z",
            integrity="sha256:" + "0" * 64,
            files=({"filename": "x-1.1.0-py3-none-any.whl", "sha256": "0" * 64},),
            latest="1.1.0",
            versions=("1.0.0", "1.1.0"),
            registry_url="https://pypi.org/simple",
        )
        assert Lock.from_dict(json.loads(json.dumps(lock.to_dict()))) == lock
        with pytest.raises(ParseError):
            Lock.from_dict({**lock.to_dict(), "status": "maybe"})
        with pytest.raises(ParseError):
            Lock.from_dict({**lock.to_dict(), "versions": [1]})
        with pytest.raises(ParseError):
            Lock.from_dict({**lock.to_dict(), "surprise": True})

    def test_misuse_is_a_typed_error(self) -> None:
        ref = npx("x@1.0.0")
        with pytest.raises(UsageError):
            resolve(ref)  # type: ignore[arg-type]
        with pytest.raises(UsageError):
            resolve([ref], jobs=0)
        with pytest.raises(UsageError):
            resolve([ref], timeout=0)
        assert resolve([]) == []


# ---- end to end: the pinned version is the one that runs --------------------------------------


@pytest.mark.registry
class TestPinnedRuns:
    def test_npx_runs_the_pinned_version_although_a_newer_is_latest(
        self,
        verdaccio: Verdaccio,
        npm_pin_probe: Published,
        npm_locks: dict[str, Lock],
        tmp_path: Path,
    ) -> None:
        assert npm_locks["floating"].version == "1.1.0"
        pinned = mcp_exchange(["npx", "-y", f"{PROBE}@1.0.0"], verdaccio.env, cwd=tmp_path)
        info = pinned["initialize"]
        assert info["serverInfo"] == {"name": PROBE, "version": "1.0.0"}
        assert info["protocolVersion"] == "2025-06-18"
        assert [t["name"] for t in pinned["tools"]] == ["whoami"]
        assert "1.0.0" in pinned["tools"][0]["description"]
        assert pinned["whoami"] == f"{PROBE} 1.0.0"
        floating = mcp_exchange(["npx", "-y", PROBE], verdaccio.env, cwd=tmp_path)
        assert floating["initialize"]["serverInfo"]["version"] == "1.1.0"

    def test_uvx_runs_the_pinned_version_although_a_newer_is_latest(
        self, pypiserver: PypiServer, pypi_pin_probe: Published, tmp_path: Path
    ) -> None:
        uv = tool_bin("uvx")
        if uv is None:
            pytest.skip("uvx is not installed: install the test extra (uv)")
        pinned = mcp_exchange([uv, f"{PROBE}@1.0.0"], pypiserver.env, cwd=tmp_path)
        assert pinned["initialize"]["serverInfo"] == {"name": PROBE, "version": "1.0.0"}
        assert pinned["whoami"] == f"{PROBE} 1.0.0"
        floating = mcp_exchange([uv, PROBE], pypiserver.env, cwd=tmp_path)
        assert floating["initialize"]["serverInfo"]["version"] == "1.1.0"
