"""A WSGI app served by waitress in this process, and keep-alive clients hammering it."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection

from flask import Flask
from waitress.server import create_server

HOST = "127.0.0.1"
#: Waitress worker threads: one per client, so no request waits for a free worker.
SERVER_THREADS = 16


def serve_in_thread(app: Flask, threads: int = SERVER_THREADS) -> int:
    """Serve ``app`` with waitress on a free port of this host until the process exits (a
    benchmark child does: one case, one run); return the port."""
    server = create_server(app, host=HOST, port=0, threads=threads)
    threading.Thread(target=server.run, daemon=True).start()
    return int(server.effective_port)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, int]:
    """One GET on a new connection: ``(status, ETag, body length)``."""
    connection = HTTPConnection(HOST, port)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("ETag") or "", len(response.read())
    finally:
        connection.close()


def hammer(
    port: int,
    path: str,
    requests: int,
    *,
    clients: int = 16,
    headers: dict[str, str] | None = None,
    status: int = 200,
    length: int = 0,
) -> None:
    """GET ``path`` ``requests`` times from ``clients`` threads, each on its own keep-alive
    connection; every response must have ``status`` and a body of ``length`` bytes."""
    taken = itertools.count()  # next() on it is atomic: each request is taken once

    def client() -> None:
        connection = HTTPConnection(HOST, port)
        try:
            while next(taken) < requests:
                connection.request("GET", path, headers=headers or {})
                response = connection.getresponse()
                body = response.read()
                assert response.status == status, (response.status, body[:200])
                assert len(body) == length, (len(body), length)
        finally:
            connection.close()

    with ThreadPoolExecutor(clients) as pool:
        for done in [pool.submit(client) for _ in range(clients)]:
            done.result()  # a failed client fails the case
