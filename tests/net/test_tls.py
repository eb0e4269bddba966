"""TLS through the guard: the connection goes to the checked address, the handshake still
names the original host (SNI), so certificates are checked against the name, not the IP."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpract.net import Outbound, OutboundFailedError


class TLSListener:
    """Accepts TLS connections on 127.0.0.1 and records the server name each client sent."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.names: list[str | None] = []
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.sni_callback = lambda _sock, name, _ctx: self.names.append(name)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                with self.context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refuses our self-signed certificate, as it should

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[TLSListener]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1",
         "-subj", "/CN=help.intranet", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = TLSListener(cert, key)
    yield server
    server.close()


class Loopback:
    async def resolve(self, host: str, port: int) -> list[str]:
        return ["127.0.0.1"]


async def test_the_handshake_names_the_original_host(listener: TLSListener) -> None:
    outbound = Outbound(allow=["help.intranet"], resolver=Loopback())
    with pytest.raises(OutboundFailedError, match="CERTIFICATE_VERIFY_FAILED"):
        await outbound.fetch("GET", f"https://help.intranet:{listener.port}/")
    await outbound.aclose()
    assert listener.names == ["help.intranet"]
