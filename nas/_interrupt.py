"""Ctrl-C that is never lost: remember it, so a swallowed KeyboardInterrupt still stops the run.

Python raises KeyboardInterrupt wherever the main thread happens to be; when that is a
weakref or ``__del__`` callback (SQLAlchemy runs many during every Optuna call), the
exception is printed as "ignored" and the run goes on. The handler here also records the
request, so the driver stops at the next trial boundary even if the exception was eaten.
"""

from __future__ import annotations

import signal
import threading


class CtrlC:
    """Context manager: while active, SIGINT raises KeyboardInterrupt and sets ``requested``.

    Installed only in the main thread and only over Python's default handler, so a caller
    that ignores SIGINT (a background job) or handles it itself keeps its behaviour.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        self.requested = True
        raise KeyboardInterrupt

    def __enter__(self) -> "CtrlC":
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed and its exception got lost."""
        if self.requested:
            raise KeyboardInterrupt
