"""A fake provider HTTP API on 127.0.0.1, for any remote provider's tests.

    with FakeServer() as fake:
        fake.route("POST", "/v1/messages", handler)  # handler(Request) -> Reply | dict | list
        fake.script(Reply(500), Reply(429, headers={"Retry-After": "2"}))  # answered first, in order
        ...  # point the client at fake.url
        fake.requests  # every Request received, in order

A handler may assert on the request: the failure answers 500 and is raised again when
the server closes, so the test fails even when the client swallowed the 500.
"""

import http.server
import json
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # dict or list: sent as JSON; str or bytes: sent as is
    # Extra headers; None drops a default one (no Content-Length: the body ends when the connection closes).
    headers: dict[str, str | None] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering, to outlast a client's timeout

    def encoded(self) -> tuple[bytes, str]:
        """Return the body bytes and their default Content-Type."""
        if isinstance(self.body, (dict, list)):
            return json.dumps(self.body).encode(), "application/json"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return self.body, "application/octet-stream"


Handler = Callable[[Request], "Reply | dict | list"]


class FakeServer:
    """Answers each request with the next scripted Reply, else its route's handler, else 404."""

    def __init__(self):
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        # A client that timed out has hung up by the time a delayed reply is written: not a failure.
        self.server.handle_error = lambda request, address: None
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method.upper(), path)] = handler

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.pop(0)
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return Reply(404, {"error": {"message": f"no route for {request.method} {request.path}"}})
        try:
            reply = handler(request)
        except Exception as exc:  # noqa: BLE001 - surfaced again by __exit__
            self.errors.append(exc)
            return Reply(500, {"error": {"message": "".join(traceback.format_exception_only(exc))}})
        return reply if isinstance(reply, Reply) else Reply(200, reply)

    def _handler_class(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_one(self):
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                reply = fake.answer(Request(self.command, parts.path, parse_qs(parts.query), headers, body))
                if reply.delay and fake._closing.wait(reply.delay):
                    return
                content, content_type = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, "Content-Length": str(len(content)), **reply.headers}
                for name, value in headers.items():
                    if value is not None:
                        self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(content)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self):
        # A short poll interval keeps shutdown, and so each test's teardown, quick.
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, exc_type, *exc):
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()
        if self.errors and exc_type is None:
            raise self.errors[0]


class WebhookReceiver(FakeServer):
    """A fake that takes webhooks at POST /hooks with a 200; `hook_url` is where to send them."""

    def __init__(self):
        super().__init__()
        self.route("POST", "/hooks", lambda request: Reply(200))
        self.hook_url = self.url + "/hooks"
