"""Every failure chatcli knows about, and the exit code each one maps to.

Core modules raise these with facts attached (status, the server's own
message, the trace id); only ``cli.py`` turns them into a line on stderr.

    ChatcliError                 exit 1  (internal)
    ├── UsageError               exit 2  bad flags, missing or unreadable input
    ├── ConfigError              exit 3  config file, profile, api_key_cmd
    ├── Interrupted              exit 130 Ctrl-C (143 SIGTERM: Terminated; 129 SIGHUP: HungUp)
    ├── OutputClosed             exit 141 the reader closed stdout
    ├── OverBudget               exit 4  refused before sending: over a budget
    └── RequestError             facts about one HTTP request
        ├── RequestRejected      exit 4  4xx other than 429
        ├── ServerError          exit 5  5xx, or an error inside the stream
        │   └── StreamError              (error_bodies: carries the chunk's events)
        ├── RateLimited          exit 6  429 after retries
        ├── NetworkError         exit 7  refused, DNS, TLS, dropped mid-answer
        ├── RequestTimeout       exit 8  connect or read timeout
        └── ProtocolError        exit 9  not SSE/JSON, malformed chunk, truncated
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CONFIG = 3
    REJECTED = 4
    SERVER = 5
    RATE_LIMITED = 6
    NETWORK = 7
    TIMEOUT = 8
    PROTOCOL = 9
    HANGUP = 129
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    TERMINATED = 143


class ChatcliError(Exception):
    """Base of every error chatcli raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint  # a second line: what to try instead

    def describe(self) -> str:
        """The one line shown after ``chatcli: error:``."""
        return self.message


class UsageError(ChatcliError):
    exit_code = ExitCode.USAGE


class ConfigError(ChatcliError):
    exit_code = ExitCode.CONFIG


class OverBudget(ChatcliError):
    """Not sent: the request could cost more than a budget has left (exit 4, as a request
    the server would refuse)."""

    exit_code = ExitCode.REJECTED


class Interrupted(ChatcliError):
    exit_code = ExitCode.INTERRUPTED


class Terminated(Interrupted):
    exit_code = ExitCode.TERMINATED


class HungUp(Terminated):
    exit_code = ExitCode.HANGUP


class TerminateSignal(KeyboardInterrupt):
    """Raised by the SIGTERM handler: unwinds like Ctrl-C, so partial answers are kept."""


class HangupSignal(TerminateSignal):
    """Raised by the SIGHUP handler (the terminal closed): unwinds like SIGTERM."""


class OutputClosed(ChatcliError):
    exit_code = ExitCode.BROKEN_PIPE


class RequestError(ChatcliError):
    """A failure of one HTTP exchange; carries what identifies it."""

    exit_code = ExitCode.INTERNAL

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        trace_id: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.trace_id = trace_id
        self.request_id = request_id
        self.retry_after = retry_after
        # The request field the server blamed (an OpenAI error object's ``param``).
        self.param = param
        # What was tried, set by the client where it helps: "POST http://host/v1/…"
        # (credentials already removed), and how many attempts were made when retried.
        self.tried: str | None = None
        self.attempts: int | None = None

    def describe(self) -> str:
        head = f"HTTP {self.status}: " if self.status is not None else ""
        where = f" — {self.tried}" if self.tried else ""
        ids = [f"after {self.attempts} attempts"] if self.attempts and self.attempts > 1 else []
        if self.trace_id:
            ids.append(f"trace id {self.trace_id}")
        if self.request_id:
            ids.append(f"request id {self.request_id}")
        tail = f" ({', '.join(ids)})" if ids else ""
        return f"{head}{self.message}{where}{tail}"


class RequestRejected(RequestError):
    exit_code = ExitCode.REJECTED


class ServerError(RequestError):
    exit_code = ExitCode.SERVER


class RateLimited(RequestError):
    exit_code = ExitCode.RATE_LIMITED


class NetworkError(RequestError):
    exit_code = ExitCode.NETWORK


class RequestTimeout(RequestError):
    exit_code = ExitCode.TIMEOUT


class ProtocolError(RequestError):
    exit_code = ExitCode.PROTOCOL


def error_for_status(status: int) -> type[RequestError]:
    """The error class for an HTTP status that is not a success."""
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    return RequestRejected
