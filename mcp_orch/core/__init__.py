"""The bottom layer: errors, ids and digests, files, time, markup, text, bundled data.

Nothing here imports another layer of mcp_orch. The package version lives here so that every
layer can name it without a cycle.
"""

__version__ = "0.1.0"
