"""Worker processes that exit when their parent dies, even by SIGKILL.

A ``ProcessPoolExecutor`` worker waits on a pipe whose write end it inherited
itself, so it never sees end-of-file when the parent is killed: without help it
runs on forever as an orphan. :func:`exit_with_parent` is a pool initializer
with two mechanisms:

- Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (see prctl(2)) makes the kernel
  kill the worker as soon as the parent goes (strictly: the parent *thread* that
  started it, which for ``process_pool`` is the thread waiting on the pool);
- everywhere: a daemon thread that polls ``os.getppid()`` and exits the worker
  once it changes (the worker was re-parented because its parent died).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["exit_with_parent", "POLL_SECONDS"]

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.5
EXIT_CODE = 70  # what a worker exits with when it notices its parent is gone


def exit_with_parent(parent_pid: int, poll_seconds: float = POLL_SECONDS) -> None:
    """Make the calling (worker) process exit when ``parent_pid`` is no longer its parent."""
    _set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(EXIT_CODE)
    watchdog = threading.Thread(
        target=_watch_parent, args=(parent_pid, poll_seconds), name="parent-watchdog", daemon=True
    )
    watchdog.start()


def _set_parent_death_signal() -> bool:
    """Arm PR_SET_PDEATHSIG on Linux; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, poll_seconds: float) -> None:
    while True:
        time.sleep(poll_seconds)
        if os.getppid() != parent_pid:
            os._exit(EXIT_CODE)
