"""A TCP proxy that loses traffic on purpose, to test what a backend does when a reply is lost.

Put it between a client and a real server, then arm it: the next request whose bytes contain a
marker is forwarded and its reply thrown away (``lose_reply``: the server acted, the client
cannot know), or the request itself is dropped (``lose_request``: the server never saw it). In
both cases the client's connection is cut, as a network failure would. An interim
``100 Continue`` goes through, so that an HTTP client sends the body the server then acts on.

It also counts: :meth:`FaultProxy.requests` lists the request lines that went through.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

BUFFER = 64 * 1024
#: An interim HTTP answer ("send the body"): passed on even when the reply is to be lost.
INTERIM = b"HTTP/1.1 100 "
#: An HTTP request line, e.g. ``GET /bucket/key HTTP/1.1``, at the end of a line: a body
#: without a final line break ends up glued before the next request's line.
REQUEST_LINE = re.compile(rb"(?:GET|HEAD|PUT|POST|DELETE|COPY|OPTIONS|PATCH) \S+ HTTP/1\.[01]$")


@dataclass
class _Fault:
    marker: bytes
    forward: bool  # True: the server gets the request and its reply is lost
    remaining: int


class FaultProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; faults are armed with :meth:`lose_reply` and
    :meth:`lose_request` and fire on the next requests whose bytes contain their marker."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        #: How many faults fired.
        self.fired = 0
        self._seen: list[str] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="fault-proxy").start()

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, where clients connect."""
        return f"127.0.0.1:{self.port}"

    def lose_reply(self, marker: bytes, times: int = 1) -> None:
        """Forward the next ``times`` requests containing ``marker``, then drop their replies."""
        with self._lock:
            self._faults.append(_Fault(marker, forward=True, remaining=times))

    def lose_request(self, marker: bytes, times: int = 1) -> None:
        """Drop the next ``times`` requests containing ``marker`` before the server sees them."""
        with self._lock:
            self._faults.append(_Fault(marker, forward=False, remaining=times))

    def requests(self, containing: str = "") -> list[str]:
        """The request lines sent through so far (``GET /bucket/key HTTP/1.1``), those
        containing ``containing`` (in the line as sent: percent-encoded) when given."""
        with self._lock:
            return [line for line in self._seen if containing in line]

    def clear(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._seen.clear()

    def _note_requests(self, pending: bytes, data: bytes) -> bytes:
        """Record the request lines in ``pending + data``; return the unfinished last line
        (at most a few KiB of it: a body without line breaks is not kept)."""
        *lines, rest = (pending + data).split(b"\r\n")
        matches = (REQUEST_LINE.search(line) for line in lines)
        found = [match[0].decode("latin-1") for match in matches if match]
        if found:
            with self._lock:
                self._seen.extend(found)
        return rest[-8192:]

    def _take_fault(self, tail: bytes, data: bytes) -> _Fault | None:
        """The fault whose marker is in ``data`` (or straddles ``tail``, the bytes before it)."""
        with self._lock:
            for fault in self._faults:
                seen = tail[len(tail) - len(fault.marker) + 1 :] + data
                if fault.remaining and fault.marker in seen:
                    fault.remaining -= 1
                    self.fired += 1
                    return fault
        return None

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            link = _Link(client, server)
            threading.Thread(target=self._upstream, args=(link,), daemon=True).start()
            threading.Thread(target=link.downstream, daemon=True).start()

    def _upstream(self, link: _Link) -> None:
        """Client to server, where faults fire."""
        tail = pending = b""
        try:
            while data := link.client.recv(BUFFER):
                pending = self._note_requests(pending, data)
                fault = self._take_fault(tail, data)
                tail = data[-256:]
                if fault is None:
                    link.server.sendall(data)
                elif fault.forward:
                    link.drop_reply.set()  # the downstream side cuts both ends on the reply
                    link.server.sendall(data)
                else:
                    break
        except OSError:
            pass
        link.cut()

    def close(self) -> None:
        """Stop accepting connections (those open end with their peers)."""
        self._closed = True
        _close(self._listener)


class _Link:
    """One proxied connection."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.drop_reply = threading.Event()

    def downstream(self) -> None:
        """Server to client, until a reply is to be dropped: then both ends are cut."""
        try:
            while data := self.server.recv(BUFFER):
                if self.drop_reply.is_set() and not data.startswith(INTERIM):
                    break
                self.client.sendall(data)
        except OSError:
            pass
        self.cut()

    def cut(self) -> None:
        _close(self.client)
        _close(self.server)


def _close(sock: socket.socket) -> None:
    """Close ``sock``, waking a thread blocked reading it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def fault_proxy(target: tuple[str, int]) -> Iterator[FaultProxy]:
    """A :class:`FaultProxy` for the duration of a ``with`` block."""
    proxy = FaultProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()
