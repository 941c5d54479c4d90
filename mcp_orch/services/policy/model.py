"""The policy file: a TOML document parsed into a validated, immutable :class:`Policy`.

    >>> policy = load_policy(ws.path / "policy.toml")      # None when there is no such file
    >>> policy = parse_policy('[transports]\\nallow = ["stdio"]\\n', "inline")
    >>> policy.digest                                      # 'sha256:…' of its canonical content
    >>> policy.rules()                                     # [(code, rule, what it requires)]

The file (see docs/reference/policy.md)::

    description = "platform team baseline"
    [servers]        allow = ["io.github.modelcontextprotocol/*"]   deny = [...]
    [packages]       allow = ["npm:@modelcontextprotocol/*", "oci:ghcr.io/github/*"]
    [remotes]        allow = ["*.example.com"]
    [transports]     allow = ["stdio", "streamable-http"]
    [pins]           exact = true   integrity = true   tools = true
    [tools]          max_per_server = 40   max_per_profile = 100
    [signatures]     required = 2   signers = ["ed25519:…", "ed25519:…"]

Unknown tables and keys, and values of the wrong type, are refused with
:class:`~mcp_orch.core.errors.InvalidPolicy` naming the key and its line. The digest is the
SHA-256 of the RFC 8785 form of the normalised model (every key with its value, defaults
included), so comments, layout and key order do not change it; any change of meaning does.
This module stays light (no pydantic, no cryptography): the workspace reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import InvalidPolicy
from mcp_orch.core.fs import read_limited
from mcp_orch.core.ids import canonical, sha256_id
from mcp_orch.services.release.signing import KEY_ID_FORM, is_key_id

#: The file a workspace's policy lives in.
POLICY_FILE = "policy.toml"
TRANSPORTS = ("stdio", "streamable-http", "sse")
#: Package registries a package pattern may name (as ``domain.pins`` reads them).
PACKAGE_REGISTRIES = ("npm", "pypi", "oci", "nuget")
_MAX_POLICY_BYTES = 1 << 20

#: rule code -> (rule name, what it checks): the one table (docs/reference/policy.md shows it).
RULES: dict[str, tuple[str, str]] = {
    "POL001": ("server-namespace", "the server's registry name is allowed and not denied"),
    "POL002": ("package", "the package a server runs is allowed and not denied"),
    "POL003": ("remote-host", "the host of a remote server's URL is allowed and not denied"),
    "POL004": ("transport", "the server's transport is allowed and not denied"),
    "POL005": ("exact-pins", "every package runs at one exact version"),
    "POL006": ("lock-integrity", "the release's lock holds each package's registry integrity"),
    "POL007": ("tool-pins", "the release pins every server's tool manifest"),
    "POL008": (
        "tool-budget",
        "no server, and not the whole profile, offers more tools than allowed",
    ),
    "POL009": ("tool-budget-unknown", "the tool budget can be checked (pinned tool manifests)"),
    "POL010": ("signatures", "enough distinct trusted signers from the signer set signed it"),
}


@dataclass(frozen=True)
class Lists:
    """An allow list (None: anything not denied) and a deny list of glob patterns."""

    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.allow is not None or bool(self.deny)

    def to_dict(self) -> dict[str, Any]:
        return {"allow": None if self.allow is None else list(self.allow), "deny": list(self.deny)}


@dataclass(frozen=True)
class Policy:
    """A validated policy (see the module docstring). ``source`` says where it was read."""

    source: str = ""
    description: str = ""
    servers: Lists = field(default_factory=Lists)
    packages: Lists = field(default_factory=Lists)
    remotes: Lists = field(default_factory=Lists)
    transports: Lists = field(default_factory=Lists)
    exact_pins: bool = False
    integrity: bool = False
    tool_pins: bool = False
    max_tools_per_server: int | None = None
    max_tools_per_profile: int | None = None
    signatures_required: int = 0
    signers: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The normalised content (what the digest covers)."""
        return {
            "description": self.description,
            "servers": self.servers.to_dict(),
            "packages": self.packages.to_dict(),
            "remotes": self.remotes.to_dict(),
            "transports": self.transports.to_dict(),
            "pins": {
                "exact": self.exact_pins,
                "integrity": self.integrity,
                "tools": self.tool_pins,
            },
            "tools": {
                "max_per_server": self.max_tools_per_server,
                "max_per_profile": self.max_tools_per_profile,
            },
            "signatures": {"required": self.signatures_required, "signers": list(self.signers)},
        }

    @property
    def digest(self) -> str:
        return sha256_id(canonical(self.to_dict()))

    @property
    def has_budget(self) -> bool:
        return self.max_tools_per_server is not None or self.max_tools_per_profile is not None

    def rules(self) -> list[tuple[str, str, str]]:
        """The rules this policy turns on: (code, rule name, what it requires here)."""

        def lists(what: Lists) -> str:
            parts = []
            if what.allow is not None:
                parts.append("allow " + (", ".join(what.allow) or "(nothing)"))
            if what.deny:
                parts.append("deny " + ", ".join(what.deny))
            return "; ".join(parts)

        out: list[tuple[str, str, str]] = []
        for code, lst in (
            ("POL001", self.servers),
            ("POL002", self.packages),
            ("POL003", self.remotes),
            ("POL004", self.transports),
        ):
            if lst.active:
                out.append((code, RULES[code][0], lists(lst)))
        if self.exact_pins:
            out.append(("POL005", RULES["POL005"][0], "every package version exact"))
        if self.integrity:
            out.append(("POL006", RULES["POL006"][0], "each locked package has its integrity"))
        if self.tool_pins:
            out.append(("POL007", RULES["POL007"][0], "every server's tool manifest pinned"))
        if self.has_budget:
            budget = []
            if self.max_tools_per_server is not None:
                budget.append(f"at most {self.max_tools_per_server} tools per server")
            if self.max_tools_per_profile is not None:
                budget.append(f"at most {self.max_tools_per_profile} tools per profile")
            out.append(("POL008", RULES["POL008"][0], ", ".join(budget)))
            out.append(("POL009", RULES["POL009"][0], "the budget needs pinned tool manifests"))
        if self.signatures_required:
            who = ", ".join(self.signers) if self.signers else "any trusted key"
            out.append(
                ("POL010", RULES["POL010"][0], f"{self.signatures_required} signer(s) of: {who}")
            )
        return out

    def __repr__(self) -> str:
        return f"<Policy {self.digest[:19]}… {len(self.rules())} rules from {self.source or '-'}>"


# -- parsing ---------------------------------------------------------------------------------
_TABLES: dict[str, tuple[str, ...]] = {
    "servers": ("allow", "deny"),
    "packages": ("allow", "deny"),
    "remotes": ("allow", "deny"),
    "transports": ("allow", "deny"),
    "pins": ("exact", "integrity", "tools"),
    "tools": ("max_per_server", "max_per_profile"),
    "signatures": ("required", "signers"),
}
_TOP = ("description", *_TABLES)


def _line_of(text: str, key: str, table: str | None) -> int | None:
    """The line (1-based) where ``key`` is written: in ``[table]`` (or dotted ``table.key``),
    or as a table header. None when it cannot be found (an inline table, say)."""
    lines = text.splitlines()
    key_re = re.escape(key)
    if table is None:
        pattern = re.compile(rf"^\s*(\[\s*{key_re}\s*\]|\"?{key_re}\"?\s*[=.])")
        for number, line in enumerate(lines, 1):
            if pattern.match(line):
                return number
        return None
    in_table = False
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    dotted = re.compile(rf"^\s*\"?{re.escape(table)}\"?\s*\.\s*\"?{key_re}\"?\s*=")
    plain = re.compile(rf"^\s*\"?{key_re}\"?\s*=")
    for number, line in enumerate(lines, 1):
        m = header.match(line)
        if m:
            in_table = m.group(1).strip('"') == table
            continue
        if dotted.match(line) or (in_table and plain.match(line)):
            return number
    return None


def _refuse(text: str, source: str, what: str, key: str, table: str | None, hint: str) -> None:
    line = _line_of(text, key, table)
    at = f"{source}:{line}" if line else source
    raise InvalidPolicy(f"{at}: {what}", hint, path=source, line=line)


def _patterns(
    text: str, source: str, table: str, key: str, value: Any, *, registry: bool = False
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        _refuse(
            text,
            source,
            f"{table}.{key} must be a list of non-empty strings",
            key,
            table,
            f'write {key} = ["pattern", ...]',
        )
    out = tuple(value)
    if table == "transports":
        for v in out:
            if v not in TRANSPORTS:
                _refuse(
                    text,
                    source,
                    f"transports.{key} names {v!r}, which is not a transport",
                    key,
                    table,
                    f"transports are: {', '.join(TRANSPORTS)}",
                )
    if registry:
        for v in out:
            reg, sep, name = v.partition(":")
            if not sep or not name or reg not in (*PACKAGE_REGISTRIES, "*"):
                _refuse(
                    text,
                    source,
                    f"packages.{key} has {v!r}: a package pattern is REGISTRY:NAME",
                    key,
                    table,
                    f"e.g. npm:@modelcontextprotocol/*; registries: "
                    f"{', '.join(PACKAGE_REGISTRIES)} (or * for any)",
                )
    if table == "remotes":
        return tuple(v.lower() for v in out)
    return out


def parse_policy(text: str, source: str = "policy.toml") -> Policy:
    """The policy ``text`` holds; :class:`InvalidPolicy` on any key or value it cannot take."""
    import tomllib  # stdlib, ~20 ms cold: only when a policy file is read

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        m = re.search(r"line (\d+)", str(exc))
        line = line or (int(m.group(1)) if m else None)
        raise InvalidPolicy(
            f"{source} is not valid TOML: {exc}",
            "fix the file (it is TOML: tables in [brackets], key = value)",
            path=source,
            line=line,
        ) from None
    for key in data:
        if key not in _TOP:
            _refuse(
                text,
                source,
                f"unknown key {key!r}",
                key,
                None,
                f"a policy has: {', '.join(_TOP)}",
            )
    description = data.get("description", "")
    if not isinstance(description, str):
        _refuse(text, source, "description must be a string", "description", None, "quote it")
    tables: dict[str, dict[str, Any]] = {}
    for name, keys in _TABLES.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            _refuse(text, source, f"{name} must be a table", name, None, f"write it as [{name}]")
        for key in table:
            if key not in keys:
                _refuse(
                    text,
                    source,
                    f"unknown key {key!r} in [{name}]",
                    key,
                    name,
                    f"[{name}] has: {', '.join(keys)}",
                )
        tables[name] = table

    def lists(name: str) -> Lists:
        t = tables[name]
        allow = (
            _patterns(text, source, name, "allow", t["allow"], registry=name == "packages")
            if "allow" in t
            else None
        )
        deny = (
            _patterns(text, source, name, "deny", t["deny"], registry=name == "packages")
            if "deny" in t
            else ()
        )
        return Lists(allow=allow, deny=deny)

    def flag(key: str) -> bool:
        value = tables["pins"].get(key, False)
        if not isinstance(value, bool):
            _refuse(text, source, f"pins.{key} must be true or false", key, "pins", "unquoted")
        return bool(value)

    def count(table: str, key: str, *, low: int) -> int | None:
        value = tables[table].get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            _refuse(
                text,
                source,
                f"{table}.{key} must be a whole number of at least {low}",
                key,
                table,
                f"write {key} = {max(low, 1)} (no quotes)",
            )
        return int(value)

    required = count("signatures", "required", low=0) or 0
    signers = tables["signatures"].get("signers", [])
    if not isinstance(signers, list) or not all(is_key_id(s) for s in signers):
        _refuse(
            text,
            source,
            f"signatures.signers must be a list of key ids ({KEY_ID_FORM})",
            "signers",
            "signatures",
            "list the key ids of the signers (each workspace's keys list shows its own)",
        )
    signers = list(dict.fromkeys(signers))
    if signers and required > len(signers):
        _refuse(
            text,
            source,
            f"signatures.required is {required}, but only {len(signers)} signer(s) are named",
            "required",
            "signatures",
            "name at least as many signers as are required",
        )
    return Policy(
        source=source,
        description=description,
        servers=lists("servers"),
        packages=lists("packages"),
        remotes=lists("remotes"),
        transports=lists("transports"),
        exact_pins=flag("exact"),
        integrity=flag("integrity"),
        tool_pins=flag("tools"),
        max_tools_per_server=count("tools", "max_per_server", low=0),
        max_tools_per_profile=count("tools", "max_per_profile", low=0),
        signatures_required=required,
        signers=tuple(signers),
    )


def load_policy(path: str | Path) -> Policy | None:
    """The policy in ``path``, or None when there is no such file."""
    file = Path(path)
    try:
        raw = read_limited(file, max_bytes=_MAX_POLICY_BYTES, what="policy file")
    except FileNotFoundError:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPolicy(
            f"{file} is not UTF-8 text", "save the policy as UTF-8", path=str(file)
        ) from None
    return parse_policy(text, str(file))


def workspace_policy_path(workspace_path: str | Path) -> Path:
    return Path(workspace_path) / POLICY_FILE
