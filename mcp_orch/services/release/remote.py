"""A shared store on an OCI registry: push and pull signed releases, verified before refs move.

    >>> url = RemoteURL.parse("oci://127.0.0.1:5000/team/mcp")
    >>> oci = OCIClient(url, auth=docker_auth(url.host))          # the usual ~/.docker/config.json
    >>> push_profile(ws, oci, "origin", "cursor", "default")       # fast-forward only
    >>> pull_profile(ws, oci, "origin", "cursor", "default")       # verify everything, then move
    >>> write_anchor(ws, oci, "laptop-7")                          # the audit head, signed

Layout in the repository (OCI image spec 1.1 manifests, distribution spec endpoints):

- each release is a blob whose bytes are EXACTLY its canonical envelope (RFC 8785), so the blob
  digest is the artifact id; an image manifest (``artifactType`` :data:`RELEASE_TYPE`, config
  the empty descriptor ``{}``) has it as its one layer, with annotations for client, profile,
  parent, changelog, created, the signer's key id and signature, and the signer's public key PEM
  (information only: a pulled key is never trusted). It is tagged ``release-<hex>``;
- the ref ``latest`` of a profile is the tag ``<client>.<profile>`` on the same manifest. Client
  and profile ids are slugs (``[a-z0-9][a-z0-9_-]*``, no dot), so the one dot makes the mapping
  reversible and no other tag this module writes (``release-``, ``approvals-``, ``anchor-``: no
  dot) can collide with it;
- approvals (co-signatures) of a release: one manifest tagged ``approvals-<hex>`` whose
  ``subject`` is the release manifest, the signatures in its annotation :data:`APPROVALS_KEY`.
  Distribution 2.8 has no referrers API, and the referrers tag schema (``sha256-<manifest
  hex>``) is keyed by the manifest digest, while releases name their parent by artifact id: a
  tag keyed by artifact id is found without another lookup. The ``subject`` still lets a
  registry with the referrers API list it;
- the audit anchor of a machine: a blob ``{machine, seq, hash, time, key_id}`` (canonical JSON,
  signed) under a manifest tagged ``anchor-<machine>``.

Why ``oras`` for names and URLs only (``oras.container.Container``: the reference grammar and
the distribution endpoints), not ``oras.provider.Registry``: the provider imports ``jsonschema``
at module level (3.6 s of a cold ``mcp-orch pull`` here, measured with ``-X importtime``:
``rfc3987_syntax`` compiles a grammar), its retry decorator sleeps 3 + 3**n seconds on any
exception (a registry that is down would take minutes to report), its ``push``/``pull`` work on
files, and its manifest upload re-serialises the JSON (the digest we tagged would change). So
:class:`OCIClient` speaks the distribution API with ``requests`` (which oras depends on):
basic auth sent with the first request (no 401 round trip), no sleeping retries, typed errors,
and counters of requests and bytes for the benchmark.

Race safety: the distribution API has no compare-and-swap on tags. Push re-reads the tag right
before moving it and again :data:`SETTLE_SECONDS` after; a push that sees anything but its own
release there reports the conflict (its releases stay under their ``release-`` tags: nothing is
lost). The residual race: a pusher that read the tag, then stalled for longer than the settle
time before its PUT, can still overwrite a tag another pusher already confirmed.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import requests
from oras.container import Container

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import (
    ConflictError,
    HistoryRewritten,
    IntegrityError,
    MCPOrchError,
    NotFound,
    ParseError,
    RemoteAuthError,
    RemoteConflict,
    RemoteError,
    SignatureError,
    UsageError,
)
from mcp_orch.core.fs import atomic_write
from mcp_orch.core.ids import SLUG, canonical, sha256_id, short_id
from mcp_orch.services.release.artifact import ENVELOPE_TYPE, ArtifactRecord
from mcp_orch.services.release.audit import default_actor
from mcp_orch.services.release.context import WorkspaceParts
from mcp_orch.services.release.journal import Plan, changing, run
from mcp_orch.services.release.signing import fingerprint_of, is_key_id
from mcp_orch.services.release.verify import valid_signers, verify_artifact

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
RELEASE_TYPE = "application/vnd.mcp-orch.release.v1+json"
ENVELOPE_MEDIA = "application/vnd.mcp-orch.envelope.v1+json"
APPROVALS_TYPE = "application/vnd.mcp-orch.approvals.v1+json"
ANCHOR_TYPE = "application/vnd.mcp-orch.anchor.v1+json"
EMPTY_MEDIA = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
EMPTY_DIGEST = sha256_id(EMPTY)
EMPTY_DESCRIPTOR: dict[str, Any] = {
    "mediaType": EMPTY_MEDIA,
    "digest": sha256_id(EMPTY),
    "size": len(EMPTY),
}
ANCHOR_DOC = "mcp-orch/anchor@1"

NS = "io.mcp-orch."
APPROVALS_KEY = NS + "approvals"

#: How long push waits after moving a tag before reading it back (see the module docstring).
SETTLE_SECONDS = 0.3
#: A pull follows at most this many parents it does not have (a longer chain is refused).
MAX_CHAIN = 10_000
#: No manifest or release blob of ours is larger (a registry answering more is refused).
MAX_DOCUMENT = 8 * 1024 * 1024
TIMEOUT = 30.0

TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_REPO = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_HOST = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?"
)


# ---- names -----------------------------------------------------------------------------------


def ref_tag(client: str, profile: str) -> str:
    """The tag of a profile's latest release: ``<client>.<profile>``."""
    for value, what in ((client, "client"), (profile, "profile")):
        if not SLUG.match(value):
            raise UsageError(f"{what} id {value!r} cannot name a remote ref")
    tag = f"{client}.{profile}"
    if not TAG.fullmatch(tag):
        raise UsageError(
            f"{client}/{profile} makes the tag {tag!r}, longer than the 128 characters a "
            "registry allows",
            "use a shorter profile id for the profiles you share",
        )
    return tag


def parse_ref_tag(tag: str) -> tuple[str, str] | None:
    """(client, profile) of a ref tag, or None for any other tag."""
    client, dot, profile = tag.partition(".")
    if not dot or not SLUG.match(client) or not SLUG.match(profile):
        return None
    return client, profile


def release_tag(artifact_id: str) -> str:
    return "release-" + artifact_id.split(":", 1)[1]


def approvals_tag(artifact_id: str) -> str:
    return "approvals-" + artifact_id.split(":", 1)[1]


def anchor_tag(machine: str) -> str:
    return "anchor-" + machine


def default_machine() -> str:
    """This machine's name for its anchor: the host name as a slug."""
    name = re.sub(r"[^a-z0-9_-]+", "-", socket.gethostname().lower()).strip("-_")
    return (name or "machine")[:48]


def check_machine(machine: str) -> str:
    if not SLUG.match(machine) or len(machine) > 100:
        raise UsageError(
            f"machine name {machine!r} is not a slug",
            "use lowercase letters, digits, '-' and '_'",
        )
    return machine


# ---- remote URLs and credentials -------------------------------------------------------------


@dataclass(frozen=True)
class RemoteURL:
    """``oci://HOST[:PORT]/REPO``; ``plain_http`` for loopback hosts or when asked."""

    host: str
    repo: str
    plain_http: bool

    @classmethod
    def parse(cls, url: str, *, insecure: bool = False) -> RemoteURL:
        scheme, sep, rest = url.partition("://")
        host, slash, repo = rest.partition("/")
        if sep == "" or scheme != "oci" or not slash or not host or not repo:
            raise UsageError(
                f"{url!r} is not an OCI remote URL",
                "write it as oci://HOST[:PORT]/REPOSITORY, e.g. oci://ghcr.io/acme/mcp",
            )
        if not _HOST.fullmatch(host):
            raise UsageError(f"{host!r} in {url!r} is not a registry host name")
        if not _REPO.fullmatch(repo):
            raise UsageError(
                f"{repo!r} in {url!r} is not a repository name",
                "repository names are lowercase path components (letters, digits, . _ -)",
            )
        return cls(host, repo, plain_http=insecure or is_loopback(host))

    def __str__(self) -> str:
        return f"oci://{self.host}/{self.repo}"

    @property
    def base(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}"


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def docker_config_path() -> Path:
    """``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json`` (where ``docker login``
    keeps credentials)."""
    folder = os.environ.get("DOCKER_CONFIG")
    return Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"


def _read_docker_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ParseError(
            f"{path} cannot be read as a Docker config file ({exc})",
            "fix the file, or point DOCKER_CONFIG at another folder",
        ) from None
    if not isinstance(data, dict):
        raise ParseError(f"{path} is not a Docker config file (not an object)")
    return data


@dataclass(frozen=True)
class Credentials:
    """Basic-auth credentials for one registry host, and where they came from."""

    auth: str | None  # base64 of user:password, as in the Docker config file
    source: str
    helper: str | None = None  # a credential helper named for the host (not supported)


def docker_auth(host: str) -> Credentials:
    """The ``auths`` entry for ``host`` in the Docker config file (its base64 ``auth``)."""
    path = docker_config_path()
    data = _read_docker_config(path)
    auths = data.get("auths") or {}
    for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/"):
        entry = auths.get(key) if isinstance(auths, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("auth"), str) and entry["auth"]:
            return Credentials(entry["auth"], str(path))
    helpers = data.get("credHelpers") or {}
    helper = helpers.get(host) if isinstance(helpers, dict) else None
    helper = helper or data.get("credsStore")
    return Credentials(None, str(path), helper if isinstance(helper, str) else None)


def basic_auth(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def save_docker_auth(host: str, auth: str) -> Path:
    """Store credentials the way ``docker login`` does without a helper: the base64 ``auth`` of
    ``auths[host]`` in the Docker config file, mode 0600, atomically; other keys are kept."""
    path = docker_config_path()
    data = _read_docker_config(path)
    auths = data.setdefault("auths", {})
    if not isinstance(auths, dict):
        raise ParseError(f"{path}: 'auths' is not an object", "fix the file")
    auths[host] = {**(auths.get(host) or {}), "auth": auth}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(data, indent="\t") + "\n", mode=0o600)
    return path


# ---- the OCI client --------------------------------------------------------------------------


class OCIClient:
    """One repository of one registry; counts requests and bytes (the benchmark reads them)."""

    def __init__(self, url: RemoteURL, credentials: Credentials | None = None) -> None:
        self.url = url
        self.credentials = credentials or Credentials(None, "none")
        self.container = Container(url.repo, registry=url.host)
        self.session = requests.Session()
        # cookies are ignored, as oras does: some registries (Harbor) then ask for CSRF tokens
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    def do_request(
        self,
        url: str,
        method: str = "GET",
        data: Any = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        stream: bool = False,
    ) -> requests.Response:
        """One request: credentials sent up front (no 401 round trip), no sleeping retries,
        connection failures and refused credentials as typed errors."""
        headers = dict(headers or {})
        if self.credentials.auth:
            headers["Authorization"] = f"Basic {self.credentials.auth}"
        body = data if data is not None else None
        try:
            response = self.session.request(
                method,
                url,
                data=body,
                json=json,
                headers=headers,
                stream=stream,
                timeout=TIMEOUT,
                allow_redirects=True,
            )
        except requests.exceptions.SSLError as exc:
            raise RemoteError(
                f"TLS with {self.url.host} failed ({exc.__class__.__name__})",
                "check the registry's certificate; a registry that speaks plain HTTP on a "
                "non-loopback host needs the remote's insecure setting",
            ) from None
        except requests.exceptions.RequestException as exc:
            raise RemoteError(
                f"cannot reach the registry {self.url.host} ({_reason(exc)}); nothing was changed",
                "check that the registry is up and the remote's URL is right",
            ) from None
        self.requests += 1
        self.bytes_sent += len(body) if isinstance(body, bytes | bytearray) else 0
        if not stream:
            self.bytes_received += len(response.content)
        if response.status_code == 401:
            raise self._auth_error()
        if response.status_code == 403:
            raise RemoteAuthError(
                f"the registry {self.url.host} denied access to {self.url.repo} "
                f"({method} {response.status_code})",
                "ask the registry's administrator for access to that repository",
            )
        return response

    def _auth_error(self) -> RemoteAuthError:
        if self.credentials.auth:
            return RemoteAuthError(
                f"the registry {self.url.host} refused the credentials "
                f"(from {self.credentials.source})",
                "log in again with the right user name and password (the remote's "
                "credentials), or fix the entry in the Docker config file",
            )
        if self.credentials.helper:
            return RemoteAuthError(
                f"the registry {self.url.host} asks for credentials, and the Docker config "
                f"names the credential helper {self.credentials.helper!r}, which mcp-orch "
                "does not run",
                "add the remote again with a user name and the password on standard input",
            )
        return RemoteAuthError(
            f"the registry {self.url.host} asks for credentials and none are set for it",
            "add the remote with a user name and the password on standard input, or log in "
            "to the registry with docker",
        )

    # -- distribution API ---------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return "http" if self.url.plain_http else "https"

    def _fail(self, what: str, response: requests.Response) -> RemoteError:
        detail = ""
        with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError, IndexError):
            detail = ": " + str(response.json()["errors"][0]["message"])
        return RemoteError(
            f"the registry {self.url.host} refused to {what} ({response.status_code}{detail})",
            "check the repository name and the registry's logs",
        )

    def ping(self) -> None:
        """``GET /v2/``: reachable, and the credentials accepted."""
        response = self.do_request(f"{self.url.base}/v2/")
        if response.status_code != 200:
            raise self._fail("answer the API check", response)

    def has_blob(self, digest: str) -> bool:
        url = f"{self.scheme}://{self.container.get_blob_url(digest)}"
        return self.do_request(url, "HEAD").status_code == 200

    def read_blob(self, digest: str) -> bytes:
        response = self.do_request(f"{self.scheme}://{self.container.get_blob_url(digest)}")
        if response.status_code == 404:
            raise RemoteError(
                f"the remote has no blob {short_id(digest)} that a manifest names",
                "push the release again from a workspace that has it",
            )
        if response.status_code != 200:
            raise self._fail(f"send blob {short_id(digest)}", response)
        return bytes(response.content[: MAX_DOCUMENT + 1])

    def put_blob(self, data: bytes) -> str:
        """Upload a blob (monolithic: POST then PUT); returns its digest."""
        digest = sha256_id(data)
        start = self.do_request(
            f"{self.url.base}/v2/{self.url.repo}/blobs/uploads/",
            "POST",
            headers={"Content-Length": "0"},
        )
        location = start.headers.get("location", "")
        if start.status_code != 202 or not location:
            raise self._fail("start a blob upload", start)
        if not location.startswith("http"):
            location = self.url.base + location
        sep = "&" if "?" in location else "?"
        done = self.do_request(
            f"{location}{sep}digest={digest}",
            "PUT",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if done.status_code not in (201, 204):
            raise self._fail(f"store blob {short_id(digest)}", done)
        return digest

    def get_manifest_bytes(self, reference: str) -> tuple[bytes, str] | None:
        """(bytes, digest) of a manifest by tag or digest, or None when there is none."""
        response = self.do_request(
            f"{self.url.base}/v2/{self.url.repo}/manifests/{reference}",
            headers={"Accept": MANIFEST_TYPE},
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(f"send manifest {reference}", response)
        raw = bytes(response.content)
        if len(raw) > MAX_DOCUMENT:
            raise RemoteError(f"the manifest {reference} on the remote is too large")
        return raw, sha256_id(raw)

    def has_manifest(self, reference: str) -> bool:
        response = self.do_request(
            f"{self.url.base}/v2/{self.url.repo}/manifests/{reference}",
            "HEAD",
            headers={"Accept": MANIFEST_TYPE},
        )
        return response.status_code == 200

    def put_manifest(self, reference: str, raw: bytes) -> str:
        response = self.do_request(
            f"{self.url.base}/v2/{self.url.repo}/manifests/{reference}",
            "PUT",
            data=raw,
            headers={"Content-Type": MANIFEST_TYPE},
        )
        if response.status_code not in (200, 201):
            raise self._fail(f"store manifest {reference}", response)
        return sha256_id(raw)

    def tags(self) -> list[str]:
        response = self.do_request(f"{self.url.base}/v2/{self.url.repo}/tags/list?n=10000")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise self._fail("list its tags", response)
        try:
            tags = response.json().get("tags") or []
        except (ValueError, AttributeError):
            raise RemoteError(
                f"the registry {self.url.host} sent a tag list that is not JSON"
            ) from None
        return [t for t in tags if isinstance(t, str)]


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for needle in ("Connection refused", "Name or service not known", "timed out"):
        if needle in text:
            return needle.lower()
    return exc.__class__.__name__


# ---- manifests -------------------------------------------------------------------------------


def _manifest_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _manifest(
    artifact_type: str,
    layer: dict[str, Any],
    annotations: dict[str, str],
    subject: dict[str, Any] | None = None,
) -> bytes:
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": artifact_type,
        "config": EMPTY_DESCRIPTOR,
        "layers": [layer],
        "annotations": annotations,
    }
    if subject is not None:
        doc["subject"] = subject
    return _manifest_bytes(doc)


def release_manifest(record: ArtifactRecord, pem: str | None) -> bytes:
    data = record.canonical_bytes()
    notes = {
        "org.opencontainers.image.created": record.created,
        NS + "client": record.client,
        NS + "profile": record.profile,
        NS + "artifact-id": record.artifact_id,
        NS + "parent": record.parent or "",
        NS + "changelog": record.changelog,
        NS + "key-id": record.key_id,
        NS + "signature": record.signature,
    }
    if pem:
        notes[NS + "public-key"] = pem  # information only: never trusted on pull
    layer = {
        "mediaType": ENVELOPE_MEDIA,
        "digest": record.artifact_id,
        "size": len(data),
        "annotations": {"org.opencontainers.image.title": record.artifact_id[7:] + ".json"},
    }
    return _manifest(RELEASE_TYPE, layer, notes)


@dataclass(frozen=True)
class RemoteRelease:
    """A release manifest as the remote has it (claims until the blob is checked)."""

    artifact_id: str
    manifest_digest: str
    size: int
    annotations: dict[str, str]

    @property
    def parent(self) -> str | None:
        return self.annotations.get(NS + "parent") or None

    def summary(self) -> dict[str, Any]:
        """What a conflict shows of a release the other side has."""
        return {
            "artifact_id": self.artifact_id,
            "changelog": self.annotations.get(NS + "changelog", ""),
            "created": self.annotations.get("org.opencontainers.image.created", ""),
            "signer": self.annotations.get(NS + "key-id", ""),
        }


def parse_release(raw: bytes, where: str) -> RemoteRelease:
    try:
        doc = json.loads(raw)
        layer = doc["layers"][0]
        notes = doc.get("annotations") or {}
        ok = (
            doc.get("artifactType") == RELEASE_TYPE
            and len(doc["layers"]) == 1
            and layer.get("mediaType") == ENVELOPE_MEDIA
            and isinstance(layer.get("digest"), str)
            and re.fullmatch(r"sha256:[0-9a-f]{64}", layer["digest"]) is not None
            and isinstance(layer.get("size"), int)
            and isinstance(notes, dict)
            and all(isinstance(v, str) for v in notes.values())
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise IntegrityError(
            f"{where} on the remote is not an mcp-orch release manifest; nothing was pulled",
            "check what else writes to that repository; push the release again",
        )
    return RemoteRelease(layer["digest"], sha256_id(raw), layer["size"], dict(notes))


def fetch_release(oci: OCIClient, reference: str) -> RemoteRelease | None:
    got = oci.get_manifest_bytes(reference)
    return None if got is None else parse_release(got[0], f"the manifest {reference}")


def load_verified(
    ws: WorkspaceParts, oci: OCIClient, rel: RemoteRelease, client: str, profile: str
) -> ArtifactRecord:
    """The release's blob, checked: its digest is the artifact id, its bytes the canonical
    envelope, client and profile those of the tag, and the signature by a trusted key."""
    short = short_id(rel.artifact_id)
    raw = oci.read_blob(rel.artifact_id)
    if sha256_id(raw) != rel.artifact_id:
        raise IntegrityError(
            f"release {short} on the remote does not match its digest: the registry's copy was "
            "changed; nothing was pulled",
            "do not use that release; push it again from a workspace that has it intact",
        )
    try:
        envelope = json.loads(raw)
        same = canonical(envelope) == raw and envelope.get("type") == ENVELOPE_TYPE
    except (ValueError, TypeError, AttributeError):
        same = False
    if not same:
        raise IntegrityError(
            f"release {short} on the remote is not a canonical mcp-orch envelope; nothing was "
            "pulled",
            "push the release again from a workspace that has it",
        )
    if (envelope.get("client"), envelope.get("profile")) != (client, profile):
        raise IntegrityError(
            f"release {short} under the tag {ref_tag(client, profile)} is a release of "
            f"{envelope.get('client')}/{envelope.get('profile')}; nothing was pulled",
            "a ref on the remote was pointed at another profile's release; push the right one",
        )
    signature = rel.annotations.get(NS + "signature", "")
    try:
        record = ArtifactRecord.from_stored(
            {"envelope": envelope, "signature": signature}, artifact_id=rel.artifact_id
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"release {short} on the remote is damaged: {exc}") from None
    try:
        verify_artifact(record, ws.keys)
    except SignatureError as exc:
        if "not trusted" in exc.message:
            pem = rel.annotations.get(NS + "public-key", "")
            raise SignatureError(
                f"release {short} on the remote is signed by {record.key_id}, a key this "
                "workspace does not trust; nothing was pulled",
                "get the publisher's public key from its owner, check its fingerprint"
                + (f" ({_fingerprint(pem)})" if _fingerprint(pem) else "")
                + ", and trust it here (keys trust); a key found on the remote is never "
                "trusted on its own",
            ) from None
        raise SignatureError(
            f"release {short} on the remote: {exc.message}; nothing was pulled", exc.hint
        ) from None
    return record


def _fingerprint(pem: str) -> str:
    if not pem:
        return ""
    try:  # cryptography is loaded already by the signature check this follows
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        return fingerprint_of(load_pem_public_key(pem.encode()))
    except Exception:  # information only: a bad PEM shows no fingerprint
        return ""


# ---- approvals -------------------------------------------------------------------------------


def remote_approvals(oci: OCIClient, artifact_id: str) -> list[dict[str, str]]:
    got = oci.get_manifest_bytes(approvals_tag(artifact_id))
    if got is None:
        return []
    try:
        doc = json.loads(got[0])
        items = json.loads(doc["annotations"][APPROVALS_KEY])
        return [{k: str(i[k]) for k in ("key_id", "signature", "created")} for i in items]
    except (ValueError, KeyError, TypeError):
        return []  # not ours, or damaged: no approval is read from it


def _push_approvals(
    oci: OCIClient, record: ArtifactRecord, local: list[dict[str, str]], manifest: bytes
) -> int:
    """Upload the union of local and remote approvals when the remote lacks some; returns
    how many it lacked."""
    there = remote_approvals(oci, record.artifact_id)
    known = {a["key_id"] for a in there}
    new = [a for a in local if a["key_id"] not in known and a["key_id"] != record.key_id]
    if not new:
        return 0
    merged = sorted([*there, *new], key=lambda a: (a["created"], a["key_id"]))
    subject = {"mediaType": MANIFEST_TYPE, "digest": sha256_id(manifest), "size": len(manifest)}
    raw = _manifest(
        APPROVALS_TYPE,
        EMPTY_DESCRIPTOR,
        {APPROVALS_KEY: json.dumps(merged, sort_keys=True, separators=(",", ":"))},
        subject,
    )
    oci.put_manifest(approvals_tag(record.artifact_id), raw)
    return len(new)


# ---- push ------------------------------------------------------------------------------------


@dataclass
class ProfileOutcome:
    """What push or pull did for one profile."""

    client: str
    profile: str
    tag: str
    status: str  # pushed | pulled | up to date | remote behind | nothing to push
    artifact_id: str | None = None
    previous: str | None = None
    releases: list[str] = field(default_factory=list)  # uploaded or fetched, oldest first
    blobs_uploaded: int = 0
    manifests_uploaded: int = 0
    approvals: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "profile": self.profile,
            "tag": self.tag,
            "status": self.status,
            "artifact_id": self.artifact_id,
            "previous": self.previous,
            "releases": list(self.releases),
            "blobs_uploaded": self.blobs_uploaded,
            "manifests_uploaded": self.manifests_uploaded,
            "approvals": self.approvals,
            "notes": list(self.notes),
        }


def _ancestry(ws: WorkspaceParts, head: str | None, limit: int = MAX_CHAIN) -> list[Any]:
    """Local records from ``head`` back along ``parent`` (newest first) while present."""
    out: list[Any] = []
    store = ws.store
    while head is not None and store.has(head) and len(out) < limit:
        record = store.get(head)
        out.append(record)
        head = record.parent
    return out


def _remote_only(oci: OCIClient, head: RemoteRelease, local: set[str]) -> list[dict[str, Any]]:
    """The releases the remote has from ``head`` back to one this workspace has (the diff a
    conflict shows), newest first."""
    out: list[dict[str, Any]] = []
    rel: RemoteRelease | None = head
    while rel is not None and rel.artifact_id not in local and len(out) < 50:
        out.append(rel.summary())
        rel = fetch_release(oci, release_tag(rel.parent)) if rel.parent else None
    return out


def _conflict(
    oci: OCIClient, tag: str, head: RemoteRelease, ws: WorkspaceParts, what: str
) -> RemoteConflict:
    local = set(ws.store.all_ids())
    diff = _remote_only(oci, head, local)
    lines = "; ".join(
        f"{short_id(d['artifact_id'])} {d['created']} by {d['signer']}: {d['changelog'] or '-'}"
        for d in diff[:5]
    )
    return RemoteConflict(
        f"{what}: the remote's {tag} is at {short_id(head.artifact_id)}, which this workspace "
        f"does not have; the remote has {len(diff)} release(s) you don't ({lines}); the tag "
        "was not moved and nothing was lost",
        "pull first (the releases are verified and, if they descend from yours, "
        "fast-forwarded), then publish your change on top and push again",
        diff=diff,
    )


def push_profile(
    ws: WorkspaceParts, oci: OCIClient, remote: str, client: str, profile: str
) -> ProfileOutcome:
    """Upload the releases of one profile the remote lacks, its approvals, then move the tag
    fast-forward only; records a ``push`` event when anything changed."""
    store = ws.store
    tag = ref_tag(client, profile)
    out = ProfileOutcome(client, profile, tag, "nothing to push")
    latest = store.get_ref(client, profile, "latest")
    if latest is None:
        return out
    chain = _ancestry(ws, latest)
    ids = [r.artifact_id for r in chain]
    head = fetch_release(oci, tag)
    out.artifact_id, out.previous = latest, head.artifact_id if head else None
    if head is not None and head.artifact_id not in ids:
        raise _conflict(oci, tag, head, ws, f"push of {client}/{profile} refused")
    # the releases the remote lacks: newer than the first one it has (it has their parents)
    missing = []
    for record in chain:
        if head is not None and record.artifact_id == head.artifact_id:
            break
        if oci.has_manifest(release_tag(record.artifact_id)):
            break
        missing.append(record)
    manifests: dict[str, bytes] = {}
    pem = _own_pem(ws)
    if missing and not oci.has_blob(EMPTY_DIGEST):
        oci.put_blob(EMPTY)
        out.blobs_uploaded += 1
    for record in reversed(missing):
        raw = release_manifest(record, pem.get(record.key_id))
        manifests[record.artifact_id] = raw
        if not oci.has_blob(record.artifact_id):
            oci.put_blob(record.canonical_bytes())
            out.blobs_uploaded += 1
        oci.put_manifest(release_tag(record.artifact_id), raw)
        out.manifests_uploaded += 1
        out.releases.append(record.artifact_id)
    for record in chain:
        approvals = store.approvals(record.artifact_id)
        if approvals:
            raw = manifests.get(record.artifact_id) or release_manifest(
                record, pem.get(record.key_id)
            )
            added = _push_approvals(oci, record, approvals, raw)
            out.approvals += added
            out.manifests_uploaded += 1 if added else 0
    if head is None or head.artifact_id != latest:
        now = fetch_release(oci, tag)  # right before the move: nobody pushed meanwhile
        if now is not None and now.artifact_id not in ids:
            raise _conflict(oci, tag, now, ws, f"push of {client}/{profile} lost a race")
        raw = manifests.get(latest) or release_manifest(chain[0], pem.get(chain[0].key_id))
        oci.put_manifest(tag, raw)
        out.manifests_uploaded += 1
        time.sleep(SETTLE_SECONDS)
        after = fetch_release(oci, tag)
        if after is None or after.artifact_id != latest:
            if after is not None and after.artifact_id not in ids:
                raise _conflict(oci, tag, after, ws, f"push of {client}/{profile} was overtaken")
            raise RemoteConflict(
                f"push of {client}/{profile}: another push moved {tag} at the same moment; "
                "your releases are on the remote, the tag is not at yours",
                "push again",
            )
        out.status = "pushed"
    elif out.approvals:
        out.status = "pushed"
    else:
        out.status = "up to date"
    if out.status == "pushed":
        _record(
            ws,
            "push",
            client,
            profile,
            latest,
            {
                "remote": remote,
                "url": str(oci.url),
                "tag": tag,
                "ids": out.releases,
                "previous": out.previous,
                "approvals": out.approvals,
            },
        )
    return out


def _own_pem(ws: WorkspaceParts) -> dict[str, str]:
    """key id -> PEM of the workspace's own public keys (shown in manifests, for information)."""
    out: dict[str, str] = {}
    with contextlib.suppress(MCPOrchError, OSError):
        for row in ws.keys.list():
            if row.get("status") in ("current", "retired") and is_key_id(row.get("key_id")):
                with contextlib.suppress(MCPOrchError, OSError):
                    out[row["key_id"]] = ws.keys.export_public(row["key_id"])
    return out


def _record(
    ws: WorkspaceParts,
    action: str,
    client: str,
    profile: str,
    artifact_id: str | None,
    details: dict[str, Any],
) -> None:
    with changing(ws):
        plan = Plan(action, client, profile)
        plan.event(
            action,
            client=client,
            profile=profile,
            artifact_id=artifact_id,
            actor=default_actor(),
            details=details,
        )
        run(ws, plan)


# ---- pull ------------------------------------------------------------------------------------


def pull_profile(
    ws: WorkspaceParts, oci: OCIClient, remote: str, client: str, profile: str
) -> ProfileOutcome:
    """Fetch the tag's release and the ancestry this workspace lacks, verify all of it, then
    write objects, index and latest in one journaled change with a ``pull`` event."""
    store = ws.store
    tag = ref_tag(client, profile)
    head = fetch_release(oci, tag)
    if head is None:
        raise NotFound(
            f"the remote {remote} has no release of {client}/{profile} (no tag {tag})",
            "push it from the workspace that publishes it",
        )
    out = ProfileOutcome(client, profile, tag, "up to date", artifact_id=head.artifact_id)
    latest = store.get_ref(client, profile, "latest")
    out.previous = latest
    local = _ancestry(ws, latest)
    local_ids = [r.artifact_id for r in local]
    fetched: list[ArtifactRecord] = []
    if head.artifact_id in local_ids:
        if head.artifact_id != latest:  # an older release: never moves latest backwards
            out.status = "remote behind"
            out.notes.append(
                f"the remote's {tag} is at {short_id(head.artifact_id)}, an older release "
                f"than your latest {short_id(latest)}; latest was not moved"
            )
        record: ArtifactRecord = store.get(head.artifact_id)
    else:
        rel: RemoteRelease = head
        while True:
            record = load_verified(ws, oci, rel, client, profile)
            fetched.append(record)
            parent = record.parent
            if parent == latest:
                break
            if parent is None or len(fetched) >= MAX_CHAIN:
                raise _diverged(tag, head, latest, fetched)
            if store.has(parent):
                if latest in [r.artifact_id for r in _ancestry(ws, parent)]:
                    break
                raise _diverged(tag, head, latest, fetched)
            nxt = fetch_release(oci, release_tag(parent))
            if nxt is None:
                raise RemoteError(
                    f"the remote lacks release {short_id(parent)}, the parent of "
                    f"{short_id(record.artifact_id)}; nothing was pulled",
                    "push the profile again from a workspace that has its whole history",
                )
            if nxt.artifact_id != parent:
                raise IntegrityError(
                    f"the remote's tag {release_tag(parent)} names release "
                    f"{short_id(nxt.artifact_id)}; nothing was pulled",
                    "a tag on the remote was moved; push the release again",
                )
            rel = nxt
        out.status = "pulled"
    approvals, dropped = _verified_approvals(ws, oci, [*fetched] or [record])
    out.notes += dropped
    fetched.reverse()  # oldest first
    out.releases = [r.artifact_id for r in fetched]
    if not fetched and not approvals:
        return out
    with changing(ws), store.lock(client, profile):
        if store.get_ref(client, profile, "latest") != latest:
            raise ConflictError(
                f"{client}/{profile} changed in this workspace while pulling; nothing was pulled",
                "pull again",
            )
        added = 0
        approved: list[dict[str, str]] = []  # recorded in the event: verify sees one removed
        if fetched:
            plan = Plan("pull", client, profile)
            for r in fetched:
                plan.put_object(r.artifact_id, r.stored())
                plan.append_index(client, profile, r.artifact_id)
            plan.set_ref(client, profile, "latest", head.artifact_id)
        else:
            plan = Plan("pull", client, profile)
        for aid, items in approvals.items():  # claims, checked again on every read
            for a in items:
                if store.add_approval(aid, a["key_id"], a["signature"], a["created"]):
                    added += 1
                    approved.append({"artifact_id": aid, "key_id": a["key_id"]})
        out.approvals = added
        if not fetched and not added:
            return out
        plan.event(
            "pull",
            client=client,
            profile=profile,
            artifact_id=head.artifact_id if fetched else None,
            actor=default_actor(),
            details={
                "remote": remote,
                "url": str(oci.url),
                "tag": tag,
                "ids": out.releases,
                "previous": latest,
                "approvals": added,
                **({"approved": approved} if approved else {}),
            },
        )
        run(ws, plan)
    if out.status == "up to date" and added:
        out.status = "approvals pulled"
    return out


def _diverged(
    tag: str, head: RemoteRelease, latest: str | None, fetched: list[ArtifactRecord]
) -> RemoteConflict:
    diff = [
        {
            "artifact_id": r.artifact_id,
            "changelog": r.changelog,
            "created": r.created,
            "signer": r.key_id,
        }
        for r in fetched
    ]
    return RemoteConflict(
        f"the remote's {tag} is at {short_id(head.artifact_id)}, which does not descend from "
        f"your latest {short_id(latest)}: the histories diverged; nothing was pulled",
        "compare the two releases; to take the remote's, publish its payload on top of yours, "
        "or push yours if the remote's is wrong",
        diff=diff,
    )


def _verified_approvals(
    ws: WorkspaceParts, oci: OCIClient, records: list[ArtifactRecord]
) -> tuple[dict[str, list[dict[str, str]]], list[str]]:
    """Approvals on the remote that this workspace lacks and whose signature verifies against
    its trust set; the others are dropped with a note."""
    out: dict[str, list[dict[str, str]]] = {}
    notes: list[str] = []
    for record in records:
        have = {a["key_id"] for a in ws.store.approvals(record.artifact_id)}
        for claim in remote_approvals(oci, record.artifact_id):
            if claim["key_id"] in have or claim["key_id"] == record.key_id:
                continue
            signers, problems = valid_signers(record, [claim], ws.keys)
            if claim["key_id"] in signers and not problems:
                out.setdefault(record.artifact_id, []).append(claim)
            else:
                why = problems[-1] if problems else "does not verify"
                notes.append(f"dropped an approval of {short_id(record.artifact_id)}: {why}")
    return out, notes


# ---- the audit anchor ------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    machine: str
    seq: int
    hash: str
    time: str
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "seq": self.seq,
            "hash": self.hash,
            "time": self.time,
            "key_id": self.key_id,
        }


def _head(ws: WorkspaceParts) -> tuple[int, str]:
    raw = ws.audit.head_path
    try:
        head = json.loads(raw.read_bytes())
        return int(head["seq"]), str(head["hash"])
    except FileNotFoundError:
        return 0, "sha256:" + "0" * 64
    except (ValueError, KeyError, TypeError):
        ws.audit.check_ready()  # raises the log's own StoreCorrupt
        raise


def _event_hash(ws: WorkspaceParts, seq: int) -> str | None:
    for event in _events(ws):
        if event.get("seq") == seq:
            return str(event.get("hash"))
    return None


def _events(ws: WorkspaceParts) -> Iterator[dict[str, Any]]:
    with contextlib.suppress(ValueError):
        yield from ws.audit.events()


def read_anchor(ws: WorkspaceParts, oci: OCIClient, machine: str) -> Anchor | None:
    got = oci.get_manifest_bytes(anchor_tag(machine))
    if got is None:
        return None
    try:
        doc = json.loads(got[0])
        layer = doc["layers"][0]
        signature = doc["annotations"][NS + "signature"]
        raw = oci.read_blob(layer["digest"])
        body = json.loads(raw)
        ok = (
            sha256_id(raw) == layer["digest"]
            and canonical(body) == raw
            and body.get("type") == ANCHOR_DOC
            and body.get("machine") == machine
        )
    except (ValueError, KeyError, IndexError, TypeError):
        ok = False
    if not ok:
        raise HistoryRewritten(
            f"the remote's anchor of machine {machine} is damaged or not an anchor",
            "check who writes to that repository; push again to anchor this workspace's log",
        )
    # an anchor that names another workspace's key is that workspace's (two workspaces on one
    # host), trusted here or not: check_anchor leaves it alone. One naming a key of this
    # workspace must be its signature, or someone else wrote it
    if str(body.get("key_id")) in ws.keys.own_key_ids():
        try:
            ws.keys.verify(str(body.get("key_id")), raw, str(signature))
        except SignatureError as exc:
            raise HistoryRewritten(
                f"the remote's anchor of machine {machine} names this workspace's key but "
                f"does not verify ({exc.message})",
                "find out who wrote that anchor; push again to anchor this workspace's log",
            ) from None
    return Anchor(
        machine, int(body["seq"]), str(body["hash"]), str(body["time"]), str(body["key_id"])
    )


def check_anchor(ws: WorkspaceParts, oci: OCIClient, machine: str) -> Anchor | None:
    """The machine's anchor on the remote, checked against the local audit log: the anchored
    event must still be there with the anchored hash. HistoryRewritten otherwise. An anchor
    that names a key that is not one of this workspace's own (a teammate's workspace that
    anchors under the same machine name: two workspaces on one host) says nothing of this log:
    it is returned unchecked, and :func:`anchor_is_own` tells the two apart."""
    anchor = read_anchor(ws, oci, machine)
    if anchor is None or not anchor_is_own(ws, anchor):
        return anchor
    seq, _hash = _head(ws)
    found = _event_hash(ws, anchor.seq) if anchor.seq <= seq else None
    if anchor.seq > 0 and found != anchor.hash:
        raise HistoryRewritten(
            f"the audit log of this workspace was rewritten: the remote's anchor of machine "
            f"{machine} (written {anchor.time}) holds event {anchor.seq} with hash "
            f"{anchor.hash[:19]}, and the local log "
            + ("has no such event" if found is None else f"has {found[:19]} there"),
            "restore the audit log from a backup and verify the workspace; the anchor on the "
            "remote keeps the evidence and was not replaced",
        )
    return anchor


def anchor_is_own(ws: WorkspaceParts, anchor: Anchor) -> bool:
    """Whether one of this workspace's own keys (current or retired) signed the anchor."""
    return anchor.key_id in ws.keys.own_key_ids()


def write_anchor(
    ws: WorkspaceParts, oci: OCIClient, machine: str, *, previous: Anchor | None = None
) -> Anchor:
    """Anchor the local audit log's head on the remote. ``previous``: the anchor the caller
    has just checked with :func:`check_anchor` (else it is checked here); an anchor already at
    the head is left as it is."""
    previous = previous or check_anchor(ws, oci, machine)
    seq, hash_ = _head(ws)
    if previous is not None and (previous.seq, previous.hash) == (seq, hash_):
        return previous
    key_id = ws.keys.signing_key_id()
    body: dict[str, Any] = {
        "type": ANCHOR_DOC,
        "machine": machine,
        "seq": seq,
        "hash": hash_,
        "time": iso(now_utc()),
        "key_id": key_id,
    }
    raw = canonical(body)
    kid, signature = ws.keys.sign(raw)
    if not oci.has_blob(EMPTY_DIGEST):
        oci.put_blob(EMPTY)
    digest = oci.put_blob(raw)
    layer = {"mediaType": ANCHOR_TYPE, "digest": digest, "size": len(raw)}
    notes = {NS + "machine": machine, NS + "key-id": kid, NS + "signature": signature}
    oci.put_manifest(anchor_tag(machine), _manifest(ANCHOR_TYPE, layer, notes))
    return Anchor(machine, seq, hash_, body["time"], kid)


# ---- the shared policy -----------------------------------------------------------------------

POLICY_TYPE = "application/vnd.mcp-orch.policy.v1+json"
POLICY_DOC = "mcp-orch/policy@1"
#: The tag of the team's policy (no dot: it cannot be a profile's tag).
POLICY_TAG = "policy"


@dataclass(frozen=True)
class SharedPolicy:
    """The policy a remote shares: the policy file's text in a signed document
    ``{type, text, digest, created, key_id, parent}`` (canonical JSON, its digest ``blob``).
    ``parent`` is the blob of the shared policy it replaced (None for the first)."""

    blob: str
    text: str
    digest: str
    created: str
    key_id: str
    parent: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "blob": self.blob,
            "digest": self.digest,
            "created": self.created,
            "key_id": self.key_id,
            "parent": self.parent,
        }


def read_shared_policy(ws: WorkspaceParts, oci: OCIClient) -> SharedPolicy | None:
    """The remote's shared policy, checked: the blob hashes to its digest, is the canonical
    form of a policy document, and is signed by a key this workspace trusts (SignatureError
    otherwise: the caller decides what that stops). None when the remote shares none. Whether
    the text is a valid policy is the caller's to check (the policy model is not a release
    service)."""
    got = oci.get_manifest_bytes(POLICY_TAG)
    if got is None:
        return None
    where = f"the remote's shared policy ({POLICY_TAG})"
    try:
        doc = json.loads(got[0])
        layer = doc["layers"][0]
        signature = str(doc["annotations"][NS + "signature"])
        digest = str(layer["digest"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise IntegrityError(
            f"{where} is damaged (not a policy manifest); nothing was pulled",
            "push the policy again from a workspace that holds it",
        ) from None
    raw = oci.read_blob(digest)
    if sha256_id(raw) != digest:
        raise IntegrityError(
            f"{where} does not match its digest: its content was changed; nothing was pulled",
            "push the policy again from a workspace that holds it",
        )
    try:
        body = json.loads(raw)
        fields = {k: body[k] for k in ("text", "digest", "created", "key_id")}
        ok = (
            canonical(body) == raw
            and body.get("type") == POLICY_DOC
            and all(isinstance(v, str) for v in fields.values())
            and isinstance(body.get("parent"), str | None)
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise IntegrityError(
            f"{where} is not a policy document; nothing was pulled",
            "push the policy again from a workspace that holds it",
        )
    if not is_key_id(fields["key_id"]):
        raise SignatureError(
            f"{where} names no valid signing key; nothing was pulled",
            "push the policy again from a workspace that holds it",
        )
    ws.keys.verify(fields["key_id"], raw, signature)  # a key this workspace trusts, or refused
    return SharedPolicy(
        digest,
        fields["text"],
        fields["digest"],
        fields["created"],
        fields["key_id"],
        body.get("parent"),
    )


def write_shared_policy(
    ws: WorkspaceParts, oci: OCIClient, text: str, digest: str, parent: str | None
) -> SharedPolicy:
    """Sign the policy ``text`` (whose policy digest is ``digest``) with this workspace's key
    and make it the remote's shared policy."""
    key_id = ws.keys.signing_key_id()
    body: dict[str, Any] = {
        "type": POLICY_DOC,
        "text": text,
        "digest": digest,
        "created": iso(now_utc()),
        "key_id": key_id,
        "parent": parent,
    }
    raw = canonical(body)
    kid, signature = ws.keys.sign(raw)
    if not oci.has_blob(EMPTY_DIGEST):
        oci.put_blob(EMPTY)
    blob = oci.put_blob(raw)
    layer = {"mediaType": POLICY_TYPE, "digest": blob, "size": len(raw)}
    notes = {NS + "policy-digest": digest, NS + "key-id": kid, NS + "signature": signature}
    oci.put_manifest(POLICY_TAG, _manifest(POLICY_TYPE, layer, notes))
    return SharedPolicy(blob, text, digest, body["created"], kid, parent)


__all__ = [
    "POLICY_TAG",
    "Anchor",
    "Credentials",
    "OCIClient",
    "ProfileOutcome",
    "RemoteRelease",
    "RemoteURL",
    "SharedPolicy",
    "basic_auth",
    "check_anchor",
    "docker_auth",
    "docker_config_path",
    "parse_ref_tag",
    "pull_profile",
    "push_profile",
    "read_anchor",
    "read_shared_policy",
    "ref_tag",
    "save_docker_auth",
    "write_anchor",
    "write_shared_policy",
]
