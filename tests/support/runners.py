"""Job kinds for tests only: the product ships none of these."""

import os
import time


def ticker(ctx, ticks=400, interval=0.02):
    """Log a numbered tick until done, checking for cancellation between ticks."""
    for index in range(ticks):
        ctx.checkpoint()
        ctx.log(f"tick {index}", payload={"tick": index})
        time.sleep(interval)
    result = ctx.dir / "result.txt"
    result.parent.mkdir(parents=True, exist_ok=True)
    result.write_text("done")
    return result


def crasher(ctx):
    """Abort the whole process, as a C library does on a buffer overflow."""
    ctx.log("about to crash")
    os.abort()
