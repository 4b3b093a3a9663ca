"""The version of fs-core, read by hatchling: the one place it is written."""

__version__ = "1.0.0"
