"""The package version (kept in a core module so every layer can name it without a cycle)."""

__version__ = "0.1.0"
