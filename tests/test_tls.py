"""TLS: certificate checks on by default, --ca-bundle for private gateways, --insecure."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clirun import run_cli
from fakeapi import text_stream


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = text_stream(["over TLS"])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate; yields (base URL, cert)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/v1", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_unknown_certificate_is_a_tls_error(https: tuple[str, Path]) -> None:
    url, _ = https
    result = run_cli(["--base-url", url, "--retries", "0", "--no-history", "hi"])
    assert result.exit_code == 7
    assert result.stderr.startswith("chatcli: error: TLS error: ")
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr


def test_a_ca_bundle_makes_it_trusted(https: tuple[str, Path]) -> None:
    url, cert = https
    result = run_cli(["--base-url", url, "--ca-bundle", str(cert), "--no-history", "hi"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "over TLS\n", "")


def test_insecure_skips_the_check_with_a_warning(https: tuple[str, Path]) -> None:
    url, _ = https
    result = run_cli(["--base-url", url, "--insecure", "--no-history", "hi"])
    assert (result.exit_code, result.stdout) == (0, "over TLS\n")
    assert result.stderr.startswith("chatcli: warning: --insecure")


def test_the_repl_takes_the_same_tls_options(https: tuple[str, Path]) -> None:
    from chatcli.session.options import AskRequest
    from test_repl import out, repl

    url, cert = https
    request = AskRequest(prompt=[], flags={"base_url": url}, ca_bundle=str(cert),
                         history=False)
    _, env = repl(request, "hello\r")
    assert "over TLS" in out(env)
