"""A TCP proxy a test owns, to take a backing service (PostgreSQL, Redis) away from the process
under test and give it back, without touching the machine's own service.

    proxy = tcp_proxy("127.0.0.1", 6379)       # the fixture; closed at the test's end
    url = f"redis://127.0.0.1:{proxy.port}/2"  # give this to the process under test
    proxy.cut()                                # every connection dropped, new ones reset
    proxy.cut(hang=True)                       # ... or accepted and never answered
    proxy.restore()                            # the service is back

`cut()` is a service that is down (its connections reset, as by a restart); `cut(hang=True)` is
one that cannot be reached (packets lost): connects succeed, nothing ever answers."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

BUFFER = 65536


def _reset(sock: socket.socket) -> None:
    """Close with RST (linger 0), waking any thread blocked on the socket."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class TcpProxy:
    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()  # both ends of every piped connection
        self._held: list[socket.socket] = []  # accepted while hanging
        self._state = "up"  # "up", "reset" or "hang"
        self._closed = False
        self.accepted = 0
        threading.Thread(target=self._accept_loop, daemon=True,
                         name=f"proxy:{self.port}").start()

    @property
    def url_netloc(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cut(self, *, hang: bool = False) -> None:
        """Take the service away: live connections are reset; new ones are reset at once, or
        with `hang` accepted and never answered."""
        with self._lock:
            self._state = "hang" if hang else "reset"
            sockets, self._open = self._open, set()
        for sock in sockets:
            _reset(sock)

    def restore(self) -> None:
        with self._lock:
            self._state = "up"
            held, self._held = self._held, []
        for sock in held:
            _reset(sock)

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.restore()
        _reset(self._listener)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            with self._lock:
                state = self._state
                if state == "hang":
                    self._held.append(client)
            if state == "reset":
                _reset(client)
            elif state == "up":
                self._pipe(client)

    def _pipe(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._open |= {client, upstream}
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(BUFFER):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                cut_here = source in self._open
                self._open -= {source, sink}
            if cut_here:  # the other end closed: pass the close on
                for sock in (source, sink):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()


@pytest.fixture
def tcp_proxy():
    """tcp_proxy(host, port) → a TcpProxy to that service, closed at the test's end."""
    made: list[TcpProxy] = []

    def make(host: str, port: int) -> TcpProxy:
        made.append(TcpProxy(host, port))
        return made[-1]

    yield make
    for proxy in made:
        proxy.close()
