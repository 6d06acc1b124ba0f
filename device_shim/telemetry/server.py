"""The HTTP server of serve: one thread per connection, bound to 127.0.0.1 only.

http.server.ThreadingHTTPServer needs Python 3.7, so the server is built
from socketserver.ThreadingMixIn and http.server.HTTPServer, which is what
ThreadingHTTPServer is.
"""

import http.server
import logging
import socketserver
import sys
import threading
import time
from urllib.parse import urlsplit

from device_shim import __version__
from device_shim.telemetry.inference import error_reply

log = logging.getLogger("device_shim.telemetry.server")

HOST = "127.0.0.1"
MAX_BODY_BYTES = 64 * 1024 * 1024
# An idle keep-alive connection is closed after this many seconds, so that
# clients that go away do not keep a thread each.
IDLE_TIMEOUT_S = 60


class InferenceServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The threading HTTP server; app is the InferenceApp that builds every reply."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, app):
        self.app = app
        http.server.HTTPServer.__init__(self, (HOST, port), Handler)

    def handle_error(self, request, client_address):
        # A client that closes its connection mid-reply is common and harmless,
        # but anything else is a bug worth a traceback in serve.log.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            log.debug("connection from %s:%s closed early: %s", client_address[0], client_address[1], error)
            return
        log.warning("connection from %s:%s ended with an error", client_address[0], client_address[1], exc_info=True)


class Handler(http.server.BaseHTTPRequestHandler):
    """Routes the requests of the HTTP API to the server's InferenceApp."""

    protocol_version = "HTTP/1.1"
    server_version = "edgetui-serve/" + __version__
    timeout = IDLE_TIMEOUT_S
    # The headers and the body go out in two writes. With Nagle's algorithm
    # the body waits for the client's delayed ACK of the headers, which added
    # about 40 ms to every keep-alive request on Linux loopback.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):
        app = self.server.app
        routes = {"/v1/health": app.health, "/v1/model": app.model_info, "/v1/metrics": app.metrics}
        route = routes.get(urlsplit(self.path).path)
        if route is None:
            self.send_reply(self.not_found())
            return
        self.send_reply(route())

    def do_POST(self):
        started = time.perf_counter()
        split = urlsplit(self.path)
        if split.path != "/v1/infer":
            self.close_connection = True
            self.send_reply(self.not_found())
            return
        length, rejection = self.body_length(started)
        if rejection is not None:
            self.close_connection = True
            self.send_reply(rejection)
            return
        body = self.rfile.read(length)
        if len(body) < length:
            log.info("client %s closed the connection after %d of %d body bytes",
                     self.address_string(), len(body), length)
            self.close_connection = True
            return
        self.send_reply(self.server.app.infer(self.headers.get("Content-Type"), split.query, body, started))

    def handle_expect_100(self):
        # A client that asks before it sends a body learns of 413 before it sends 64 MB.
        if self.command == "POST":
            _, rejection = self.body_length(time.perf_counter())
            if rejection is not None:
                self.close_connection = True
                self.send_reply(rejection)
                return False
        return http.server.BaseHTTPRequestHandler.handle_expect_100(self)

    def body_length(self, started):
        """Return (Content-Length, None), or (None, the reply that rejects the request)."""
        app = self.server.app
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return None, app.reject(411, "bad_input", "chunked bodies are not supported; send Content-Length", started)
        try:
            length = int(self.headers.get("Content-Length"))
        except (TypeError, ValueError):
            return None, app.reject(411, "bad_input", "the request has no valid Content-Length header", started)
        if length < 0:
            return None, app.reject(400, "bad_input", "Content-Length must not be negative", started)
        if length > MAX_BODY_BYTES:
            message = "the body has {} bytes, more than the {} bytes serve accepts; send a smaller batch".format(
                length, MAX_BODY_BYTES
            )
            return None, app.reject(413, "too_large", message, started)
        return length, None

    def not_found(self):
        return error_reply(404, "not_found", "{} {} is not part of the API; see /v1/health, /v1/model, "
                                             "/v1/infer, /v1/metrics".format(self.command, urlsplit(self.path).path))

    def send_reply(self, reply):
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in sorted(reply.headers.items()):
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply.body)


def start_server(port, app):
    """Bind 127.0.0.1:port (0 = chosen by the OS) and serve in a daemon thread; return the server.

    Raises OSError when the port cannot be bound.
    """
    server = InferenceServer(port, app)
    thread = threading.Thread(target=server.serve_forever, name="serve-http")
    thread.daemon = True
    thread.start()
    log.info("listening on %s:%d", HOST, server.server_address[1])
    return server


def stop_server(server):
    """Stop accepting requests and close the listening socket; requests in progress end with the process."""
    server.shutdown()
    server.server_close()
    log.info("stopped listening on %s:%d", HOST, server.server_address[1])
