"""Package pins at publish time: resolve each package an entry runs against its registry.

    >>> from mcp_orch.domain.pins import package_of
    >>> from mcp_orch.services.pinning import Lock, resolve
    >>> refs = [package_of(e) for e in entries.values()]        # the entries that run a package
    >>> locks = resolve([r for r in refs if r], timeout=10, jobs=8)
    >>> [(lock.name, lock.status, lock.version, lock.integrity) for lock in locks]
    [('mcp-remote', 'resolved', '0.15.1', 'sha512-...'), ('mcp-server-time', 'resolved', ...)]
    >>> Lock.from_dict(locks[0].to_dict()) == locks[0]          # JSON-able, for the envelope
    True

Each lock row records the exact version a pin resolves to, when it was published, the
registry's integrity hash (npm ``dist.integrity``, the PyPI file's ``sha256:``, the OCI manifest
digest), the newest version and the registry asked. Resolution uses the user's own registry
configuration (npm's own lookup, uv's and pip's index settings); a registry that cannot be
reached makes an *unresolved* row with the reason, never an error (see :mod:`.resolve`).
"""

from mcp_orch.services.pinning.resolve import (
    DEFAULT_JOBS,
    DEFAULT_PYPI_INDEX,
    DEFAULT_TIMEOUT,
    LOCK_STATUSES,
    MAX_VERSIONS,
    Lock,
    public_url,
    pypi_index_url,
    resolve,
)

__all__ = [
    "DEFAULT_JOBS",
    "DEFAULT_PYPI_INDEX",
    "DEFAULT_TIMEOUT",
    "LOCK_STATUSES",
    "MAX_VERSIONS",
    "Lock",
    "public_url",
    "pypi_index_url",
    "resolve",
]
