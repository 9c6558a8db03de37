"""The garbage collector of a long-running process (`serve`, `worker`). With CPython's defaults a
bulk body's parse (10,000 items: some 150,000 objects) runs the cyclic collector hundreds of
times, and its full collections walk every object the process holds, most of them the modules and
the app loaded at start-up: half of the API's CPU on a bulk submit, a quarter of the worker's on
a bulk task (py-spy --native). So once started, the process moves what it holds to the permanent
generation (never walked), and collects the youngest generation every 50,000 allocations instead
of 700. Cyclic garbage is still collected, in larger, rarer passes."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def settle() -> None:
    """Call once the process has loaded what it keeps (the app, the connectors, the engine)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
