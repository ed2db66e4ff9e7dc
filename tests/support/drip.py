"""A hostile media server on 127.0.0.1 that sends its body one byte at a time, and notes who hung up.

    with Drip(interval=0.2, total=150) as drip:
        drip.url  # GET it: 200 video/mp4 headers at once, then a byte every interval
        drip.wait_for_request()
        drip.wait_for_hang_up()  # True once a client closed its connection before the body ended
        drip.cancel_once_requested()  # a job checkpoint that cancels once the body was asked for
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moneyreels.errors import JobCancelled


class Drip:
    def __init__(self, interval=0.2, total=150, status=200, headers_too=False):
        self.interval, self.total, self.status = interval, total, status
        self.headers_too = headers_too  # drip a header line instead of the body
        self.requested = threading.Event()
        self.hung_up = threading.Event()
        self.finished = threading.Event()  # some client read the whole body
        self.stop = threading.Event()
        drip = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                drip.requested.set()
                self.send_response(drip.status)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(drip.total))
                if drip.headers_too:
                    self.wfile.write(b"".join(self._headers_buffer) + b"X-Drip: ")
                    self._headers_buffer = []
                else:
                    self.end_headers()
                try:
                    for _ in range(drip.total):
                        self.wfile.write(b"x" if drip.headers_too else b"\0")
                        self.wfile.flush()
                        if drip.stop.wait(drip.interval):
                            return
                    drip.finished.set()
                except OSError:
                    drip.hung_up.set()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/drip.mp4"

    def cancel_once_requested(self):
        """A job checkpoint whose job is cancelled as soon as this server has been asked for its body."""

        def checkpoint():
            if self.requested.is_set():
                raise JobCancelled("Cancellation requested.")

        return checkpoint

    def wait_for_request(self, timeout=30) -> bool:
        return self.requested.wait(timeout)

    def wait_for_hang_up(self, timeout=10) -> bool:
        """Whether a client hung up (a write failed) within timeout seconds."""
        return self.hung_up.wait(timeout)

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
