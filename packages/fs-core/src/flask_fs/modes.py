"""The modes of ``open``: ``r`` reads, ``w`` replaces, ``x`` creates only."""

from __future__ import annotations

from typing import Literal

from .errors import OperationNotSupported

OpenMode = Literal["r", "rb", "rt", "w", "wb", "wt", "x", "xb", "xt"]

#: The modes :meth:`~flask_fs.backends.BaseBackend.open` accepts: ``w`` replaces, ``x`` creates
#: only.
OPEN_MODES: frozenset[str] = frozenset(OpenMode.__args__)  # type: ignore[attr-defined]


def check_mode(mode: str) -> None:
    """Refuse an ``open`` mode other than r, rb, rt, w, wb, wt, x, xb, xt."""
    if mode not in OPEN_MODES:
        raise OperationNotSupported(f"unsupported mode {mode!r}: use r, rb, w, wb, x or xb")


def replaces(mode: str, overwrite: bool | None = None) -> bool:
    """Whether opening in write ``mode`` replaces an existing file: ``w`` does unless
    ``overwrite=False``; ``x`` never does."""
    return not mode.startswith("x") and overwrite is not False
