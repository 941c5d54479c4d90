"""Remote actions: add, list and remove OCI remotes; push and pull releases; anchor the log.

    >>> remote_add(ws, "origin", "oci://127.0.0.1:5000/team/mcp", username="ci", password=pw)
    >>> push(ws).to_dict()                           # every profile with a latest release
    >>> pull(ws, client="cursor", profile="default").to_dict()

Remotes live in ``<workspace>/remotes.json`` (name -> url, insecure, default; the machine
name this workspace anchors its audit log under; and, per remote, the shared policy it last
pulled or pushed: ``push(policy=True)`` shares ``policy.toml`` signed, ``pull`` installs the
remote's when its signer is trusted and the local file was not edited since). No password is ever kept there: credentials
given to :func:`remote_add` are checked against the registry and stored the way ``docker
login`` stores them (base64 ``auth`` in ``$DOCKER_CONFIG/config.json`` or
``~/.docker/config.json``, mode 0600); push and pull read them from there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import (
    AlreadyExists,
    ConflictError,
    IntegrityError,
    NotFound,
    ParseError,
    RemoteConflict,
    UsageError,
)
from mcp_orch.core.fs import atomic_write, locked
from mcp_orch.core.ids import check_id, short_id
from mcp_orch.domain.clients import get_client
from mcp_orch.facade.workspace import Workspace
from mcp_orch.operations import Result
from mcp_orch.services.policy import parse_policy
from mcp_orch.services.release import remote as oci

FILE = "remotes.json"


# ---- the remotes file ------------------------------------------------------------------------


def _path(ws: Workspace) -> Path:
    return ws.path / FILE


def _load(ws: Workspace) -> dict[str, Any]:
    path = _path(ws)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {"remotes": {}}
    except (OSError, ValueError) as exc:
        raise ParseError(
            f"{path} is damaged ({exc})", "fix the file, or remove it and add the remotes again"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("remotes"), dict):
        raise ParseError(f"{path} is damaged (no remotes object)", "fix or remove the file")
    return data


def _save(ws: Workspace, data: dict[str, Any]) -> None:
    atomic_write(_path(ws), json.dumps(data, indent=1, sort_keys=True) + "\n", mode=0o644)


@dataclass
class RemoteInfo(Result):
    name: str
    url: str
    insecure: bool
    default: bool
    plain_http: bool
    credentials: str  # where push and pull take credentials from ("none" when unset)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "insecure": self.insecure,
            "default": self.default,
            "plain_http": self.plain_http,
            "credentials": self.credentials,
        }


def _info(name: str, row: dict[str, Any], default: str | None) -> RemoteInfo:
    url = oci.RemoteURL.parse(row["url"], insecure=bool(row.get("insecure")))
    creds = oci.docker_auth(url.host)
    where = creds.source if creds.auth else "none"
    return RemoteInfo(
        name, row["url"], bool(row.get("insecure")), name == default, url.plain_http, where
    )


def _default_name(data: dict[str, Any]) -> str | None:
    remotes = data["remotes"]
    marked = [n for n, r in remotes.items() if r.get("default")]
    if marked:
        return str(marked[0])
    return next(iter(remotes)) if len(remotes) == 1 else None


def remote_add(
    ws: Workspace,
    name: str,
    url: str,
    *,
    insecure: bool = False,
    default: bool = False,
    username: str | None = None,
    password: str | None = None,
    machine: str | None = None,
) -> RemoteInfo:
    """Add an OCI remote. With ``username`` and ``password`` the registry is asked to accept
    them first, then they are stored in the Docker config file (never in the workspace)."""
    check_id(name, "remote name")
    parsed = oci.RemoteURL.parse(url, insecure=insecure)
    if (username is None) != (password is None):
        raise UsageError(
            "a user name needs a password and a password a user name",
            "give both, the password on standard input",
            inputs=("username", "password_stdin"),
        )
    if machine is not None:
        oci.check_machine(machine)
    if username is not None and password is not None:
        auth = oci.basic_auth(username, password)
        oci.OCIClient(parsed, oci.Credentials(auth, "the given credentials")).ping()
        oci.save_docker_auth(parsed.host, auth)
    with locked(ws.path / "remotes"):
        data = _load(ws)
        if name in data["remotes"]:
            raise AlreadyExists(
                f"a remote named {name} exists already", "remove it first, or pick another name"
            )
        if default:
            for other in data["remotes"].values():
                other.pop("default", None)
        row: dict[str, Any] = {"url": str(parsed), "insecure": insecure}
        if default:
            row["default"] = True
        data["remotes"][name] = row
        if machine is not None:
            data["machine"] = machine
        _save(ws, data)
        return _info(name, row, _default_name(data))


@dataclass
class RemoteList(Result):
    remotes: list[RemoteInfo]
    machine: str

    def to_dict(self) -> dict[str, Any]:
        return {"remotes": [r.to_dict() for r in self.remotes], "machine": self.machine}


def remote_list(ws: Workspace) -> RemoteList:
    data = _load(ws)
    default = _default_name(data)
    rows = [_info(n, r, default) for n, r in sorted(data["remotes"].items())]
    return RemoteList(rows, str(data.get("machine") or oci.default_machine()))


@dataclass
class RemoteRemoved(Result):
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"removed": self.name}


def remote_remove(ws: Workspace, name: str) -> RemoteRemoved:
    """Forget a remote (the registry and the Docker credentials are left as they are)."""
    with locked(ws.path / "remotes"):
        data = _load(ws)
        if name not in data["remotes"]:
            raise NotFound(f"no remote named {name}", "list the remotes to see their names")
        del data["remotes"][name]
        _save(ws, data)
    return RemoteRemoved(name)


def _open(ws: Workspace, remote: str | None) -> tuple[str, oci.OCIClient, str]:
    """(name, client, machine) of the named remote, or of the default one."""
    data = _load(ws)
    name = remote or _default_name(data)
    if name is None:
        if not data["remotes"]:
            raise NotFound("this workspace has no remote", "add one (an oci:// URL) first")
        raise UsageError(
            f"this workspace has {len(data['remotes'])} remotes and none is the default",
            "name the remote, or mark one as the default",
            inputs=("remote",),
        )
    row = data["remotes"].get(name)
    if row is None:
        raise NotFound(f"no remote named {name}", "list the remotes to see their names")
    url = oci.RemoteURL.parse(row["url"], insecure=bool(row.get("insecure")))
    client = oci.OCIClient(url, oci.docker_auth(url.host))
    return name, client, str(data.get("machine") or oci.default_machine())


# ---- push and pull ---------------------------------------------------------------------------


@dataclass
class Transfer(Result):
    """What push or pull did, per profile, and what it cost on the wire."""

    action: str
    remote: str
    url: str
    profiles: list[oci.ProfileOutcome]
    anchor: oci.Anchor | None = None
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    notes: list[str] = field(default_factory=list)
    #: The shared policy pushed or pulled (its document: blob, digest, created, key_id,
    #: parent), with ``status``: pushed, pulled, up to date, kept (a local edit), or None.
    policy: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "remote": self.remote,
            "url": self.url,
            "profiles": [p.to_dict() for p in self.profiles],
            "policy": self.policy,
            "anchor": self.anchor.to_dict() if self.anchor else None,
            "requests": self.requests,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "notes": list(self.notes),
        }


def _selected(
    pairs: list[tuple[str, str]], client: str | None, profile: str | None
) -> list[tuple[str, str]]:
    if profile is not None and client is None:
        raise UsageError("a profile needs its client", "name the client too", inputs=("client",))
    return [
        (c, p)
        for c, p in pairs
        if (client is None or c == client) and (profile is None or p == profile)
    ]


# ---- the shared policy -----------------------------------------------------------------------


def _seen_policy(ws: Workspace, remote: str) -> dict[str, Any] | None:
    """The shared policy this workspace last pulled from or pushed to ``remote``."""
    seen = _load(ws).get("policies", {}).get(remote)
    return seen if isinstance(seen, dict) else None


def _remember_policy(ws: Workspace, remote: str, shared: oci.SharedPolicy) -> None:
    with locked(ws.path / "remotes"):
        data = _load(ws)
        data.setdefault("policies", {})[remote] = shared.to_dict()
        _save(ws, data)


def _audit_policy(ws: Workspace, action: str, remote: str, shared: oci.SharedPolicy) -> None:
    ws.audit.append(
        action,
        details={"remote": remote, "policy": shared.digest, "blob": shared.blob},
    )


def _push_policy(ws: Workspace, name: str, conn: oci.OCIClient) -> dict[str, Any]:
    """Share the workspace's policy file on the remote, fast-forward only: the remote's policy
    must be the one this workspace last pulled or pushed (or there is none)."""
    local = ws.policy  # parsed and checked: a broken file is refused before anything moves
    if local is None:
        raise NotFound(
            f"this workspace has no policy file ({ws.policy_path}) to share",
            "write the policy first (see docs/reference/policy.md)",
        )
    text = ws.policy_path.read_text(encoding="utf-8")
    current = oci.read_shared_policy(ws, conn)
    seen = _seen_policy(ws, name)
    if current is not None and current.digest == local.digest:
        _remember_policy(ws, name, current)
        return {**current.to_dict(), "status": "up to date"}
    if current is not None and (seen is None or seen.get("blob") != current.blob):
        raise RemoteConflict(
            f"the remote's shared policy ({short_id(current.digest)}, signed by "
            f"{current.key_id} at {current.created}) is not the one this workspace last "
            "pulled; the policy was not pushed and nothing was lost",
            "pull first, merge your change into the pulled policy.toml, and push it again",
            diff=[{"policy": current.to_dict()}],
        )
    shared = oci.write_shared_policy(
        ws, conn, text, local.digest, current.blob if current else None
    )
    _remember_policy(ws, name, shared)
    _audit_policy(ws, "push", name, shared)
    return {**shared.to_dict(), "status": "pushed"}


def _pull_policy(ws: Workspace, name: str, conn: oci.OCIClient) -> dict[str, Any] | None:
    """Install the remote's shared policy as the workspace's policy file, when it verifies
    (a trusted signer, a valid policy), is not older than the one pulled before, and the
    local file is absent or unchanged since that pull (a local edit is never overwritten)."""
    shared = oci.read_shared_policy(ws, conn)
    if shared is None:
        return None
    policy = parse_policy(shared.text, f"the remote's shared policy ({oci.POLICY_TAG})")
    if policy.digest != shared.digest:
        raise IntegrityError(
            f"the remote's shared policy says its digest is {short_id(shared.digest)} but "
            f"its text has {short_id(policy.digest)}; nothing was pulled",
            "push the policy again from a workspace that holds it",
        )
    seen = _seen_policy(ws, name)
    if seen is not None and str(seen.get("created", "")) > shared.created:
        raise RemoteConflict(
            f"the remote's shared policy (written {shared.created}) is older than the one "
            f"this workspace pulled before (written {seen.get('created')}): a replayed "
            "policy; nothing was pulled",
            "find out who moved the remote's policy tag back, and push the current policy",
            diff=[{"policy": shared.to_dict()}],
        )
    local = ws.policy
    if local is not None and local.digest == shared.digest:
        _remember_policy(ws, name, shared)
        return {**shared.to_dict(), "status": "up to date"}
    if local is not None and (seen is None or local.digest != seen.get("digest")):
        return {**shared.to_dict(), "status": "kept"}  # the caller notes it
    atomic_write(ws.policy_path, shared.text, mode=0o644)
    _remember_policy(ws, name, shared)
    _audit_policy(ws, "pull", name, shared)
    return {**shared.to_dict(), "status": "pulled"}


def push(
    ws: Workspace,
    remote: str | None = None,
    client: str | None = None,
    profile: str | None = None,
    *,
    policy: bool = False,
) -> Transfer:
    """Push the releases of every profile (or the one named) fast-forward only, then anchor
    the audit log's head on the remote. ``policy``: share the workspace's policy file instead
    (signed; fast-forward from the one last pulled), and push no releases."""
    if client is not None:
        get_client(client)  # an unknown client id is a typed NotFound
    name, conn, machine = _open(ws, remote)
    if policy:
        if client is not None or profile is not None:
            raise UsageError(
                "the shared policy is the workspace's, not a profile's",
                "push the policy and the releases separately",
                inputs=("policy", "client"),
            )
        result = Transfer("push", name, str(conn.url), [])
        machine, previous = _own_anchor(ws, conn, machine, result, writing=True)
        result.policy = _push_policy(ws, name, conn)
        result.anchor = oci.write_anchor(ws, conn, machine, previous=previous)
        result.requests, result.bytes_sent = conn.requests, conn.bytes_sent
        result.bytes_received = conn.bytes_received
        return result
    store = ws.store
    local = [(c, p) for c, p in store.profiles() if store.get_ref(c, p, "latest")]
    chosen = _selected(local, client, profile)
    if client is not None and not chosen:
        raise NotFound(
            f"{client}/{profile or 'any profile'} has no published release to push",
            "publish it first",
        )
    result = Transfer("push", name, str(conn.url), [])
    # a rewritten log is refused before anything moves
    machine, previous = _own_anchor(ws, conn, machine, result, writing=True)
    for c, p in chosen:
        result.profiles.append(oci.push_profile(ws, conn, name, c, p))
    result.anchor = oci.write_anchor(ws, conn, machine, previous=previous)
    result.requests, result.bytes_sent = conn.requests, conn.bytes_sent
    result.bytes_received = conn.bytes_received
    return result


def _own_anchor(
    ws: Workspace, conn: oci.OCIClient, machine: str, result: Transfer, *, writing: bool
) -> tuple[str, oci.Anchor | None]:
    """(the machine name this workspace anchors under, its anchor there, checked). When the
    anchor under ``machine`` is another workspace's (signed by a key that is not this one's:
    two workspaces on one host share its name), a pull notes that it checked nothing, and a
    push takes ``<machine>-<8 hex of this workspace's key>`` for good (kept in remotes.json)."""
    anchor = oci.check_anchor(ws, conn, machine)
    if anchor is None or oci.anchor_is_own(ws, anchor):
        return machine, anchor
    if not writing:
        result.notes.append(
            f"the anchor {machine} on the remote is another workspace's (signed by "
            f"{anchor.key_id}); this workspace's log was checked against no anchor: it anchors "
            "under a name of its own at its next push"
        )
        return machine, None
    own = f"{machine}-{ws.keys.signing_key_id().split(':', 1)[1][:8]}"[:100]
    again = oci.check_anchor(ws, conn, own)
    if again is not None and not oci.anchor_is_own(ws, again):
        raise ConflictError(
            f"the machine names {machine} and {own} are both anchored on the remote by other "
            "workspaces; nothing was pushed",
            "give this workspace a machine name of its own when adding the remote",
            inputs=("machine",),
        )
    with locked(ws.path / "remotes"):
        data = _load(ws)
        data["machine"] = own
        _save(ws, data)
    result.notes.append(
        f"this workspace anchors its audit log as {own}: the name {machine} is another "
        f"workspace's (its anchor is signed by {anchor.key_id})"
    )
    return own, again


def pull(
    ws: Workspace,
    remote: str | None = None,
    client: str | None = None,
    profile: str | None = None,
) -> Transfer:
    """Pull the latest release of every profile on the remote (or the one named), verified
    against this workspace's trust set before any ref moves."""
    name, conn, machine = _open(ws, remote)
    if client is not None:
        get_client(client)
    if client is not None and profile is not None:
        chosen = [(client, profile)]
    else:
        tags = [oci.parse_ref_tag(t) for t in conn.tags()]
        chosen = _selected(sorted({t for t in tags if t is not None}), client, profile)
    result = Transfer("pull", name, str(conn.url), [])
    result.anchor = _own_anchor(ws, conn, machine, result, writing=False)[1]
    # the policy first: the releases pulled next deploy under it
    result.policy = _pull_policy(ws, name, conn)
    if result.policy is not None and result.policy["status"] == "kept":
        result.notes.append(
            f"kept this workspace's own policy.toml (edited here); the remote's shared policy "
            f"{short_id(result.policy['digest'])} was not installed"
        )
    for c, p in chosen:
        try:
            get_client(c)
        except NotFound:
            result.notes.append(f"skipped the tag {c}.{p}: {c} is not a client mcp-orch knows")
            continue
        result.profiles.append(oci.pull_profile(ws, conn, name, c, p))
    if not chosen:
        result.notes.append("the remote has no releases")
    result.requests, result.bytes_sent = conn.requests, conn.bytes_sent
    result.bytes_received = conn.bytes_received
    return result


__all__ = [
    "RemoteInfo",
    "RemoteList",
    "RemoteRemoved",
    "Transfer",
    "pull",
    "push",
    "remote_add",
    "remote_list",
    "remote_remove",
]
