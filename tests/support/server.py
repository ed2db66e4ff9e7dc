"""Run the real server (waitress, signals, worker) for tests and benchmarks.

`python -m tests.support.server`: by default `generate` jobs run a test ticker (TICKS ticks,
TICK_INTERVAL apart) so tests control how long a job runs, and renders render; with RUNNERS=crash
they abort the process instead; with RUNNERS=real, the product's own job kinds run.
"""

import functools
import logging
import os
import sys

from moneyreels import default_runners
from moneyreels.cli import serve
from moneyreels.config import load_settings
from tests.support.runners import crasher, ticker

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    runners = None
    if os.environ.get("RUNNERS") == "crash":
        runners = {"generate": crasher}
    elif os.environ.get("RUNNERS") != "real":
        runner = functools.partial(
            ticker, ticks=int(os.environ.get("TICKS", "400")), interval=float(os.environ.get("TICK_INTERVAL", "0.02"))
        )
        runners = {**default_runners(), "generate": runner}
    sys.exit(serve(load_settings(), runners=runners))
