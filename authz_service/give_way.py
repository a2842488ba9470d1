"""The decision-log writer hands its core back often (docs/decisions/054-the-writer-gives-way.md).

The writer process (log/server.py) stores the spool at nice 5. Once the kernel has picked a
task, it lets it run until its time slice ends, and it looks at that only at a timer tick (every
4 ms with HZ=250). A worker the writer displaced waited that long for its core, with a request
half answered. So the writer's long loops call `give_way()`: when the writer has held its core
for TURN_NS since it woke or last gave way, it calls sched_yield() and a waiting worker runs
first. The writer's share of the CPU is unchanged (the scheduler still owes it that time); only
each turn is shorter.

Only the writer turns this on (`enable`). Anywhere else (workers, the CLI, tests) `give_way()`
returns at once.
"""

import os
import time

TURN_NS = 250_000  # a quarter of a millisecond: ~10 entries stored, ~50 counted into the rollup

_on = False
_since = 0  # time.monotonic_ns() when this turn began


def enable() -> None:
    """This process is the log writer: its loops give way from now on."""
    global _on
    _on = True
    woke()


def woke() -> None:
    """The writer has just come back from waiting (its core was free for others): a turn starts."""
    global _since
    _since = time.monotonic_ns()


def give_way() -> None:
    """Yield the core when this turn has lasted TURN_NS (the writer only); cheap otherwise."""
    global _since
    if _on and time.monotonic_ns() - _since >= TURN_NS:
        os.sched_yield()
        _since = time.monotonic_ns()

