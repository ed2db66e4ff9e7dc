"""The command line: `serve` (default), `worker [--concurrency N]`, `migrate`, and `render MANIFEST -o OUT`."""

import argparse
import errno
import json
import logging
import multiprocessing
import multiprocessing.connection
import signal
import sys
import tempfile
import threading
from pathlib import Path

from pydantic import ValidationError

from . import crashes, create_app, db, events
from .api.inputs import field_errors
from .api.unknown_keys import unknown_keys
from .config import ConfigurationError, load_settings
from .errors import JobCancelled, RenderError
from .render import fonts
from .settings_help import RENDER_HELP, settings_help
from .worker import WorkerPool

log = logging.getLogger("moneyreels")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_CONCURRENCY = 64
# Seconds before a worker process that died is started again.
RESTART_PAUSE = 1.0
# Seconds the worker processes get to reach a checkpoint after SIGTERM before they are killed.
STOP_SECONDS = 30.0


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="app.py", description="MoneyReels: a self-hosted reel factory.")
    commands = parser.add_subparsers(dest="command")
    table = {"epilog": settings_help(), "formatter_class": argparse.RawDescriptionHelpFormatter}
    commands.add_parser("serve", help="serve the page and the APIs, and run the worker (default)", **table)
    worker = commands.add_parser("worker", help="run only workers, beside `serve` processes started with WORKERS=0",
                                 **table)
    worker.add_argument("--concurrency", type=concurrency, default=1, metavar="N",
                        help="worker processes to run, each with WORKERS job threads (default 1); "
                             "one that dies is started again")
    commands.add_parser("migrate", help="create or update the database's tables (DATABASE_URL), then exit", **table)
    render = commands.add_parser("render", help="render a Reel Forge manifest (JSON file) to an MP4",
                                 epilog=RENDER_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    render.add_argument("manifest", type=Path, help="the manifest JSON file")
    render.add_argument("-o", "--output", type=Path, required=True,
                        help="the MP4 to write, or the GIF or MP3 its output.format names "
                             "(its folder must exist; a poster goes beside it as .jpg)")
    render.add_argument("--strict", action="store_true", help="treat unknown manifest keys as errors")
    return parser.parse_args(argv)


def concurrency(text) -> int:
    """--concurrency: a whole number of processes from 1 to MAX_CONCURRENCY."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_CONCURRENCY}, got {text!r}")
    return int(text)


def on_signals(handler):
    """Call handler() on SIGINT and SIGTERM."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: handler())


def serve(settings, runners=None):
    """Serve with waitress until SIGINT/SIGTERM, then stop the workers gracefully."""
    from .serving import make_server

    app = create_app(settings)
    try:
        server = make_server(app, settings)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"error: port {settings.port} on {settings.host} is already in use; "
              f"set PORT to a free port (for example PORT={settings.port + 1})", file=sys.stderr)
        return 2
    pool = WorkerPool(settings, runners).start()
    crashes.watch(settings.data_dir)  # after recovery has read the reports of dead processes
    app.extensions["moneyreels.pool"] = pool

    def shutdown():
        if pool.stopping.is_set():
            return  # a second signal while the workers finish changes nothing
        log.info("stopping: no new jobs are claimed; running ones requeue at their next checkpoint")
        pool.stopping.set()
        events.shut_down()
        server.close()
        # waitress polls its sockets: a closed listener does not end its loop while keep-alive
        # connections stay open. SystemExit ends it, as waitress's own Ctrl+C handling does.
        raise SystemExit

    on_signals(shutdown)
    log.info("MoneyReels on http://%s:%s (%d worker(s))", settings.host, server.effective_port, settings.workers)
    try:
        server.run()
    finally:
        pool.stop()
        server.task_dispatcher.shutdown()
    return 0


def work(settings):
    """Run the worker threads alone until SIGINT/SIGTERM."""
    done = threading.Event()
    on_signals(done.set)  # before any job runs: a signal during start-up still stops gracefully
    db.open_store(settings)
    pool = WorkerPool(settings).start()
    crashes.watch(settings.data_dir)
    while not done.wait(1.0):
        pass
    pool.stop()
    return 0


def work_in_child(settings):
    """A worker process's entry point under `--concurrency` (a fresh interpreter: set it up as main() does)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    fonts.use_folder(settings.fonts_dir)
    threading.Thread(target=stop_with_parent, name="parent-watch", daemon=True).start()
    sys.exit(work(settings))


def stop_with_parent():
    """Stop this worker gracefully when its supervisor dies, even of SIGKILL, so none runs unsupervised."""
    multiprocessing.connection.wait([multiprocessing.parent_process().sentinel])
    log.warning("the supervising process ended; stopping")
    signal.raise_signal(signal.SIGTERM)


def supervise(settings, count) -> int:
    """Run `count` worker processes until SIGINT/SIGTERM, starting again any that dies; then stop them all.

    Processes, not threads: a job's Python side (text drawn with Pillow, the pipeline's stages)
    holds the GIL, so only processes use every core; and a native crash takes down only its own
    process, so the crash report names its one job. Each process is a `worker` of its own: its
    rows in the health roster, its leases, its webhook dispatcher.
    """
    done = threading.Event()
    on_signals(done.set)
    spawn = multiprocessing.get_context("spawn")  # no forked copies of this process's threads and connections
    children = {}

    def start(slot):
        child = spawn.Process(target=work_in_child, args=(settings,), name=f"worker-{slot + 1}")
        child.start()
        children[slot] = child
        log.info("worker process %d started (pid %d)", slot + 1, child.pid)

    for slot in range(count):
        start(slot)
    while not done.is_set():
        multiprocessing.connection.wait([child.sentinel for child in children.values()], timeout=1.0)
        for slot, child in list(children.items()):
            if child.exitcode is not None and not done.is_set():
                log.warning("worker process %d (pid %d) exited with %s; starting another", slot + 1, child.pid,
                            child.exitcode)
                done.wait(RESTART_PAUSE)  # a process that cannot start must not spin
                if not done.is_set():
                    start(slot)
    for child in children.values():
        if child.exitcode is None:
            child.terminate()  # SIGTERM: stop claiming, requeue at the next checkpoint
    for child in children.values():
        child.join(STOP_SECONDS)
        if child.exitcode is None:
            child.kill()
            child.join()
    return 0


def migrate(settings):
    """Create the tables, or add what an older version's database lacks, and exit."""
    db.open_store(settings)
    db.database.close()
    log.info("the tables of the %s are up to date", db.describe(settings.connection_url))
    return 0


class ProgressBar:
    """A one-line bar on a terminal; a line every 10% elsewhere."""

    def __init__(self, stream=sys.stderr, width=30):
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.last_decile = -1

    def __call__(self, fraction, message=""):
        percent = int(fraction * 100)
        if self.tty:
            filled = int(fraction * self.width)
            self.stream.write(f"\r[{'#' * filled}{'-' * (self.width - filled)}] {percent:3d}% {message:<20}")
            if fraction >= 1:
                self.stream.write("\n")
        elif percent // 10 > self.last_decile:
            self.last_decile = percent // 10
            self.stream.write(f"{percent:3d}% {message}\n")
        self.stream.flush()


def say_problem(problem: dict) -> None:
    """Print one field problem as `error: field: message`, without the API's `(body)` placeholder."""
    where = "" if problem["field"] == "(body)" else f"{problem['field']}: "
    print(f"error: {where}{problem['message']}", file=sys.stderr)


def read_manifest(manifest_path: Path, strict: bool):
    """Return the validated Manifest, or None after printing why not. Unknown keys warn (fail if strict)."""
    from .manifest import Manifest

    try:
        data = json.loads(manifest_path.read_text())
        manifest = Manifest.model_validate(data)
    except OSError as exc:
        print(f"error: cannot read {manifest_path}: {exc.strerror}", file=sys.stderr)
        return None
    except ValueError as exc:
        problems = field_errors(exc) if isinstance(exc, ValidationError) else [{"field": "(body)", "message": str(exc)}]
        for problem in problems:
            say_problem(problem)
        return None
    unknown = unknown_keys(Manifest, data)
    for problem in unknown:
        print(f"{'error' if strict else 'warning'}: {problem['field']}: {problem['message']}", file=sys.stderr)
    if unknown and strict:
        return None
    return manifest


def say_render_error(exc: RenderError, settings) -> None:
    """Print a render failure in the command line's terms: the paths tried, not the API's error code."""
    print(f"\nerror: {exc.message}", file=sys.stderr)
    tried = exc.details.get("tried")
    if tried:
        print(f"  tried: {', '.join(tried)}", file=sys.stderr)
        print(f"  MEDIA_DIR is {Path(settings.media_dir).resolve()}", file=sys.stderr)
    for line in exc.details.get("stderr", [])[-5:]:
        print(f"  {line}", file=sys.stderr)


def render_file(settings, manifest_path: Path, output: Path, strict: bool = False) -> int:
    """Render one manifest file; local assets resolve against MEDIA_DIR and the manifest's folder."""
    from .render.job import options
    from .render import render

    folder = output.parent.resolve()
    if not folder.is_dir():
        print(f"error: the output folder {folder} does not exist", file=sys.stderr)
        return 2
    manifest = read_manifest(manifest_path, strict)
    if manifest is None:
        return 2

    cancelled = threading.Event()
    on_signals(cancelled.set)

    def checkpoint():
        if cancelled.is_set():
            raise JobCancelled("interrupted")

    with tempfile.TemporaryDirectory(prefix="moneyreels-") as scratch:
        render_options = options(settings, Path(scratch))
        render_options.media_dirs.append(manifest_path.resolve().parent)
        render_options.work_dir.mkdir()
        try:
            result = render(manifest, output, render_options, on_progress=ProgressBar(), checkpoint=checkpoint)
        except RenderError as exc:
            say_render_error(exc, settings)
            return 1
        except JobCancelled:
            print("\ninterrupted; nothing was written", file=sys.stderr)
            return 130
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{output} ({result.width}x{result.height}, {result.fps:g} fps, {result.duration_seconds:.2f} s)")
    return 0


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # The render command draws a progress bar: only warnings may interrupt it.
    level = logging.WARNING if args.command == "render" else logging.INFO
    logging.basicConfig(level=level, format=LOG_FORMAT)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    fonts.use_folder(settings.fonts_dir)
    command = args.command or "serve"
    if command == "render":
        return render_file(settings, args.manifest, args.output, args.strict)
    if command == "worker":
        return work(settings) if args.concurrency == 1 else supervise(settings, args.concurrency)
    if command == "migrate":
        return migrate(settings)
    return serve(settings)
