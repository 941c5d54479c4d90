"""A keyring backend for tests: a JSON file (``$TEST_KEYRING_FILE``) standing in for an OS
keyring, so the secret store's keyring path (``keyring.get_keyring()`` at set, the class loaded
directly by the launcher) runs for real without touching the machine's keyring. Selected with
``PYTHON_KEYRING_BACKEND=json_keyring.JsonKeyring`` (this folder on ``PYTHONPATH``)."""

import json
import os

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class JsonKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def _load(self) -> dict:
        try:
            with open(os.environ["TEST_KEYRING_FILE"]) as fh:
                return json.load(fh)
        except FileNotFoundError:
            return {}

    def _save(self, data: dict) -> None:
        with open(os.environ["TEST_KEYRING_FILE"], "w") as fh:
            json.dump(data, fh)

    def get_password(self, service, username):
        return self._load().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._save(data)
