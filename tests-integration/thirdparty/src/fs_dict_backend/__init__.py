"""A flask-fs backend published by a third party: its own wheel, found through its entry point.

It keeps files in a process-wide dict: it is flask-fs's reference in-memory backend
(:class:`flask_fs.testing.MemoryBackend`, a complete backend of the contract) under this
package's own name. A backend of your own implements the same few methods: read that class.
"""

from __future__ import annotations

from flask_fs.testing import MemoryBackend


class DictBackend(MemoryBackend):
    """Files kept in this process's memory, registered as the ``dict`` backend."""
