"""The secret store: an index of names over the backend each value went to (see the package).

>>> store = SecretStore(Path("/tmp/s"))
>>> store.set("API_KEY", "s3cr3t")["backend"]
'file'
>>> store.lookup(["API_KEY", "OTHER"])       # only the names the store has
{'API_KEY': 's3cr3t'}
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mcp_orch.core.clock import iso, now_utc
from mcp_orch.core.errors import NotFound, SecretStoreError, UsageError
from mcp_orch.core.fs import atomic_write, locked
from mcp_orch.services.secrets import sealed
from mcp_orch.services.secrets.filestore import PASSPHRASE_ENV, SecretFile, private_dir
from mcp_orch.services.secrets.sealed import DIR_ENV, INDEX, INDEX_FORMAT

#: The keyring service every secret is stored under.
SERVICE = "mcp-orch"
#: ``keyring``, ``file`` or ``auto`` (the default): where ``set`` puts a value.
BACKEND_ENV = "MCP_ORCH_SECRET_BACKEND"
BACKENDS = ("auto", "keyring", "file")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")

__all__ = [
    "BACKEND_ENV",
    "DIR_ENV",
    "PASSPHRASE_ENV",
    "SERVICE",
    "SecretStore",
    "check_name",
    "is_launcher_entry",
    "launcher_path",
    "secrets_dir",
]


def check_name(name: str) -> str:
    """``name`` when it is a variable-like name (letters, digits, ``_``; not starting with a
    digit; at most 128), else a ``UsageError``."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a secret name",
            "a secret is named like an environment variable: letters, digits and '_', not "
            "starting with a digit (GITHUB_TOKEN)",
            inputs=("name",),
        )
    return name


def secrets_dir() -> Path:
    """The store's folder (see :func:`.sealed.secrets_dir`)."""
    return Path(sealed.secrets_dir())


#: The installed command the launcher entries run (``mcp-orch exec -- ...``).
ENTRY_POINT = "mcp-orch"


def launcher_path() -> str:
    """The absolute path of the installed ``mcp-orch`` entry point, as a client starts it:
    the one beside the running interpreter (the installation doing the deploy: a venv's
    ``bin``, ``Scripts`` on Windows), else the one on ``PATH``."""
    exe = ENTRY_POINT + (".exe" if sys.platform == "win32" else "")
    here = Path(sys.executable).parent
    for folder in (here, here / "Scripts", here / "bin"):
        candidate = folder / exe
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate.absolute())
    import shutil  # stdlib; only when the interpreter's folder has no entry point

    found = shutil.which(ENTRY_POINT)
    if found:
        return str(Path(found).absolute())
    raise SecretStoreError(
        f"the {ENTRY_POINT} entry point is not installed beside {sys.executable} nor on PATH, "
        "so no launcher entry can be written; nothing was written",
        "install mcp-orch (pip install mcp-orch) so its entry point exists, or write the "
        "values inline (the profile's secrets setting: inline)",
    )


def is_launcher_entry(neutral: dict[str, Any]) -> bool:
    """Whether a (neutral) stdio entry runs the launcher, ``mcp-orch exec -- <server>``: its
    ``${env:NAME}`` references are resolved by the launcher as the server starts."""
    command = str(neutral.get("command") or "").replace("\\", "/").rsplit("/", 1)[-1]
    args = neutral.get("args") or []
    name = command.removesuffix(".exe")
    return name in (ENTRY_POINT, "mcp-orchestration") and list(args[:2]) == ["exec", "--"]


class SecretStore:
    """Named secrets (see the package docstring). ``folder`` defaults to :func:`secrets_dir`;
    ``backend`` to ``$MCP_ORCH_SECRET_BACKEND`` (``auto`` when unset)."""

    def __init__(self, folder: Path | None = None, backend: str | None = None) -> None:
        self.folder = folder if folder is not None else secrets_dir()
        chosen = backend or os.environ.get(BACKEND_ENV) or "auto"
        if chosen not in BACKENDS:
            raise UsageError(
                f"the secret backend {chosen!r} is not one of {', '.join(BACKENDS)}",
                f"set {BACKEND_ENV} to keyring, file or auto",
                inputs=("backend",),
            )
        self.backend = chosen
        self.index_path = self.folder / INDEX

    # -- the index (names, never values) --------------------------------------------------
    def _index(self) -> dict[str, dict[str, Any]]:
        try:
            data = sealed.read_doc(str(self.index_path), "secrets")
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise SecretStoreError(
                f"the secret index {self.index_path} is damaged ({exc})",
                "remove it and set the secrets again (the values stay where they were)",
            ) from None
        if data.get("format") != INDEX_FORMAT or not isinstance(data.get("secrets"), dict):
            raise SecretStoreError(f"{self.index_path} is not an mcp-orch secret index")
        rows = data["secrets"]
        assert isinstance(rows, dict)
        return {k: v for k, v in rows.items() if isinstance(v, dict)}

    def _write_index(self, index: dict[str, dict[str, Any]]) -> None:
        private_dir(self.folder)
        text = sealed.dumps({"format": INDEX_FORMAT, "secrets": index}, "secrets")
        atomic_write(self.index_path, text, mode=0o600)

    def names(self) -> list[str]:
        return sorted(self._index())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._index()

    def list(self) -> list[dict[str, Any]]:
        """One row per secret: name, backend (``file`` or the keyring backend's class) and
        when it was set. Never a value."""
        return [
            {"name": n, "backend": row.get("backend", "?"), "set": row.get("set", "")}
            for n, row in sorted(self._index().items())
        ]

    # -- values ---------------------------------------------------------------------------
    def set(self, name: str, value: str) -> dict[str, Any]:
        """Store ``value`` under ``name`` (replacing any value it had); returns its index row."""
        check_name(name)
        if not isinstance(value, str) or value == "":
            raise UsageError(f"the value of {name} is empty; nothing was stored", inputs=("value",))
        private_dir(self.folder)
        with locked(self.index_path):
            index = self._index()
            old = index.get(name, {}).get("backend")
            backend = self._put(name, value)
            if old and old != backend:  # moved to another backend: no copy stays behind
                self._delete_from(old, name)
            index[name] = {"backend": backend, "set": iso(now_utc())}
            self._write_index(index)
        return {"name": name, **index[name]}

    def get(self, name: str) -> str | None:
        """The value of ``name``, or None when the store does not have it."""
        row = self._index().get(name)
        return None if row is None else self._get_from(str(row.get("backend")), name)

    def lookup(self, names: Iterable[str]) -> dict[str, str]:
        """The values of those of ``names`` the store has (one index read for all)."""
        index = self._index()
        out: dict[str, str] = {}
        for name in names:
            row = index.get(name)
            if row is not None:
                value = self._get_from(str(row.get("backend")), name)
                if value is not None:
                    out[name] = value
        return out

    def remove(self, name: str) -> dict[str, Any]:
        """Remove ``name`` from its backend and the index; ``NotFound`` when it is not there."""
        check_name(name)
        with locked(self.index_path):
            index = self._index()
            if name not in index:
                raise NotFound(
                    f"no secret named {name} in the store ({self.folder})",
                    "list the secrets to see their names",
                )
            row = index.pop(name)
            self._delete_from(str(row.get("backend")), name)
            self._write_index(index)
        return {"name": name, **row}

    # -- backends -------------------------------------------------------------------------
    def _put(self, name: str, value: str) -> str:
        choice = self.backend
        keyring_backend = None
        if choice in ("auto", "keyring"):
            keyring_backend = _os_keyring(required=choice == "keyring")
        if keyring_backend is None:
            SecretFile(self.folder).put(name, value)
            return "file"
        try:
            keyring_backend.set_password(SERVICE, name, value)
        except Exception as exc:  # keyring backends raise their own errors
            raise SecretStoreError(
                f"the OS keyring ({_class_path(keyring_backend)}) refused to store {name}: {exc}",
                f"unlock the keyring, or use the encrypted file ({BACKEND_ENV}=file)",
            ) from None
        return "keyring:" + _class_path(keyring_backend)

    def _get_from(self, backend: str, name: str) -> str | None:
        if backend == "file":
            return SecretFile(self.folder).get(name)
        if backend.startswith("keyring:"):
            try:
                value = _load_backend(backend[len("keyring:") :]).get_password(SERVICE, name)
            except SecretStoreError:
                raise
            except Exception as exc:
                raise SecretStoreError(
                    f"the OS keyring ({backend[8:]}) did not give the value of {name}: {exc}",
                    "unlock the keyring, or set the secret again",
                ) from None
            return value if isinstance(value, str) else None
        raise SecretStoreError(f"{self.index_path} names an unknown backend {backend!r} for {name}")

    def _delete_from(self, backend: str, name: str) -> None:
        if backend == "file":
            SecretFile(self.folder).delete(name)
            return
        try:
            _load_backend(backend[len("keyring:") :]).delete_password(SERVICE, name)
        except Exception:  # already gone from the keyring: the index entry goes anyway
            pass


def _class_path(obj: object) -> str:
    return f"{type(obj).__module__}:{type(obj).__qualname__}"


def _os_keyring(*, required: bool) -> Any:
    """keyring's own choice of backend when it is a real one, else None (or an error when the
    keyring was asked for by name)."""
    try:
        import keyring  # about 0.2 s: only when a value is stored, never on the launcher's path
        from keyring.backends import fail

        chosen = keyring.get_keyring()
    except Exception as exc:
        if required:
            raise SecretStoreError(
                f"the keyring library cannot load a backend: {exc}",
                f"use the encrypted file ({BACKEND_ENV}=file)",
            ) from None
        return None
    if isinstance(chosen, fail.Keyring) or getattr(chosen, "priority", 1) <= 0:
        if required:
            raise SecretStoreError(
                "no OS keyring is available on this machine (keyring found none)",
                f"use the encrypted file ({BACKEND_ENV}=file), or install and unlock a keyring",
            )
        return None
    return chosen


def _load_backend(path: str) -> Any:
    """The keyring backend class ``module:Class``, loaded directly (no plugin discovery)."""
    module, _, cls = path.partition(":")
    try:
        backend = getattr(importlib.import_module(module), cls)()
    except Exception as exc:
        raise SecretStoreError(
            f"the keyring backend {path} the secret was stored in cannot be loaded: {exc}",
            "set the secret again on this machine",
        ) from None
    return backend
