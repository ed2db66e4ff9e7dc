"""Tell a crash from a kill: a process that dies of a fatal signal leaves a report named after it.

faulthandler writes the Python tracebacks of a SIGSEGV, SIGABRT, SIGBUS, SIGILL or SIGFPE into
the process's report file; a SIGKILL, a power cut or a clean exit leave it empty. Recovery reads
the report of the process that held an expired lease, so a job that crashed its worker is not
run into the same crash again, while a job whose server was merely killed runs again.
"""

import faulthandler
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = "crashes"
REPORT_CHARS = 2000


def report_path(data_dir, host, pid) -> Path:
    return Path(data_dir) / FOLDER / f"{host}-{pid}.log"


def watch(data_dir):
    """Write this process's fatal-signal report into its file from now on; return the open file."""
    path = report_path(data_dir, socket.gethostname(), os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    report = open(path, "w")  # noqa: SIM115 - faulthandler needs it open for the process's lifetime
    faulthandler.enable(report, all_threads=True)
    return report


def report_of(data_dir, lease_owner) -> str | None:
    """The crash report of the process named in a job's lease owner (host:pid:...), or None."""
    host, _, rest = (lease_owner or "").partition(":")
    pid = rest.partition(":")[0]
    if not pid.isdigit():
        return None
    try:
        text = report_path(data_dir, host, pid).read_text(errors="replace")
    except OSError:
        return None
    return text.strip()[:REPORT_CHARS] or None


def sweep(data_dir, lease_owners=()):
    """Remove the reports of this host's processes that no longer run and hold no lease.

    A report named in a running job's lease stays until recovery reads it, when the lease expires.
    """
    folder = Path(data_dir) / FOLDER
    prefix = f"{socket.gethostname()}-"
    kept = {report_path(data_dir, *owner.split(":")[:2]) for owner in lease_owners if owner and owner.count(":") >= 1}
    for path in folder.glob(f"{prefix}*.log") if folder.is_dir() else ():
        pid = path.stem.removeprefix(prefix)
        if path in kept:
            continue
        if pid.isdigit() and int(pid) != os.getpid() and not running(int(pid)):
            path.unlink(missing_ok=True)


def running(pid) -> bool:
    """Whether a process with this id runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
