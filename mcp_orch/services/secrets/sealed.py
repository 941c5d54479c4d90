"""The light half of the secret store: where it lives and how a sealed value opens.

Only ``os``, ``sys`` and ``binascii`` (and the built-in BLAKE2b to open a value): the
launcher (``mcp-orch exec``) reads a secret through this module alone when it can, and through
:class:`~mcp_orch.services.secrets.store.SecretStore` (typed errors, keyring backends) when not.

    >>> folder = secrets_dir()
    >>> read_doc(os.path.join(folder, INDEX), "secrets")["secrets"]   # names, never values
"""

from __future__ import annotations

import binascii
import os
import sys

#: The store's folder (default: the user data folder's ``mcp-orch-secrets``).
DIR_ENV = "MCP_ORCH_SECRETS_DIR"
INDEX = "index"
INDEX_FORMAT = "mcp-orch-secret-index/1"
FILE = "secrets"
KEY_FILE = "secrets.key"
FORMAT = "mcp-orch-secrets/1"


def secrets_dir() -> str:
    """``$MCP_ORCH_SECRETS_DIR``, else the user data folder's ``mcp-orch-secrets`` (kept apart
    from any workspace: a workspace may be shared or synced, the secrets may not)."""
    env = os.environ.get(DIR_ENV)
    if env:
        return os.path.expanduser(env)
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "mcp-orch-secrets")


def loads(text: str, rows: str) -> dict[str, object]:
    """A store file as data. The files are lines of ``word k=v k=v ...`` (no JSON: the launcher
    would pay for ``json`` and ``re``): the first line is the format and the document's own
    fields (``key.kind=keyfile`` is ``{"key": {"kind": "keyfile"}}``), every other line one row
    of the map ``rows`` (a name and its fields). ``ValueError`` when a line does not parse."""
    lines = [line.split(" ") for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty")
    doc: dict[str, object] = {"format": lines[0][0]}
    for field in lines[0][1:]:
        name, eq, value = field.partition("=")
        if not eq:
            raise ValueError(f"not k=v: {field!r}")
        head, dot, sub = name.partition(".")
        if dot:
            group = doc.setdefault(head, {})
            if not isinstance(group, dict):
                raise ValueError(f"{head} is both a field and a group")
            group[sub] = value
        else:
            doc[name] = value
    table: dict[str, dict[str, str]] = {}
    for words in lines[1:]:
        fields = {}
        for field in words[1:]:
            k, eq, v = field.partition("=")
            if not eq:
                raise ValueError(f"not k=v: {field!r}")
            fields[k] = v
        table[words[0]] = fields
    doc[rows] = table
    return doc


def dumps(doc: dict[str, object], rows: str) -> str:
    """The text :func:`loads` reads back (values must hold no space or line break)."""
    head = [str(doc["format"])]
    for name, value in doc.items():
        if name in ("format", rows):
            continue
        if isinstance(value, dict):
            head += [f"{name}.{k}={v}" for k, v in value.items()]
        else:
            head.append(f"{name}={value}")
    out = [" ".join(head)]
    table = doc.get(rows) or {}
    assert isinstance(table, dict)
    for key, fields in table.items():
        out.append(" ".join([key, *(f"{k}={v}" for k, v in fields.items())]))
    text = "\n".join(out) + "\n"
    if any(len(line.split(" ")) != len(line.split()) for line in out):
        raise ValueError("a value holds white space")
    return text


def read_doc(path: str, rows: str) -> dict[str, object]:
    """The store file at ``path`` (``FileNotFoundError``, ``ValueError`` as they come)."""
    with open(path, "rb") as fh:
        return loads(fh.read().decode("utf-8"), rows)


def b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)


def aad(name: str) -> bytes:
    """The associated data of ``name``'s value: a value moved to another name does not open."""
    return f"{FORMAT}:{name}".encode()


def read_key_file(folder: str) -> bytes:
    """The 256-bit key in the key file (``FileNotFoundError``; ``ValueError`` when damaged)."""
    with open(os.path.join(folder, KEY_FILE), "rb") as fh:
        key = unb64(fh.read().decode("ascii").strip())
    if len(key) != 32:
        raise ValueError("not a 256-bit key")
    return key


# The cipher: BLAKE2b (RFC 7693) alone, from the standard library, because this runs each time a
# client starts a launched server and importing an AES library costs more than the launcher's
# whole budget (about 20 ms for cryptography). Keyed BLAKE2b is a PRF and a MAC by design; it is
# used as a stream cipher in counter mode under a random 128-bit nonce, then encrypt-then-MAC
# with a second key over the name, the nonce and the ciphertext (so a value moved to another
# name, or changed by one bit, does not open). Both keys are derived from the 256-bit key with
# distinct personalisation strings.
CIPHER = "blake2b-ctr+mac/1"
_BLOCK = 64


def _blake2b(data: bytes, key: bytes, person: bytes, size: int = 64) -> bytes:
    try:  # the built-in module hashlib itself uses, without hashlib's OpenSSL import
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - every CPython has it; another Python may not
        from hashlib import blake2b
    return blake2b(data, key=key, person=person, digest_size=size).digest()


def _keys(key: bytes) -> tuple[bytes, bytes]:
    return _blake2b(b"", key, b"mcp-orch:enc"), _blake2b(b"", key, b"mcp-orch:mac")


def _stream(enc: bytes, nonce: bytes, data: bytes) -> bytes:
    blocks = (len(data) + _BLOCK - 1) // _BLOCK
    pad = b"".join(
        _blake2b(nonce + i.to_bytes(8, "little"), enc, b"mcp-orch:ctr") for i in range(blocks)
    )
    n = len(data)
    return (int.from_bytes(data, "little") ^ int.from_bytes(pad[:n], "little")).to_bytes(
        n, "little"
    )


def _tag(mac: bytes, name: str, nonce: bytes, sealed: bytes) -> bytes:
    label = aad(name)
    head = len(label).to_bytes(8, "little") + label + nonce
    return _blake2b(head + sealed, mac, b"mcp-orch:tag", 32)


def _same(a: bytes, b: bytes) -> bool:
    """Constant-time comparison (hmac's would import OpenSSL's hashlib)."""
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b, strict=True):
        diff |= x ^ y
    return diff == 0


def open_value(key: bytes, item: object, name: str) -> str:
    """The value sealed in ``item`` (``{"nonce", "data", "tag"}``, see :data:`CIPHER`);
    ``ValueError`` when it does not open (a wrong key, a changed byte, another name)."""
    if not isinstance(item, dict):
        raise ValueError("not a sealed value")
    nonce, sealed, tag = unb64(item.get("nonce")), unb64(item.get("data")), unb64(item.get("tag"))
    enc, mac = _keys(key)
    if len(nonce) != 16 or not _same(_tag(mac, name, nonce, sealed), tag):
        raise ValueError("the value does not open with this key under this name")
    return _stream(enc, nonce, sealed).decode("utf-8")


def seal_value(key: bytes, value: str, name: str) -> dict[str, str]:
    """``value`` sealed under ``key`` for ``name`` (see :data:`CIPHER`)."""
    enc, mac = _keys(key)
    nonce = os.urandom(16)
    sealed = _stream(enc, nonce, value.encode("utf-8"))
    return {"nonce": b64(nonce), "data": b64(sealed), "tag": b64(_tag(mac, name, nonce, sealed))}


def quick_lookup(names: list[str]) -> dict[str, str] | None:
    """The values of those of ``names`` the store has, when each is in the encrypted file
    under its key file; None when any needs more (a keyring backend, a passphrase, a damaged
    file): then the caller asks :class:`SecretStore`, which says what is wrong."""
    folder = secrets_dir()
    try:
        index = read_doc(os.path.join(folder, INDEX), "secrets")
    except FileNotFoundError:
        return {}
    except ValueError:
        return None
    rows = index.get("secrets") if isinstance(index, dict) else None
    if not isinstance(rows, dict):
        return None
    here = [n for n in names if n in rows]
    if not here:
        return {}
    if any(not isinstance(rows[n], dict) or rows[n].get("backend") != "file" for n in here):
        return None
    try:
        data = read_doc(os.path.join(folder, FILE), "entries")
        spec, entries = data.get("key"), data.get("entries")
        if not isinstance(spec, dict) or spec.get("kind") != "keyfile":
            return None
        if data.get("cipher") != CIPHER or not isinstance(entries, dict):
            return None
        key = read_key_file(folder)
        return {n: open_value(key, entries[n], n) for n in here if n in entries}
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None
