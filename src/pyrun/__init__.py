"""pyrun: `uv run`, re-implemented in Python."""

__version__ = "0.1.0"
