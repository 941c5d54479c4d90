"""Real package registries on loopback for the ``registry`` tests (fixtures in :mod:`.kit`)."""
