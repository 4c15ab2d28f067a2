"""A TCP forwarder that plays the load balancer in front of gateway replicas.

The browser knows one origin (the forwarder's); each connection it opens is passed, byte for
byte, to whichever replica the forwarder points at when the connection arrives. Repointing
does not touch connections already open: as with a real load balancer, those end when their
replica does. A connection that cannot reach its replica is closed at once, as a balancer
with no healthy backend would.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from tests.support.gateway import free_port


class Forwarder:
    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def point_at(self, port: int) -> None:
        self.target_port = port

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for conn in list(self._open):
                _close(conn)
            self._open.clear()

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        pump = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        pump.start()
        _pump(client, upstream)
        pump.join()
        with self._lock:
            self._open.difference_update((client, upstream))


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copies until either side ends, then ends both (a dead replica resets the browser's
    connection instead of leaving it half open)."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    _close(source)
    _close(sink)


def _close(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()


@contextlib.contextmanager
def forwarding_to(port: int) -> Iterator[Forwarder]:
    forwarder = Forwarder(port)
    forwarder.start()
    try:
        yield forwarder
    finally:
        forwarder.close()
