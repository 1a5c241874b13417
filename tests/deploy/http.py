"""Plain HTTP to a server a test started on loopback, with the Host header it chooses."""

import http.client
import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, *, host: str, **headers: str) -> tuple[int, dict, bytes]:
    """(status, headers, body) of GET `path`; header names with underscores for dashes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={
            "Host": host, **{name.replace("_", "-"): value for name, value in headers.items()}})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()
