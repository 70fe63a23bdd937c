"""``chatcli batch``: many requests at once, each built as ``ask`` builds one.

Items (``batch_input``) run on ``-j`` worker threads that share one client and its
connection pool (``batch_work``), paced by ``batch_pace``; the main thread alone
reads the input, writes the results (``batch_output``), keeps the history and
shows progress (``batch_progress``). One failure never stops the batch: it is the
item's result, and the exit status at the end is the most severe of them.

Ctrl-C stops starting items and lets the running ones finish; a second one
cancels those too (their connections are closed). Either way, what finished is
written, marked done in the state file, and the batch exits 130.
"""

from __future__ import annotations

import os
import queue
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatcli.errors import ChatcliError, ExitCode, UsageError
from chatcli.session.batch_input import BatchItem, items_from_files, items_from_lines
from chatcli.session.batch_output import BatchOutput, StateFile
from chatcli.session.batch_progress import Progress, Tally, summary
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.http_failures import RetryNotice
    from chatcli.session.batch_pace import Pace
    from chatcli.session.batch_work import Done, Worker

# The order failures are ranked in when the batch ends: the first found wins.
SEVERITY = (ExitCode.INTERNAL, ExitCode.CONFIG, ExitCode.PROTOCOL, ExitCode.SERVER,
            ExitCode.NETWORK, ExitCode.TIMEOUT, ExitCode.RATE_LIMITED, ExitCode.REJECTED,
            ExitCode.USAGE)
STATE_NAME = ".chatcli-batch-state"


@dataclass
class BatchOptions:
    """What ``batch`` adds to the options ``ask`` takes."""

    input: str | None = None  # a file, or "-" (stdin)
    files: list[str] = field(default_factory=list)  # --files GLOB: one item per file
    concurrency: int = 4
    ordered: bool = False
    out_dir: str | None = None
    state: str | None = None
    rpm: int | None = None
    tpm: int | None = None
    budget: float | None = None
    quiet: bool = False
    history: bool = False


class BatchFailed(ChatcliError):
    """Some items failed; the exit status is the most severe of their failures."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = code


def run_batch(options: BatchOptions, base: AskRequest, env: Environment | None = None) -> None:
    env = env or Environment.from_process()
    items, total = _items(options, env)
    from chatcli.session.templates import resolve

    request, settings, _ = resolve(replace(base, prompt=["{{input}}"]), env)
    request = replace(request, prompt=[])
    Batch(options, base, request, settings, env).run(items, total)


class Batch:
    """One run: the workers, the output, the tally and the display."""

    def __init__(self, options: BatchOptions, base: AskRequest, request: AskRequest,
                 settings: Settings, env: Environment) -> None:
        self.options, self.base, self.request, self.settings = options, base, request, settings
        self.env = env
        self.tally = Tally()
        self.interrupted = 0
        self.budget_reached = False
        self.pace: Pace | None = None
        self._vars_lock = threading.Lock()
        self._resolved: dict[tuple[tuple[str, str], ...], tuple[AskRequest, Settings]] = {}

    def run(self, items: Iterator[BatchItem], total: int | None) -> None:
        from chatcli.session.batch_pace import Pace
        from chatcli.session.connect import open_client
        from chatcli.session.outgoing import SecretPolicy

        self.tally.total = total
        pace = self.pace = Pace(self.options.concurrency, rpm=self.options.rpm,
                                tpm=self.options.tpm)
        state = self._state()
        out_dir = Path(self.options.out_dir) if self.options.out_dir else None
        output = BatchOutput(self.env.stdout, ordered=self.options.ordered, out_dir=out_dir,
                             as_json=self.base.output == "json", state=state)
        policy = SecretPolicy(self.settings.secret_scan, self.base.allow_secrets,
                              self.base.redact_secrets, None)  # nobody to ask in a batch
        progress = Progress(self.env, quiet=self.options.quiet)
        started = progress.started
        try:
            with open_client(self.env, self.settings, headers=self.base.headers,
                             verbose=self.base.verbose, ca_bundle=self.base.ca_bundle,
                             insecure=self.base.insecure, strict=self.base.strict_params,
                             thinking=self.base.thinking,
                             on_retry=lambda notice: _slow_down(pace, notice),
                             http2=_http2()) as client:
                from chatcli.session.batch_work import Worker

                worker = Worker(self.request, self.settings, client, pace, self.env, policy,
                                self._with_vars)
                recorder = self._history()
                self._loop(items, worker, output, state, progress, recorder)
        finally:
            progress.close()
            if state is not None:
                state.close()
        self._finish(progress.clock() - started)

    def _loop(self, items: Iterator[BatchItem], worker: Worker, output: BatchOutput,
              state: StateFile | None, progress: Progress, history: Any) -> None:
        """Feed the workers (never more than twice ``-j`` ahead of them), and take in
        what they finish, until the input ends, Ctrl-C, or the budget."""
        pool = _Pool(self.options.concurrency, worker.run)
        acted_on = 0  # the Ctrl-Cs acted on so far
        stopping = False
        source = iter(items)
        with _interrupts(self):
            while True:
                if self.interrupted > acted_on:
                    acted_on = self.interrupted
                    stopping = True
                    worker.pace.stop()
                    if acted_on > 1:
                        worker.cancel()  # answers being received are cut off: not done
                        self.tally.not_started += pool.pending
                        break  # and those still waiting are left behind
                    self.env.warn("interrupted: no new items are started; the running ones"
                                  " finish (Ctrl-C again to stop them)")
                while not stopping and pool.pending < 2 * self.options.concurrency:
                    item = next(source, None)
                    if item is None:
                        stopping = True
                        self.tally.total = self.tally.total or (
                            self.tally.done + pool.pending + self.tally.not_started)
                        break
                    if state is not None and item.key in state.done:
                        self.tally.skipped += 1
                        output.put(item.index, None)
                        continue
                    if self._over_budget():
                        self.budget_reached = stopping = True
                        worker.pace.stop()
                        self.tally.not_started += 1 + sum(1 for _ in source)
                        break
                    pool.submit(item)
                if not pool.pending:
                    break
                done = pool.next_done(timeout=0.2)
                if done is not None:
                    self._put(done, output, history)
                progress.show(self.tally, worker.pace.running, worker.pace.limit)
        pool.close()
        output.flush_rest()

    def _put(self, done: Done, output: BatchOutput, history: Any) -> None:
        """A finished item counted, kept in the history if asked, and written."""
        from chatcli.session.batch_records import record_of

        self._count(done)
        record = record_of(done, self.base.output == "json", self._cost(done))
        if record is not None and history is not None:
            history(done)
        output.put(done.item.index, record, done.item.key)
        if record is not None and record["status"] != "ok" and self.options.out_dir:
            self.env.warn(f"item {done.item.id}: {record['error']['message']}")

    def _count(self, done: Done) -> None:
        if not done.started:
            self.tally.not_started += 1
        elif done.error is None:
            self.tally.ok += 1
        else:
            self.tally.failed += 1
            self.tally.codes.append(int(done.error.exit_code))
        if done.result is not None:
            from chatcli.session.batch_work import answer_tokens

            self.tally.tokens += answer_tokens(done.result.completion.get("usage"))

    def _cost(self, done: Done) -> float | None:
        if done.result is None:
            return None
        from chatcli.session.cost import cost_of
        from chatcli.session.known_model import known_model

        model = str((done.body or {}).get("model") or self.settings.model)
        known = known_model(self.settings, model, client=None, need=("price_input",))
        cost = cost_of(done.result.completion.get("usage"), known.facts)
        if cost is not None:
            self.tally.cost += cost.total
            self.tally.priced = True
        return cost.total if cost is not None else None

    def _over_budget(self) -> bool:
        return self.options.budget is not None and self.tally.cost >= self.options.budget

    def _with_vars(self, values: dict[str, str]) -> tuple[AskRequest, Settings]:
        """The base request with an item's template variables (the template read once per
        set of values)."""
        key = tuple(sorted(values.items()))
        with self._vars_lock:
            if key not in self._resolved:
                from chatcli.session.templates import resolve

                params = [*self.base.params, *values.items()]
                request, settings, _ = resolve(
                    replace(self.base, prompt=["{{input}}"], params=params), self.env)
                self._resolved[key] = (replace(request, prompt=[]), settings)
            return self._resolved[key]

    def _state(self) -> StateFile | None:
        path = _state_path(self.options, self.env)
        if path is None:
            return None
        state = StateFile(path)
        output = _stdout_file(self.env)
        if state.done and output is not None and output.stat().st_size == 0:
            self.env.warn(f"{output} is empty, so the items {path} says are done are run"
                          " again (append with >> to resume)")
            state.done = set()
        return state

    def _history(self) -> Any:
        if not self.options.history:
            return None
        from chatcli.session.batch_records import history_keeper

        return history_keeper(self.settings, self.env)

    def _finish(self, elapsed: float) -> None:
        line = summary(self.tally, elapsed)
        if self.interrupted:
            from chatcli.errors import Interrupted

            raise Interrupted(f"interrupted: {line}")
        if self.budget_reached and self.tally.not_started:
            raise BatchFailed(f"--budget ${self.options.budget:g} reached: {line}",
                              ExitCode.REJECTED)
        if self.tally.failed:
            code = next((c for c in SEVERITY if c in self.tally.codes), ExitCode.INTERNAL)
            raise BatchFailed(line, code)
        if not self.options.quiet:
            self.env.log(f"chatcli: batch: {line}")


class _Pool:
    """Worker threads taking items from a queue. They are daemon threads, so a second
    Ctrl-C need not wait for an answer the server is still holding back."""

    def __init__(self, size: int, run: Callable[[BatchItem], Done]) -> None:
        self._jobs: queue.SimpleQueue[BatchItem | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[Done] = queue.SimpleQueue()
        self.pending = 0  # submitted, not yet taken back
        self._threads = [threading.Thread(target=self._work, args=(run,), daemon=True,
                                          name=f"batch-{n}") for n in range(size)]
        for thread in self._threads:
            thread.start()

    def _work(self, run: Callable[[BatchItem], Done]) -> None:
        while (item := self._jobs.get()) is not None:
            self._done.put(run(item))

    def submit(self, item: BatchItem) -> None:
        self.pending += 1
        self._jobs.put(item)

    def next_done(self, timeout: float) -> Done | None:
        try:
            done = self._done.get(timeout=timeout)
        except queue.Empty:
            return None
        self.pending -= 1
        return done

    def close(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)


@contextmanager
def _interrupts(batch: Batch) -> Iterator[None]:
    """Ctrl-C counted, not raised, while the batch runs: the loop acts on it between
    items, so an interrupt never lands halfway through writing one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def count(signum: int, frame: Any) -> None:
        batch.interrupted += 1
        if batch.pace is not None:
            batch.pace.stop()  # at once: a worker may be about to start the next item
    previous = signal.signal(signal.SIGINT, count)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _http2() -> bool:
    """HTTP/2 when h2 is installed (``chatcli[http2]``): the batch's requests share one
    connection where an ``https://`` server offers it; HTTP/1.1 otherwise."""
    import importlib.util

    return importlib.util.find_spec("h2") is not None


def _slow_down(pace: Any, notice: RetryNotice) -> None:
    """A retry the client is about to make: after a 429, everyone waits as long."""
    if getattr(notice.error, "status", None) == 429:
        pace.rate_limited(notice.delay)


def _items(options: BatchOptions, env: Environment) -> tuple[Iterator[BatchItem], int | None]:
    """The items and, when it is known before reading them all, how many there are."""
    if options.files:
        if options.input is not None:
            raise UsageError("batch takes INPUT or --files, not both")
        from chatcli.session.batch_input import matching_files

        paths = matching_files(options.files)
        if not paths:
            raise UsageError(f"--files: no file matches {' '.join(options.files)}")
        return items_from_files(paths), len(paths)
    if options.input in (None, "-"):
        if options.input is None and env.stdin_is_terminal:
            raise UsageError("batch needs items: name an INPUT file, pipe them on stdin, or"
                             " use --files GLOB")
        return items_from_lines(env.stdin), None
    path = Path(options.input)
    try:
        handle = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc

    def lines() -> Iterator[str]:
        with handle:
            yield from handle
    return items_from_lines(lines()), None


def _state_path(options: BatchOptions, env: Environment) -> Path | None:
    """``--state``, else beside the output: in ``--out-dir``, or beside a file on stdout."""
    if options.state is not None:
        return Path(options.state)
    if options.out_dir is not None:
        return Path(options.out_dir) / STATE_NAME
    output = _stdout_file(env)
    return output.with_name(output.name + ".state") if output is not None else None


def _stdout_file(env: Environment) -> Path | None:
    """The regular file stdout goes to, if it is one (Linux names it in /proc)."""
    try:
        descriptor = env.stdout.fileno()
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return Path(os.readlink(f"/proc/self/fd/{descriptor}"))
    except (OSError, AttributeError, ValueError):
        return None
