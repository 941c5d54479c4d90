"""The secret store: named secrets on the OS keyring, or in an encrypted file, never in a client file.

    >>> from mcp_orch.services.secrets.store import SecretStore
    >>> store = SecretStore()                      # $MCP_ORCH_SECRETS_DIR or the user data dir
    >>> store.set("GITHUB_TOKEN", "ghp_…")         # -> the backend it went to
    >>> store.get("GITHUB_TOKEN")                  # the value (the launcher's job, not a user's)
    >>> [row["name"] for row in store.list()]      # names, backends and times: never values
    >>> store.remove("GITHUB_TOKEN")

Backends (``$MCP_ORCH_SECRET_BACKEND``): ``keyring`` is the OS keyring through the ``keyring``
library (its own choice, ``$PYTHON_KEYRING_BACKEND`` honoured); ``file`` is an encrypted file
(:mod:`.filestore`) whose key is a generated key file (mode 0600) beside it, or is derived from
``$MCP_ORCH_SECRETS_PASSPHRASE`` when that is set as the file is created; ``auto`` (the default)
is the OS keyring when the ``keyring`` library finds a real one, else the file. Keyring backends
cannot list what they hold, so the store keeps an index of names (``index``: names, backend,
time; no value). The launcher (``mcp-orch exec``) reads the index and loads only the backend a
name was stored in, without ``keyring``'s plugin discovery.
"""
