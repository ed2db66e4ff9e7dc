"""Start MoneyReels as a real subprocess on a free 127.0.0.1 port, for tests and benchmarks."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=60, interval=0.1):
    """Poll predicate() until it returns something true; return that, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """One `python -m tests.support.server` process and a tiny JSON client for it."""

    def __init__(self, root: Path, wrapper=(), command=("-m", "tests.support.server"), **env):
        self.root = root
        self.wrapper = list(wrapper)  # e.g. ["prlimit", "--fsize=..."] to start the server under limits
        self.command = list(command)  # after the interpreter: the test server, or ["app.py", "serve"]
        self.port = free_port()
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(root / "data"),
            "JOBS_DIR": str(root / "output"),
            "PYTHONPATH": str(ROOT),
            **{key: str(value) for key, value in env.items()},
        }
        self.process = None
        self.log_path = root / "server.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=20):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [*self.wrapper, sys.executable, *self.command], cwd=ROOT, env=self.env,
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self.request("GET", "/api/jobs/none")
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-2000:]}")

    def request(self, method, path, body=None, timeout=30):
        """Send JSON, return (status, parsed body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def exchange(self, method, path, body: bytes | None = None, headers=None, timeout=30):
        """Send raw bytes as a client would; return (status, headers, body bytes), errors included."""
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def sse(self, path, headers=None, timeout=60) -> list[tuple[str, dict]]:
        """Read a Server-Sent Events stream to its end as an EventSource would: [(event, data)], `retry`s too."""
        request = urllib.request.Request(self.url + path, headers={"Accept": "text/event-stream", **(headers or {})})
        received, fields = [], {}
        with urllib.request.urlopen(request, timeout=timeout) as response:
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith(":"):
                    continue
                if line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                    continue
                if "retry" in fields:
                    received.append(("retry", {"retry": int(fields["retry"])}))
                if "data" in fields:
                    received.append((fields.get("event", "message"), json.loads(fields["data"])))
                fields = {}
        return received

    def signal(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=20) -> int:
        return self.process.wait(timeout)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process:
            self.log.close()
