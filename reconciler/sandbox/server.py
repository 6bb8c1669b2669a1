"""The HTTP server and the `Sandbox` facade that tests and the `sandbox` command drive."""

from __future__ import annotations

import ipaddress
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

from reconciler.sandbox.admin import PREFIX, handle_admin
from reconciler.sandbox.backend import Backend, RecordedRequest
from reconciler.sandbox.faults import Faults
from reconciler.sandbox.registry import spec_for
from reconciler.sandbox.router import DEFAULT_ACCOUNT, Incoming, Reply, dispatch, json_reply
from reconciler.sandbox.wire import Response


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        super().__init__(address, _Handler)
        self.backend = backend

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-request (killed, interrupted) is normal here, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # without it every keep-alive request costs ~40 ms
    # Buffered: the status line, headers and body leave in one write (http.server flushes after each request),
    # as an API server sends a small answer, rather than as two segments the client must wait for in turn.
    wbufsize = 1 << 16

    def do_GET(self) -> None:
        self._serve()

    # HEAD and OPTIONS too: no route takes them, so they get the provider's own 405 with `Allow`, not
    # http.server's HTML 501.
    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the sandbox serves test suites, and request lines are recorded instead."""

    def handle_expect_100(self) -> bool:
        answered = super().handle_expect_100()
        self.wfile.flush()  # the interim 100 leaves now, unbuffered: the client waits for it to send the body
        return answered

    def _serve(self) -> None:
        backend = cast(_Server, self.server).backend
        body = self._body()
        if body is None:
            self.close_connection = True  # the framing is broken: the next request cannot be found
            self._write(json_reply(Response(400, {"error": "bad Content-Length or chunked body"})))
            return
        parts = urlsplit(self.path)
        incoming = Incoming(
            method=self.command,
            path=parts.path,
            query=parts.query,
            authorization=self.headers.get("Authorization"),
            body=body,
        )
        if parts.path.startswith(PREFIX):
            if not ipaddress.ip_address(self.client_address[0]).is_loopback:
                self._write(json_reply(Response(403, {"error": "the admin API answers loopback clients only"})))
                return
            self._write(handle_admin(backend, incoming))
            return
        reply = dispatch(backend, incoming)
        if reply is None:
            self.close_connection = True  # the drop fault: no status line at all
            return
        self._write(reply)

    def _body(self) -> bytes | None:
        """The request body, by Content-Length or chunked transfer coding (as real API servers accept)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(16)  # the CRLF after each chunk
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0:
            return None
        return self.rfile.read(length) if length else b""

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 204:  # a 204 carries no Content-Length
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":  # an answer to HEAD announces its body's length but never carries it
            self.wfile.write(reply.body)


class Sandbox:
    """Emulators of all five provider APIs on one loopback port. See reconciler/sandbox/__init__.py."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str = "sandbox-token") -> None:
        self.host, self.port = host, port
        self._backend = Backend(token)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        self._server = _Server((self.host, self.port), self._backend)
        self.port = self._server.server_address[1]
        # A short poll interval keeps stop() fast; an idle loop costs next to nothing.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Sandbox:
        return self if self.running else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- addresses --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def base_url(self, provider: str, account: str = DEFAULT_ACCOUNT) -> str:
        spec = spec_for(provider)
        prefix = "" if account == DEFAULT_ACCOUNT else f"/{account.strip('/')}"
        return f"{self.url}/{provider}{prefix}{spec.base_suffix}"

    # -- inspection -------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        return self._backend.requests()

    def clear_requests(self) -> None:
        self._backend.clear_requests()

    def webhooks(self, provider: str, account: str = DEFAULT_ACCOUNT) -> list[dict[str, Any]]:
        """The stored webhooks, secrets and signing keys included."""
        return self._backend.webhooks(provider, account)

    def secrets(self) -> set[str]:
        """Every secret issued or received since the last reset."""
        return self._backend.secrets()

    # -- control ----------------------------------------------------------------------------------
    def reset(self) -> None:
        self._backend.reset()

    def set_variant(self, provider: str, variant: str) -> None:
        self._backend.set_variant(provider, variant)

    def add_token(self, token: str, role: str = "admin") -> None:
        self._backend.add_token(token, role)

    def revoke_token(self, token: str) -> None:
        self._backend.revoke_token(token)

    def set_faults(self, faults: Faults, provider: str | None = None) -> None:
        self._backend.set_faults(faults, provider)

    def fail_deliveries(self, url_substring: str) -> None:
        self._backend.fail_deliveries(url_substring)

    def record_delivery(
        self, provider: str, account: str, webhook_id: str, status: str, event: str | None = None
    ) -> dict[str, Any]:
        return self._backend.record_delivery(provider, account, webhook_id, status, event)

    def patch_webhook(
        self, provider: str, webhook_id: str, fields: dict[str, Any], account: str = DEFAULT_ACCOUNT
    ) -> None:
        """Change a stored webhook behind the API's back (a console edit, Immuta's `suppressed`; a new `id`, as
        a hostile or broken server might answer with)."""
        self._backend.patch_webhook(provider, account, webhook_id, fields)
