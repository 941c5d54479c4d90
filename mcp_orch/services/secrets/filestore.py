"""The encrypted-file backend: sealed values in one JSON file, for machines with no OS keyring.

    >>> box = SecretFile(Path("~/.local/share/mcp-orch-secrets").expanduser())
    >>> box.put("API_KEY", "s3cr3t")
    >>> box.get("API_KEY")
    's3cr3t'

``secrets`` holds, per name, a random 128-bit nonce, the ciphertext and its tag (BLAKE2b in
counter mode, encrypt-then-MAC over the name: :data:`.sealed.CIPHER`, chosen so the launcher
needs no crypto library; a value moved to another name does not open). The
256-bit key is, as the file was created: a random key in ``secrets.key`` (mode 0600, in the same
private folder, never in a workspace, a client file or a backup), or derived with scrypt from
``$MCP_ORCH_SECRETS_PASSPHRASE`` (then no key is on disk, and every process that reads a value,
the launcher a client starts included, needs that variable).

What it protects: the values stay out of client files, their backups, the workspace and the
audit log, and out of anything that copies or shows those (dotfile repos, screenshots, support
bundles, another tool that reads the client's config). What it does not: a program running as
the same user can read the key file as it can read the value; with a passphrase only the
passphrase's holder can.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from mcp_orch.core.errors import SecretStoreError
from mcp_orch.core.fs import atomic_write
from mcp_orch.services.secrets.sealed import (
    CIPHER,
    FILE,
    FORMAT,
    KEY_FILE,
    b64,
    dumps,
    open_value,
    read_doc,
    read_key_file,
    seal_value,
    unb64,
)

PASSPHRASE_ENV = "MCP_ORCH_SECRETS_PASSPHRASE"
# scrypt cost: 2**14 x 8 (16 MiB, a few tens of ms), paid once per process that reads a value
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def private_dir(folder: Path) -> Path:
    """``folder``, made (mode 0700) when missing."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


class SecretFile:
    """The encrypted file in ``folder`` (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE

    def _read(self) -> dict[str, Any]:
        try:
            data = read_doc(str(self.path), "entries")
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise SecretStoreError(
                f"the secret file {self.path} is damaged ({exc})",
                "restore it from your own backup, or remove it and set the secrets again",
            ) from None
        if (
            not isinstance(data, dict)
            or data.get("format") != FORMAT
            or data.get("cipher") != CIPHER
        ):
            raise SecretStoreError(
                f"{self.path} is not an mcp-orch secret file ({FORMAT})",
                "remove it and set the secrets again",
            )
        return data

    def _key(self, data: dict[str, Any], *, create: bool) -> bytes:
        spec = data.get("key") or {}
        if spec.get("kind") == "passphrase":
            phrase = os.environ.get(PASSPHRASE_ENV)
            if not phrase:
                raise SecretStoreError(
                    f"the secret file {self.path} is locked with a passphrase, and "
                    f"{PASSPHRASE_ENV} is not set",
                    f"set {PASSPHRASE_ENV} in the environment of this process (for a client, "
                    "in the environment the client starts servers with)",
                )
            try:
                salt = unb64(spec.get("salt"))
                n, r, p = int(spec["n"]), int(spec["r"]), int(spec["p"])
            except (KeyError, TypeError, ValueError):
                raise SecretStoreError(f"the key settings of {self.path} are damaged") from None
            return hashlib.scrypt(
                phrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 << 20, dklen=32
            )
        key_path = self.folder / KEY_FILE
        try:
            return read_key_file(str(self.folder))
        except FileNotFoundError:
            if not create:
                raise SecretStoreError(
                    f"the key file {key_path} of the secret file is missing",
                    "restore it, or remove the secret file and set the secrets again",
                ) from None
        except (ValueError, UnicodeDecodeError):
            raise SecretStoreError(f"the key file {key_path} is damaged") from None
        key = os.urandom(32)
        private_dir(self.folder)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write((b64(key) + "\n").encode("ascii"))
        return key

    def get(self, name: str) -> str | None:
        """The value stored under ``name``, or None."""
        data = self._read()
        item = (data.get("entries") or {}).get(name)
        if item is None:
            return None
        key = self._key(data, create=False)
        try:
            return open_value(key, item, name)
        except (ValueError, UnicodeDecodeError):
            raise SecretStoreError(
                f"the value of {name} in {self.path} does not decrypt (a wrong key or "
                "passphrase, or a damaged file)",
                f"set {name} again (with the right {PASSPHRASE_ENV} if the file has one)",
            ) from None

    def put(self, name: str, value: str) -> None:
        """Store ``value`` under ``name`` (the caller holds the store's lock)."""
        data = self._read() or {
            "format": FORMAT,
            "cipher": CIPHER,
            "key": self._new_key_spec(),
            "entries": {},
        }
        key = self._key(data, create=True)
        entries = dict(data.get("entries") or {})
        entries[name] = seal_value(key, value, name)
        data["entries"] = entries
        self._write(data)

    def delete(self, name: str) -> bool:
        data = self._read()
        entries = dict(data.get("entries") or {})
        if entries.pop(name, None) is None:
            return False
        data["entries"] = entries
        self._write(data)
        return True

    def _new_key_spec(self) -> dict[str, Any]:
        if os.environ.get(PASSPHRASE_ENV):
            return {"kind": "passphrase", "kdf": "scrypt", "salt": b64(os.urandom(16)), **SCRYPT}
        return {"kind": "keyfile", "file": KEY_FILE}

    def _write(self, data: dict[str, Any]) -> None:
        private_dir(self.folder)
        atomic_write(self.path, dumps(data, "entries"), mode=0o600)
