"""Exceptions that decide a trial's or a command's fate.

The study driver maps them: :class:`InfeasibleCandidate` prunes the trial with its reason
(cost: milliseconds), :class:`CandidateFailed` fails it with the traceback kept, and
:class:`FatalError` (bad config, missing tool, unwritable storage) stops the whole run with
one message. Every message names the problem and the fix.
"""

from __future__ import annotations


class QnasError(Exception):
    """Base of all qnas errors; ``str(err)`` is meant for the user as is."""


class FatalError(QnasError):
    """Stop the run: nothing further can succeed until the user fixes this."""


class ConfigError(FatalError, ValueError):
    """A configuration value is wrong; the message starts with the key path."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class DataError(FatalError, ValueError):
    """The dataset cannot be used (shapes, NaN/inf, labels, missing file)."""


class ToolNotFound(FatalError):
    """An external tool or optional dependency is missing; says how to install it."""


class ToolBroken(FatalError):
    """An external tool is installed but does not run (exit code, missing files): fix the install.

    Kept apart from :class:`ToolNotFound` on purpose: tests skip when a tool is absent, but a
    broken install must fail loudly rather than be skipped.
    """


class InfeasibleCandidate(QnasError):
    """The candidate cannot meet the budget or cannot be realised; prune it with ``reason``."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class CandidateFailed(QnasError):
    """Building or training this candidate broke; fail the trial, go on with the study."""


class UnsupportedSpec(InfeasibleCandidate, ValueError):
    """The implementation style cannot realise this spec (field named in the message)."""


def error_excerpt(exc: BaseException, limit: int = 600) -> str:
    """``Type: message`` cut to about ``limit`` characters for trial records and one-line errors.

    Long messages keep their head and their tail: tools put the command at the top and the
    reason they stopped at the bottom.
    """
    text = f"{type(exc).__name__}: {exc}".strip()
    if len(text) <= limit:
        return text
    half = max((limit - 5) // 2, 1)
    return text[:half] + "\n...\n" + text[-half:]
