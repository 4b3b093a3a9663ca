"""The version of every flask-fs distribution, read by hatchling: the one place it is written
(each package's ``[tool.hatch.version]`` points here)."""

__version__ = "1.0.0"
