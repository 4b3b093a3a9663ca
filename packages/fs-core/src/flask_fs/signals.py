"""Signals flask-fs sends, in a blinker namespace of its own, as Flask does for its own.

Connect a receiver with ``upload_completed.connect(receiver, app)``: it is called with the
application as sender and keyword arguments.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A direct upload was stored and checked (:mod:`flask_fs.uploads`): sent with ``storage``
#: (the :class:`~flask_fs.Storage`), ``filename`` (its name in the storage), ``size`` (bytes)
#: and ``sha256`` (hex).
upload_completed = _signals.signal("upload-completed")

#: A direct upload was refused when completing, its bytes removed (:mod:`flask_fs.uploads`):
#: larger than signed, of another type or name, or its name taken since. Sent with ``storage``,
#: ``filename`` (the name it would have had), ``status`` (the HTTP status the browser got:
#: 400, 409, 413, 415...) and ``reason`` (what the browser was told).
upload_refused = _signals.signal("upload-refused")

__all__ = ["upload_completed", "upload_refused"]
