"""Sphinx configuration of the flask-fs manual."""

from __future__ import annotations

from flask_fs import __version__

project = "flask-fs"
author = "The flask-fs developers"
release = __version__
version = ".".join(__version__.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = False

# No network on build machines: keep intersphinx for the names we link, with no inventory to fetch.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
nitpicky = True
nitpick_ignore_regex = [
    # Third-party and standard types named in signatures, which have no inventory offline.
    ("py:class", r"(flask|werkzeug|typing|collections\.abc|datetime|_io|io|pytest|PIL)\..*"),
    ("py:class", r"sqlalchemy\..*"),
    ("py:class", r"(Image|Sequence|Iterable|NameFactory|BBox|Document|BaseField)"),
    ("py:class", r"(Flask|Response|FileStorage|IO|Any|Iterator|Callable|Mapping|datetime)"),
    ("py:class", r"(FSState|Config|Extensions|Prefix|UploadTo|ConfiguredStorage|BackendFixtures)"),
    ("py:class", r"(P|R|T|Metadata|OpenMode|BaseBackend|Storage)"),
    ("py:class", r"(str|bytes|int|bool|dict|list|tuple|frozenset|object|None)\b.*"),
    ("py:exc", r"(FileNotFound|FileExists|InvalidFilename|UnauthorizedFileType)"),
    ("py:exc", r"(OperationNotSupported|UploadNotAllowed)"),
    ("py:data", r"flask\.current_app"),
]

html_theme = "furo"
html_title = f"flask-fs {release}"
