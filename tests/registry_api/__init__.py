"""A loopback copy of the official MCP Registry's read API (``GET /v0.1/servers`` and the
per-server version endpoints), serving the bundled public data set (:mod:`.server`)."""
