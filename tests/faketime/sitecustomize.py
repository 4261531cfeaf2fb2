"""Python start-up hook for runs under libfaketime (scripts/test-at puts this directory on PYTHONPATH).

scripts/test-at shifts the wall clock only (DONT_FAKE_MONOTONIC=1; a faked monotonic clock hangs
every timed wait of condition variables, in heraldd and in Python alike). In that mode libfaketime
0.9.10 turns Python 3.11's time.sleep, clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME), into
EINVAL (libfaketime issue #426), so sleep here waits in select() with a relative timeout instead.
"""
import os
import select
import time

if os.environ.get("FAKETIME") and os.environ.get("DONT_FAKE_MONOTONIC") == "1":
    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while True:  # select may return early on a signal
            left = deadline - time.monotonic()
            if left <= 0:
                return
            select.select([], [], [], left)

    time.sleep = _sleep
