"""Run the real server (waitress, signals, worker) with a test runner for `generate` jobs.

Used by tests that start MoneyReels as a subprocess: `python -m tests.support.server`.
TICKS and TICK_INTERVAL set how long each job runs.
"""

import functools
import logging
import os
import sys

from moneyreels.cli import serve
from moneyreels.config import load_settings
from tests.support.runners import ticker

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    runner = functools.partial(
        ticker, ticks=int(os.environ.get("TICKS", "400")), interval=float(os.environ.get("TICK_INTERVAL", "0.02"))
    )
    sys.exit(serve(load_settings(), runners={"generate": runner}))
