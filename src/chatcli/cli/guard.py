"""The guard around every command's work: the two ways a person ends it early get names."""

from __future__ import annotations

from collections.abc import Callable

from chatcli.errors import (
    HangupSignal,
    HungUp,
    Interrupted,
    OutputClosed,
    Terminated,
    TerminateSignal,
)


def guarded(work: Callable[[], None]) -> None:
    """Run a command's work, naming the two ways a person ends it early."""
    try:
        work()
    except BrokenPipeError as exc:
        raise OutputClosed("stdout was closed") from exc
    except HangupSignal as exc:
        raise HungUp("the terminal closed") from exc
    except TerminateSignal as exc:
        raise Terminated("terminated") from exc
    except KeyboardInterrupt as exc:
        raise Interrupted("interrupted") from exc
