"""The command line: `serve` (default), `worker`, and `render MANIFEST -o OUT`."""

import argparse
import logging
import signal
import sys
import threading

from . import create_app, default_runners
from .config import ConfigurationError, load_settings
from .worker import WorkerPool

log = logging.getLogger("moneyreels")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="app.py", description="MoneyReels: a self-hosted reel factory.")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the page and the APIs, and run the worker (default)")
    commands.add_parser("worker", help="run only the worker, beside a `serve` started with WORKERS=0")
    return parser.parse_args(argv)


def on_signals(handler):
    """Call handler() on SIGINT and SIGTERM."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: handler())


def serve(settings, runners=None):
    """Serve with waitress until SIGINT/SIGTERM, then stop the workers gracefully."""
    from waitress.server import create_server

    app = create_app(settings)
    pool = WorkerPool(settings, default_runners() if runners is None else runners).start()
    server = create_server(app, host=settings.host, port=settings.port, threads=settings.threads)

    def shutdown():
        log.info("stopping: no new jobs are claimed; running ones requeue at their next checkpoint")
        pool.stopping.set()
        server.close()

    on_signals(shutdown)
    log.info("MoneyReels on http://%s:%s (%d worker(s))", settings.host, server.effective_port, settings.workers)
    try:
        server.run()
    except OSError:
        # server.close() from the signal handler ends the loop with a closed socket.
        if not pool.stopping.is_set():
            raise
    finally:
        pool.stop()
        server.task_dispatcher.shutdown()
    return 0


def work(settings):
    """Run the worker threads alone until SIGINT/SIGTERM."""
    create_app(settings)
    pool = WorkerPool(settings, default_runners()).start()
    done = threading.Event()
    on_signals(done.set)
    while not done.wait(1.0):
        pass
    pool.stop()
    return 0


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = args.command or "serve"
    if command == "worker":
        return work(settings)
    return serve(settings)
