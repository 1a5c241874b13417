"""The one guarded HTTPS fetch (credentials/guarded_http.py), attacked: every way of writing a
non-public address (IPv6 forms that embed an IPv4 address included), as a URL, a did:web, a
status list, a JWT VC issuer and a host name, is refused before any connection is made; and a
server that answers a byte at a time, or not at all, is given up at the fetch's deadline with a
named error (the verifier's verdict names it too)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import quote

import pytest

from credentials import foreign_issuers, guarded_http
from credentials.did_web import DidResolver
from credentials.dids import did_key_for, did_key_verification_method
from credentials.errors import CredentialError, KeyResolutionError
from credentials.guarded_http import FetchError, is_public_ip
from credentials.keys import LocalSigner
from credentials.status_fetcher import fetch_text_https
from credentials.suites import get_suite
from tests.support.tls import loopback_certificate, server_context

# --- which addresses are public ------------------------------------------------------------------

NOT_PUBLIC = [
    # IPv4: loopback, private, link-local (cloud metadata), CGNAT, this network, multicast, ...
    "127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1",  # noqa: S104
    # IPv6: loopback, unspecified, unique local, link-local, multicast
    "::1", "::", "fd00::1", "fc00::1", "fe80::1", "ff02::1", "ff0e::1",
    # IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96)
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",
    # SIIT IPv4-translated (::ffff:0:0:0/96)
    "::ffff:0:7f00:1",
    # NAT64 well-known prefix 64:ff9b::/96 (RFC 6052) and the local-use 64:ff9b:1::/48 (RFC 8215)
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b::c0a8:101",
    "64:ff9b:1::7f00:1", "64:ff9b:1:7f00:1::", "64:ff9b:1::808:808",
    # 6to4 2002::/16 (RFC 3056): the IPv4 address is bits 16-47
    "2002:7f00:1::", "2002:7f00:1::1", "2002:a9fe:a9fe::1", "2002:a00:1:1::1",
    # Teredo 2001::/32 (RFC 4380): the client is the last 32 bits inverted
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # client 127.0.0.1
    "2001:0:4136:e378:8000:63bf:5601:5601",  # client 169.254.169.254
    "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # server 10.0.0.1 (client 8.8.8.8)
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::1",
          "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
          "2001:0:4136:e378:8000:63bf:f7f7:f7f7"]  # Teredo client 8.8.8.8 via 65.54.227.120


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_in_every_form_are_not_public(address):
    assert not is_public_ip(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_in_every_form_are_public(address):
    assert is_public_ip(ipaddress.ip_address(address))


# --- no connection to them, however they are written ---------------------------------------------

class Listener:
    """A TCP listener on 127.0.0.1 counting the connections it accepts."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            connection.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def listener():
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture
def connections(monkeypatch):
    """Every TCP connection the code tries to open. Those the kernel routes to 127.0.0.1 go
    through (the listener would count them); no other leaves this machine."""
    attempts = []
    real = socket.create_connection

    def create_connection(address, *args, **kwargs):
        attempts.append(address)
        if address[0] in ("127.0.0.1", "::ffff:127.0.0.1"):
            return real(address, *args, **kwargs)
        raise ConnectionRefusedError("test: no connection leaves this machine")

    monkeypatch.setattr(socket, "create_connection", create_connection)
    return attempts


def url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def did_web(address: str, port: int) -> str:
    return f"did:web:{quote(url_host(address) + f':{port}', safe='')}"


@pytest.mark.django_db
@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_every_remote_fetch_refuses_a_non_public_address_without_connecting(
        address, listener, connections):
    base = f"https://{url_host(address)}:{listener.port}"

    with pytest.raises(FetchError, match="non-public") as refused:
        guarded_http.fetch(f"{base}/x", accept="*/*", max_bytes=100)
    assert refused.value.code == "fetch_refused"
    with pytest.raises(KeyResolutionError, match="non-public"):
        DidResolver().public_key(did_web(address, listener.port) + "#key-1")
    with pytest.raises(KeyResolutionError, match="non-public"):
        DidResolver().public_key(did_web(address, listener.port) + ":orgs:acme#key-1")
    with pytest.raises(CredentialError, match="non-public"):
        fetch_text_https(f"{base}/status/1", accept="application/vc+jwt")
    with pytest.raises(CredentialError, match="non-public"):
        foreign_issuers.ForeignIssuers().key({"kid": "k"}, f"{base}/issuer",
                                             now=datetime.now(UTC))

    assert connections == []
    assert listener.accepted == 0


@pytest.mark.parametrize("addresses", [["64:ff9b::7f00:1"], ["::127.0.0.1"], ["2002:7f00:1::"],
                                       ["8.8.8.8", "::ffff:127.0.0.1"]])
def test_a_name_is_refused_when_any_of_its_addresses_is_not_public(
        monkeypatch, addresses, connections):
    def getaddrinfo(host, port, *args, **kwargs):  # DNS, the edge of the world
        assert host == "rebind.example"
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    with pytest.raises(FetchError, match="rebind.example resolves to a non-public address"):
        guarded_http.fetch("https://rebind.example/did.json", accept="*/*", max_bytes=100)
    assert connections == []


def foreign_signer(verification_method: str) -> LocalSigner:
    return LocalSigner(LocalSigner.generate()._key, verification_method)


def credential_of(signer: LocalSigner, **extra) -> str:
    return get_suite("vc+jwt").secure({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"], "issuer": signer.verification_method.split("#")[0],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://example.com/01/09506000134352"}, **extra}, signer)


def failed_checks(verdict: dict) -> dict:
    return {check["check"]: check["detail"] for check in verdict["checks"] if not check["ok"]}


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
                                     "2002:7f00:1::", "::ffff:127.0.0.1"])
def test_the_verify_api_refuses_a_did_web_on_an_embedded_private_address(
        client, address, listener, connections):
    did = did_web(address, listener.port)
    credential = credential_of(foreign_signer(f"{did}#key-1"))

    response = client.post("/api/v1/verify/", credential, content_type="application/vc+jwt")

    assert response.status_code == 200
    verdict = response.json()
    assert verdict["verified"] is False
    assert "non-public" in failed_checks(verdict)["proof"]
    assert connections == [] and listener.accepted == 0


# --- one deadline for the whole fetch: a slow-drip server -----------------------------------

DEADLINE = 1.0  # seconds: the tests' deadline, short to keep them quick
DRIP_EVERY = 0.1  # seconds between bytes: each read is quick, the whole never ends
SERVER_GIVES_UP = 20.0  # the server's own bound, so a client without a deadline fails


class DripServer:
    """HTTPS on 127.0.0.1 that answers one byte every DRIP_EVERY seconds, in one of these ways:
    `body` (the headers at once, then a body that never ends), `headers` (the status line and
    headers themselves dripped), `silent` (TLS, then nothing), `no_tls` (TCP, then nothing),
    to every connection. `hung_up` is set when a client has closed its connection."""

    def __init__(self, directory, mode: str):
        self.mode = mode
        self.cert, key = loopback_certificate(directory, "server", "127.0.0.1",
                                              valid_for=timedelta(hours=1))
        self.context = server_context(self.cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hung_up = threading.Event()
        self.accepted = 0
        self.threads = [threading.Thread(target=self._serve, daemon=True)]
        self.threads[0].start()

    def _serve(self):
        self.sock.settimeout(SERVER_GIVES_UP)
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:  # closed, or nobody came
                return
            self.accepted += 1
            self.threads.append(threading.Thread(target=self._connection, args=(raw,),
                                                 daemon=True))
            self.threads[-1].start()

    def _connection(self, raw):
        try:
            self._answer(raw)
        except OSError:  # the client went away: BrokenPipe, ConnectionReset, SSL errors
            self.hung_up.set()
        finally:
            raw.close()

    def _answer(self, raw):
        raw.settimeout(SERVER_GIVES_UP)
        if self.mode == "no_tls":
            if raw.recv(4096) == b"" or raw.recv(4096) == b"":  # the ClientHello, then EOF
                self.hung_up.set()
            return
        connection = self.context.wrap_socket(raw, server_side=True)
        request = b""
        while b"\r\n\r\n" not in request:
            request += connection.recv(4096)
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n")
        if self.mode == "silent":
            if connection.recv(4096) == b"":
                self.hung_up.set()
            return
        if self.mode == "body":
            connection.sendall(head)
        dripped = head if self.mode == "headers" else b"{" + b" " * 99_999
        give_up = time.monotonic() + SERVER_GIVES_UP
        for byte in dripped:
            if time.monotonic() > give_up:
                return
            connection.sendall(bytes([byte]))
            time.sleep(DRIP_EVERY)

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in _serve
        self.sock.close()
        for thread in self.threads:
            thread.join(SERVER_GIVES_UP + 5)


@pytest.fixture
def loopback_https(monkeypatch):
    """The test-only allowance: 127.0.0.1 counts as public and the drip server's certificate is
    trusted; the deadline is DEADLINE. Everything else is the production fetch."""
    monkeypatch.setattr(guarded_http, "is_public_ip",
                        lambda ip: ip == ipaddress.ip_address("127.0.0.1"))
    monkeypatch.setattr(guarded_http, "DEADLINE_SECONDS", DEADLINE)
    servers = []

    def start(tmp_path, mode: str) -> DripServer:
        server = DripServer(tmp_path, mode)
        monkeypatch.setattr(guarded_http, "tls_context",
                            partial(guarded_http.tls_context, server.cert))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("mode", ["body", "headers", "silent", "no_tls"])
def test_a_slow_drip_server_is_given_up_at_the_deadline_with_a_named_error(
        loopback_https, tmp_path, mode):
    server = loopback_https(tmp_path, mode)
    url = f"https://127.0.0.1:{server.port}/.well-known/did.json"

    with pytest.raises(FetchError) as failed:
        guarded_http.fetch(url, accept="application/json", max_bytes=200_000)

    assert failed.value.code == "fetch_timeout"
    assert f"did not answer within the {DEADLINE:g} s deadline" in failed.value.detail
    assert server.hung_up.wait(SERVER_GIVES_UP / 2), "the client never hung up"


@pytest.mark.django_db
def test_verify_names_the_deadline_of_a_did_web_issuer_that_drips(client, loopback_https,
                                                                   tmp_path):
    server = loopback_https(tmp_path, "body")
    did = f"did:web:127.0.0.1%3A{server.port}"
    credential = credential_of(foreign_signer(f"{did}#key-1"))

    verdict = client.post("/api/v1/verify/", credential,
                          content_type="application/vc+jwt").json()

    assert verdict["verified"] is False
    assert "deadline" in failed_checks(verdict)["proof"]


def signer_of_did_key() -> LocalSigner:
    key = LocalSigner.generate()
    return LocalSigner(key._key, did_key_verification_method(did_key_for(key.public_key())))


@pytest.mark.django_db
def test_verify_names_the_deadline_of_a_status_list_that_drips(client, loopback_https,
                                                                tmp_path):
    server = loopback_https(tmp_path, "headers")
    credential = credential_of(signer_of_did_key(), credentialStatus={
        "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": f"https://127.0.0.1:{server.port}/status/1"})

    verdict = client.post("/api/v1/verify/", {"credential": credential},
                          content_type="application/json").json()

    assert verdict["verified"] is False
    assert "deadline" in failed_checks(verdict)["status"]


@pytest.mark.django_db
def test_a_presentation_of_many_dripping_issuers_is_cut_off_by_one_budget(
        client, loopback_https, tmp_path, monkeypatch):
    monkeypatch.setattr(guarded_http, "BUDGET_SECONDS", 2.5 * DEADLINE)
    server = loopback_https(tmp_path, "body")
    did = f"did:web:127.0.0.1%3A{server.port}"
    inner = [credential_of(foreign_signer(f"{did}:orgs:o{n}#key-1")) for n in range(8)]
    presentation = get_suite("vp+jwt").secure(
        {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
         "verifiableCredential": inner}, signer_of_did_key(), challenge="c-1",
        domain="verifier.example")

    verdict = client.post("/api/v1/verify/", {"presentation": presentation, "challenge": "c-1",
                                              "domain": "verifier.example"},
                          content_type="application/json").json()

    assert verdict["verified"] is False
    details = [failed_checks(one).get("proof", "") for one in verdict["credentials"]]
    assert len(details) == 8 and all("deadline" in d or "budget" in d for d in details)
    assert "fetching budget of a verification is spent" in details[-1]
    assert server.accepted < 8  # the fetches after the budget was spent never connected


# --- posting (pushes to back-up providers) -----------------------------------------------------

@pytest.mark.parametrize("url", ["http://dpp.example-backup.eu/replication/v1/push",
                                 "https://user:pw@dpp.example-backup.eu/push",
                                 "https://127.0.0.1:9/push", "https://[::ffff:10.0.0.1]/push",
                                 "https://localhost:9/push"])
def test_a_post_goes_over_https_to_public_addresses_only(url, monkeypatch):
    def no_connection(*args, **kwargs):
        raise AssertionError("a refused post must not connect")

    monkeypatch.setattr(socket, "create_connection", no_connection)

    with pytest.raises(FetchError) as refused:
        guarded_http.post(url, b"{}", headers={}, seconds=1)

    assert refused.value.code == "fetch_refused"


def test_a_post_to_an_allowed_test_address_reaches_it_and_reads_the_answer(tmp_path):
    cert, key = loopback_certificate(tmp_path, "backup", "Test backup")
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context(cert, key).wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        status, answer = guarded_http.post(
            f"https://127.0.0.1:{server.server_port}/push", b'{"a":1}', headers={},
            seconds=5, also_allowed=frozenset({"127.0.0.1"}), cafile=cert)
    finally:
        server.server_close()

    assert (status, answer, received) == (200, b"ok", [b'{"a":1}'])
