"""The job kinds, by name. Each kind is one module that declares how its jobs are created
(`create`), run (`run(ctx)`, returning the result's path) and finished (`finished(job)`, called
inside the transaction that ends the job).

The worker runs jobs through `runners()`; whatever ends a job (the worker, a cancel, the
recovery of an expired lease) passes `finished` to the state machine.
"""

from . import generate, render

KINDS = {kind.KIND: kind for kind in (render, generate)}


def runners() -> dict:
    """The runner of each kind this build can run, by name."""
    return {name: kind.run for name, kind in KINDS.items()}


def finished(job):
    """Finish a job that just ended, as its kind does; inside the transaction that ended it."""
    kind = KINDS.get(job.kind)
    if kind is not None:
        kind.finished(job)
