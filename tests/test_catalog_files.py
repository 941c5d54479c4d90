"""Checks on the bundled catalog: every ``catalog/<id>.json`` is a valid
official MCP Registry ``server.json`` (schema 2025-12-11) plus our own
``_meta["io.github.mcp-orch/catalog"]`` block, and the catalog as a whole has
the mix of servers the rest of mcp_orch relies on.

Self-contained on purpose: it reads the JSON files and the byte-exact copy of
the official schema in ``schemas/server.schema.json`` and imports nothing from
``mcp_orch``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, FormatChecker

ROOT = Path(__file__).resolve().parents[1]
CATALOG_DIR = ROOT / "catalog"
SCHEMA_PATH = ROOT / "schemas" / "server.schema.json"

SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
META_KEY = "io.github.mcp-orch/catalog"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CATEGORIES = {
    "developer-tools",
    "filesystem",
    "web",
    "data",
    "productivity",
    "search",
    "cloud",
    "ai",
    "utilities",
    "communication",
    "reference",
}
RUNTIME_HINTS = {"npx", "uvx", "docker"}
REFERENCE_IDS = {
    "filesystem",
    "memory",
    "everything",
    "sequential-thinking",
    "fetch",
    "git",
    "time",
    "github",
}

# Shapes of real credentials that must never be shipped as a literal value.
TOKEN_PATTERNS = [
    re.compile(p)
    for p in (
        r"gh[pousr]_[A-Za-z0-9]{20,}",
        r"github_pat_[A-Za-z0-9_]{20,}",
        r"sk_(live|test)_[A-Za-z0-9]{10,}",
        r"rk_(live|test)_[A-Za-z0-9]{10,}",
        r"sk-[A-Za-z0-9_-]{20,}",
        r"xox[abposcd]-[A-Za-z0-9-]{10,}",
        r"hf_[A-Za-z0-9]{20,}",
        r"ntn_[A-Za-z0-9]{20,}",
        r"sbp_[A-Za-z0-9]{20,}",
        r"fc-[A-Za-z0-9]{20,}",
        r"tvly-[A-Za-z0-9]{10,}",
        r"pplx-[A-Za-z0-9]{10,}",
        r"AKIA[0-9A-Z]{16}",
        r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        # long high-entropy strings: mixed case plus digits
        r"(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*[A-Z])[A-Za-z0-9+/_-]{32,}",
    )
]
PLACEHOLDER_RE = re.compile(r"\{[A-Za-z0-9_.-]+\}")


def _catalog_files() -> list[Path]:
    return sorted(CATALOG_DIR.glob("*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=FormatChecker())


@pytest.fixture(scope="module")
def docs() -> dict[str, dict]:
    return {p.stem: _load(p) for p in _catalog_files()}


def _packages(doc: dict) -> list[dict]:
    return list(doc.get("packages") or [])


def _remotes(doc: dict) -> list[dict]:
    return list(doc.get("remotes") or [])


def _inputs(doc: dict):
    """Yield (where, input) for every Input-shaped object in a document,
    including the entries of ``variables`` maps."""

    def with_vars(where: str, item: dict):
        yield where, item
        for vname, var in (item.get("variables") or {}).items():
            yield f"{where}.variables.{vname}", var

    for i, pkg in enumerate(_packages(doc)):
        for key in ("environmentVariables", "packageArguments", "runtimeArguments"):
            for j, item in enumerate(pkg.get(key) or []):
                yield from with_vars(f"packages[{i}].{key}[{j}]", item)
    for i, rem in enumerate(_remotes(doc)):
        for j, item in enumerate(rem.get("headers") or []):
            yield from with_vars(f"remotes[{i}].headers[{j}]", item)
        for vname, var in (rem.get("variables") or {}).items():
            yield f"remotes[{i}].variables.{vname}", var


def _looks_like_token(text: str) -> bool:
    bare = PLACEHOLDER_RE.sub("", text)
    return any(p.search(bare) for p in TOKEN_PATTERNS)


def test_catalog_dir_exists_and_has_enough_files():
    assert CATALOG_DIR.is_dir(), CATALOG_DIR
    assert len(_catalog_files()) >= 30


def test_schema_copy_is_the_official_2025_12_11_schema():
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$id"] == SCHEMA_URL
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"


@pytest.mark.parametrize("path", _catalog_files(), ids=lambda p: p.stem)
def test_file_validates_against_official_schema(path: Path, validator: Draft7Validator):
    doc = _load(path)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


@pytest.mark.parametrize("path", _catalog_files(), ids=lambda p: p.stem)
def test_file_shape_and_meta(path: Path):
    doc = _load(path)
    assert ID_RE.match(path.stem), f"bad file name {path.name}"
    assert doc.get("$schema") == SCHEMA_URL
    for key in ("name", "title", "description", "version"):
        assert isinstance(doc.get(key), str) and doc[key], f"missing {key}"
    assert len(doc["description"]) <= 100
    assert doc["version"] != "latest"
    assert not re.search(r"[\^~*<>]|\.x$", doc["version"]), doc["version"]
    assert doc.get("packages") or doc.get("remotes"), "needs packages and/or remotes"

    repo = doc.get("repository")
    if repo is not None:
        assert repo.get("source") == "github"
        assert repo.get("url", "").startswith("https://github.com/")

    meta = doc.get("_meta")
    assert isinstance(meta, dict)
    assert set(meta) == {META_KEY}, "our extras must be the only _meta key"
    ours = meta[META_KEY]
    assert ours.get("id") == path.stem
    assert ours.get("category") in CATEGORIES
    tags = ours.get("tags")
    assert isinstance(tags, list) and tags
    assert all(isinstance(t, str) and TAG_RE.match(t) for t in tags), tags
    display = ours.get("display")
    assert isinstance(display, dict)
    assert isinstance(display.get("emoji"), str) and display["emoji"]
    assert str(display.get("homepage", "")).startswith("https://")


@pytest.mark.parametrize("path", _catalog_files(), ids=lambda p: p.stem)
def test_packages_are_runnable(path: Path):
    doc = _load(path)
    for pkg in _packages(doc):
        assert isinstance(pkg.get("identifier"), str) and pkg["identifier"].strip()
        assert pkg.get("runtimeHint") in RUNTIME_HINTS, pkg.get("runtimeHint")
        assert pkg.get("transport", {}).get("type") == "stdio"
        rtype = pkg.get("registryType")
        if rtype in ("npm", "pypi"):
            assert pkg.get("version"), f"{rtype} package needs a pinned version"
            assert pkg["version"] != "latest"
        if rtype == "npm":
            assert pkg["runtimeHint"] == "npx"
        if rtype == "pypi":
            assert pkg["runtimeHint"] == "uvx"
        if rtype == "oci":
            assert pkg["runtimeHint"] == "docker"
            args = [a.get("value") for a in pkg.get("runtimeArguments") or []]
            assert args[:1] == ["run"] and "-i" in args, args
        # every env var forwarded with `docker run -e NAME` is declared
        declared = {e["name"] for e in pkg.get("environmentVariables") or []}
        for arg in pkg.get("runtimeArguments") or []:
            if (
                arg.get("type") == "named"
                and arg.get("name") == "-e"
                and "=" not in arg.get("value", "=")
            ):
                assert arg["value"] in declared, arg


def test_ids_and_names_unique(docs: dict[str, dict]):
    ids = [d["_meta"][META_KEY]["id"] for d in docs.values()]
    names = [d["name"] for d in docs.values()]
    assert len(ids) == len(set(ids))
    assert len(names) == len(set(names))


def test_reference_servers_present(docs: dict[str, dict]):
    missing = REFERENCE_IDS - set(docs)
    assert not missing, missing
    expected = {
        "filesystem": ("npm", "@modelcontextprotocol/server-filesystem"),
        "memory": ("npm", "@modelcontextprotocol/server-memory"),
        "everything": ("npm", "@modelcontextprotocol/server-everything"),
        "sequential-thinking": ("npm", "@modelcontextprotocol/server-sequential-thinking"),
        "fetch": ("pypi", "mcp-server-fetch"),
        "git": ("pypi", "mcp-server-git"),
        "time": ("pypi", "mcp-server-time"),
    }
    for sid, (rtype, ident) in expected.items():
        pkgs = _packages(docs[sid])
        assert any(p["registryType"] == rtype and p["identifier"] == ident for p in pkgs), sid

    fs_args = _packages(docs["filesystem"])[0].get("packageArguments") or []
    assert any(a.get("type") == "positional" and a.get("isRequired") for a in fs_args)
    git_args = _packages(docs["git"])[0].get("packageArguments") or []
    assert any(a.get("name") == "--repository" for a in git_args)
    time_args = _packages(docs["time"])[0].get("packageArguments") or []
    assert any(a.get("name") == "--local-timezone" and not a.get("isRequired") for a in time_args)


def test_github_entry(docs: dict[str, dict]):
    gh = docs["github"]
    first = _packages(gh)[0]
    assert first["registryType"] == "oci"
    assert first["identifier"].split(":")[0] == "ghcr.io/github/github-mcp-server"
    assert first["runtimeHint"] == "docker"
    rendered = [
        a.get("value") if a["type"] == "positional" else f"{a['name']} {a.get('value', '')}".strip()
        for a in first["runtimeArguments"]
    ]
    # as github-mcp-server's own server.json (v1.10.1): the OAuth login callback port is
    # published to loopback, and a PAT, when set, is forwarded (it takes precedence over OAuth)
    assert rendered == [
        "run",
        "-i",
        "--rm",
        "-p 127.0.0.1:8085:8085",
        "-e GITHUB_OAUTH_CALLBACK_PORT=8085",
        "-e GITHUB_PERSONAL_ACCESS_TOKEN",
    ]
    envs = {e["name"]: e for e in first["environmentVariables"]}
    token = envs["GITHUB_PERSONAL_ACCESS_TOKEN"]
    assert token["isRequired"] is False and token["isSecret"] is True
    assert gh["_meta"][META_KEY]["oauth"] is True

    remotes = _remotes(gh)
    http = [r for r in remotes if r["type"] == "streamable-http"]
    assert http and http[0]["url"] == "https://api.githubcopilot.com/mcp/"
    auth = [h for h in http[0].get("headers", []) if h["name"] == "Authorization"]
    assert auth, "GitHub remote takes an Authorization header"
    hdr = auth[0]
    assert hdr["isSecret"] is True and hdr["isRequired"] is False  # OAuth when omitted
    assert hdr["value"] == "Bearer {github_token}"
    var = hdr["variables"]["github_token"]
    assert var["isSecret"] is True and var["isRequired"] is False


def test_mix_of_transports(docs: dict[str, dict]):
    oci = [p for d in docs.values() for p in _packages(d) if p["registryType"] == "oci"]
    assert len(oci) >= 2
    assert any(p["registryType"] == "npm" for d in docs.values() for p in _packages(d))
    assert any(p["registryType"] == "pypi" for d in docs.values() for p in _packages(d))

    with_remotes = [sid for sid, d in docs.items() if _remotes(d)]
    assert len(with_remotes) >= 6
    kinds = {r["type"] for d in docs.values() for r in _remotes(d)}
    assert {"streamable-http", "sse"} <= kinds
    sse_only = [
        sid
        for sid, d in docs.items()
        if _remotes(d) and {r["type"] for r in _remotes(d)} == {"sse"}
    ]
    assert sse_only, "at least one server should offer only an SSE remote"

    headers = [h for d in docs.values() for r in _remotes(d) for h in r.get("headers") or []]
    assert any(h["name"] == "Authorization" for h in headers)
    auth_like = [
        sid
        for sid, d in docs.items()
        if any(
            h["name"] == "Authorization" or "KEY" in h["name"].upper()
            for r in _remotes(d)
            for h in r.get("headers") or []
        )
    ]
    assert len(auth_like) >= 2


@pytest.mark.parametrize("path", _catalog_files(), ids=lambda p: p.stem)
def test_no_literal_secrets(path: Path):
    doc = _load(path)
    for where, item in _inputs(doc):
        for field in ("value", "default", "placeholder"):
            text = item.get(field)
            if not isinstance(text, str):
                continue
            assert not _looks_like_token(text), f"{where}.{field} looks like a credential: {text!r}"
            if item.get("isSecret") and field in ("value", "default"):
                # a secret may only carry a template such as "Bearer {token}"
                bare = PLACEHOLDER_RE.sub("", text).strip()
                assert bare in ("", "Bearer", "Basic", "Token"), (
                    f"{where}.{field} holds a literal secret"
                )
                assert PLACEHOLDER_RE.search(text), f"{where}.{field} holds a literal secret"
