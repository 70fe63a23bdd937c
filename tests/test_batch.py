"""``chatcli batch``: items from lines or files, sent concurrently, one JSON line each;
failures are the item's, the exit status the most severe; a state file lets a rerun
skip what finished; 429s slow the whole batch down and every item still completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chatcli.session.batch_input import items_from_lines
from chatcli.session.batch_pace import Pace
from clirun import process_env, run_cli, write_config
from fakeapi import JSON, SSE, FakeAPI, Raw, Recorded, text_stream

USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def prompt_of(record: Recorded) -> str:
    return str(json.loads(record.body)["messages"][-1]["content"])


def echo(record: Recorded, in_flight: int) -> SSE:
    """Answers each prompt with "re: PROMPT"."""
    return SSE(text_stream([f"re: {prompt_of(record)}"], usage=USAGE))


def batch(fakeapi: FakeAPI, *args: str, stdin: str | None = None) -> Any:
    return run_cli(["batch", "--base-url", fakeapi.base_url, "-q", *args], stdin=stdin)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_each_line_is_an_item_and_each_result_a_json_line(fakeapi: FakeAPI) -> None:
    fakeapi.answer_all(echo)
    result = batch(fakeapi, "--ordered", stdin='one\n\n{"id": "b", "prompt": "two",'
                   ' "temperature": 0.5}\nthree\n')
    assert result.exit_code == 0, result.stderr
    out = lines(result.stdout)
    assert [(r["id"], r["index"], r["status"], r["answer"]) for r in out] == [
        ("1", 0, "ok", "re: one"), ("b", 1, "ok", "re: two"), ("4", 2, "ok", "re: three")]
    assert out[0]["usage"] == USAGE and out[0]["finish_reason"] == "stop"
    assert {"duration", "trace_id", "model", "cost"} <= set(out[0])
    bodies = {prompt_of(r): json.loads(r.body) for r in fakeapi.requests}
    assert bodies["two"]["temperature"] == 0.5 and "temperature" not in bodies["one"]
    assert result.stderr == ""  # -q


def test_ordered_keeps_input_order_however_they_finish(fakeapi: FakeAPI) -> None:
    def last_first(record: Recorded, in_flight: int) -> SSE:
        if prompt_of(record) == "p0":  # answered once the five others have been
            deadline = time.monotonic() + 10
            while (len(fakeapi.requests) % 6 or fakeapi.in_flight > 1) and (
                    time.monotonic() < deadline):
                threading.Event().wait(0.002)
        return echo(record, in_flight)
    fakeapi.answer_all(last_first)
    items = "".join(f"p{n}\n" for n in range(6))
    unordered = batch(fakeapi, "-j", "6", stdin=items)
    assert unordered.exit_code == 0
    answers = [r["answer"] for r in lines(unordered.stdout)]
    assert sorted(answers) == [f"re: p{n}" for n in range(6)] and answers[0] != "re: p0"
    ordered = batch(fakeapi, "-j", "6", "--ordered", stdin=items)
    assert [r["answer"] for r in lines(ordered.stdout)] == [f"re: p{n}" for n in range(6)]


def test_a_failed_item_never_stops_the_rest_and_sets_the_exit_status(fakeapi: FakeAPI
                                                                      ) -> None:
    def some_fail(record: Recorded, in_flight: int) -> Any:
        if prompt_of(record) == "bad request":
            return JSON({"error": {"message": "no such thing"}}, status=400)
        if prompt_of(record) == "server down":
            return JSON({"error": {"message": "oops"}}, status=500)
        return echo(record, in_flight)
    fakeapi.answer_all(some_fail)
    result = run_cli(["batch", "--base-url", fakeapi.base_url, "--retries", "0", "--ordered"],
                     stdin='fine\nbad request\n{"nothing": 1}\nserver down\nfine too\n')
    out = lines(result.stdout)
    assert [r["status"] for r in out] == ["ok", "error", "error", "error", "ok"]
    assert out[1]["error"]["exit_code"] == 4 and "no such thing" in out[1]["error"]["message"]
    assert out[2]["error"] == {"message": 'line 3: neither "prompt" nor "messages"',
                               "type": "UsageError", "exit_code": 2}
    assert out[3]["error"]["exit_code"] == 5
    assert result.exit_code == 5  # a server error outranks a rejection and a bad line
    assert result.stderr.startswith("chatcli: error: 2 ok, 3 failed, 10 tokens, ")


def test_a_template_fills_each_item_and_vars_fill_its_variables(fakeapi: FakeAPI,
                                                               tmp_path: Path) -> None:
    folder = Path(os.environ["CHATCLI_CONFIG_DIR"]) / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tr.toml").write_text('prompt = "Into {{lang}}: {{input}}"\n'
                                    'defaults = { lang = "French" }\n')
    fakeapi.answer_all(echo)
    result = batch(fakeapi, "-T", "tr", "--ordered",
                   stdin='cat\n{"prompt": "dog", "vars": {"lang": "German"}}\n')
    assert result.exit_code == 0, result.stderr
    assert [r["answer"] for r in lines(result.stdout)] == ["re: Into French: cat",
                                                           "re: Into German: dog"]


def test_files_make_one_item_each_and_out_dir_one_file_each(
        fakeapi: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    docs = Path("docs")
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("alpha")
    (docs / "sub" / "b.txt").write_text("beta")
    (docs / "skip.md").write_text("not matched")
    seen: list[str] = []

    def summarise(record: Recorded, in_flight: int) -> SSE:
        seen.append(prompt_of(record))
        return SSE(text_stream(["summary"], usage=USAGE))
    fakeapi.answer_all(summarise)
    out = tmp_path / "out"
    result = batch(fakeapi, "--files", "docs/**/*.txt", "-s", "Summarise.",
                   "--out-dir", str(out))
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".chatcli-batch-state", "docs_a.txt.md", "docs_sub_b.txt.md"]
    assert all("alpha" in s or "beta" in s for s in seen) and len(seen) == 2
    assert {p.read_text() for p in out.glob("*.md")} == {"summary\n"}


def test_json_output_carries_the_completion(fakeapi: FakeAPI) -> None:
    fakeapi.answer_all(echo)
    result = batch(fakeapi, "-O", "json", stdin="hi\n")
    (record,) = lines(result.stdout)
    assert record["completion"]["choices"][0]["message"]["content"] == "re: hi"


def test_a_rerun_skips_what_the_state_file_says_is_done(fakeapi: FakeAPI, tmp_path: Path
                                                        ) -> None:
    fakeapi.answer_all(lambda r, n: JSON({"error": {"message": "x"}}, status=400)
                       if prompt_of(r) == "flaky" else echo(r, n))
    state = tmp_path / "state"
    first = batch(fakeapi, "--state", str(state), "--retries", "0", stdin="a\nflaky\nb\n")
    assert first.exit_code == 4
    fakeapi.answer_all(echo)
    again = batch(fakeapi, "--state", str(state), stdin="a\nflaky\nb\nc\n")
    assert again.exit_code == 0, again.stderr
    assert sorted(r["answer"] for r in lines(again.stdout)) == ["re: c", "re: flaky"]
    assert sorted(prompt_of(r) for r in fakeapi.requests) == ["a", "b", "c", "flaky", "flaky"]


def test_a_changed_line_is_not_taken_for_the_one_done_before(fakeapi: FakeAPI,
                                                             tmp_path: Path) -> None:
    fakeapi.answer_all(echo)
    state = tmp_path / "state"
    assert batch(fakeapi, "--state", str(state), stdin="a\nb\n").exit_code == 0
    again = batch(fakeapi, "--state", str(state), stdin="a\nB\n")
    assert [r["answer"] for r in lines(again.stdout)] == ["re: B"]


def test_429s_slow_the_batch_down_and_every_item_completes_once(fakeapi: FakeAPI) -> None:
    threshold = 3
    refused: list[int] = []
    pushed_back = threading.Event()

    def limited(record: Recorded, in_flight: int) -> Any:
        if in_flight > threshold:
            refused.append(in_flight)
            pushed_back.set()
            return Raw(429, b'{"error": {"message": "slow down"}}', "application/json",
                       headers={"Retry-After": "0"})
        pushed_back.wait(10)  # the first answers wait for the burst to reach the limit
        return echo(record, in_flight)
    fakeapi.answer_all(limited)
    items = [f"q{n}" for n in range(40)]
    result = batch(fakeapi, "-j", "8", "--retries", "1", stdin="\n".join(items) + "\n")
    assert result.exit_code == 0, result.stderr
    answers = [r["answer"] for r in lines(result.stdout)]
    assert sorted(answers) == sorted(f"re: {q}" for q in items)  # each once
    assert refused  # the server did push back
    answered = [n for r, n in zip(fakeapi.requests, fakeapi.seen_in_flight, strict=True)
                if n <= threshold]
    assert len(answered) == 40
    assert max(fakeapi.seen_in_flight) <= 8  # never more than -j
    # Once the first burst is over, the batch keeps at or just under the server's limit.
    assert max(fakeapi.seen_in_flight[-10:]) <= threshold + 1


def test_the_pace_halves_once_per_pause_and_climbs_back() -> None:
    now = [0.0]
    pace = Pace(8, clock=lambda: now[0])
    for _ in range(8):
        assert pace.acquire()
    pace.rate_limited(1.0)
    pace.rate_limited(1.0)  # the same burst: not halved again
    assert pace.limit == 4
    for _ in range(8):
        pace.release(ok=False)
    assert pace.wait_time(now[0]) == 1.0  # everyone waits out the pause
    now[0] = 1.0
    assert pace.wait_time(now[0]) == 0
    for _ in range(4):
        assert pace.acquire()
        pace.release()
    assert pace.limit == 5  # a run of successes as long as the limit: one more
    assert pace.peak == 8


def test_rpm_caps_the_requests_started_in_a_minute() -> None:
    now = [100.0]
    pace = Pace(4, rpm=2, clock=lambda: now[0])
    assert pace.acquire() and pace.acquire()
    pace.release()
    pace.release()
    assert pace.wait_time(now[0]) == 60.0
    now[0] = 160.0
    assert pace.wait_time(now[0]) == 0


def test_tpm_caps_the_tokens_answered_in_a_minute() -> None:
    now = [0.0]
    pace = Pace(4, tpm=100, clock=lambda: now[0])
    assert pace.acquire()
    pace.release(tokens=150)
    now[0] = 30.0
    assert pace.wait_time(now[0]) == 30.0
    now[0] = 60.0
    assert pace.wait_time(now[0]) == 0


def test_plain_progress_is_a_line_every_few_seconds() -> None:
    import io

    from chatcli.session.batch_progress import EVERY, Progress, Tally, summary
    from chatcli.session.environment import Environment

    now = [0.0]
    env = Environment(io.StringIO(), io.StringIO(), io.StringIO(), False, False, False)
    progress = Progress(env, quiet=False, clock=lambda: now[0])
    tally = Tally(total=10, ok=4, failed=1, tokens=2500, cost=0.25, priced=True)
    progress.show(tally, 2, 4)
    assert env.stderr.stream.getvalue() == ""  # type: ignore[attr-defined]
    now[0] = EVERY
    progress.show(tally, 2, 4)
    assert env.stderr.stream.getvalue() == (  # type: ignore[attr-defined]
        "chatcli: batch: 5/10 done · 2 in flight · -j 4 · 1.0/s · 2.5k tokens · $0.25 ·"
        " ETA 5.0s · 1 failed\n")
    assert summary(tally, 192.0) == "4 ok, 1 failed, 2.5k tokens, $0.25, 3m12s"
    quiet = Progress(env, quiet=True, clock=lambda: now[0])
    now[0] = 100.0
    quiet.show(tally, 0, 4, force=True)
    assert env.stderr.stream.getvalue().count("\n") == 1  # type: ignore[attr-defined]


def test_on_a_terminal_progress_is_one_live_line_and_stdout_stays_json(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    import io

    import pexpect
    import pyte

    _reached, release, respond = _held({"p29"})
    fakeapi.answer_all(respond)
    items = tmp_path / "items.txt"
    items.write_text("".join(f"p{n}\n" for n in range(30)))
    out = tmp_path / "out.jsonl"
    child = pexpect.spawn("bash", ["-c", f'"$0" -m chatcli batch --base-url {fakeapi.base_url}'
                                         f" {items} > {out}", sys.executable],
                          env=process_env({"TERM": "xterm-256color"}), dimensions=(24, 100),
                          timeout=30)
    child.logfile_read = io.BytesIO()
    child.expect("29/30 done · 1 in flight · -j 4".encode())  # the live line, p29 held
    release.set()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert sorted(r["answer"] for r in lines(out.read_text())) == sorted(
        f"re: p{n}" for n in range(30))
    screen = pyte.Screen(100, 24)
    pyte.ByteStream(screen).feed(child.logfile_read.getvalue())
    shown = [line.rstrip() for line in screen.display if line.strip()]
    assert shown == [shown[0]] and shown[0].startswith(
        "chatcli: batch: 30 ok, 0 failed, 150 tokens, ")  # the live line gave way to it


def test_items_from_lines_read_lazily() -> None:
    read: list[str] = []

    def source() -> Any:
        for line in ("a\n", "b\n", "c\n"):
            read.append(line)
            yield line
    items = items_from_lines(source())
    assert next(items).prompt == "a" and read == ["a\n"]


def test_no_input_on_a_terminal_is_a_usage_error(fakeapi: FakeAPI) -> None:
    result = run_cli(["batch", "--base-url", fakeapi.base_url], stdin_tty=True)
    assert result.exit_code == 2
    assert "batch needs items" in result.stderr
    missing = run_cli(["batch", "--base-url", fakeapi.base_url, "/no/such/file"])
    assert missing.exit_code == 2 and "cannot read /no/such/file" in missing.stderr


def test_the_budget_stops_starting_items(fakeapi: FakeAPI) -> None:
    write_config('[models."gpt-4o-mini"]\nprice_input = 100000.0\nprice_output = 100000.0\n')
    fakeapi.answer_all(echo)
    result = batch(fakeapi, "-j", "1", "--budget", "0.5", "--ordered", stdin="a\nb\nc\nd\n")
    assert result.exit_code == 4
    assert len(lines(result.stdout)) < 4
    assert "--budget $0.5 reached" in result.stderr and "not started" in result.stderr


def test_history_keeps_each_answer_as_its_own_conversation(fakeapi: FakeAPI) -> None:
    from chatcli.config import data_dir
    from chatcli.history import HistoryStore

    fakeapi.answer_all(echo)
    result = run_cli(["batch", "--base-url", fakeapi.base_url, "--history", "--ordered"],
                     stdin="a\nb\n")
    assert result.exit_code == 0, result.stderr
    store = HistoryStore.open(data_dir() / "history.db")
    try:
        names = sorted(c.name or "" for c in store.conversations())
    finally:
        store.close()
    assert len(names) == 2 and names[0].startswith("batch-") and names[0].endswith("-1")
    without = batch(fakeapi, stdin="c\n")
    assert without.exit_code == 0


# A real process: killed, interrupted.


def _spawn(fakeapi: FakeAPI, out: Path, *args: str) -> subprocess.Popen[bytes]:
    with out.open("ab") as appended:  # the child has its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "chatcli", "batch", "--base-url", fakeapi.base_url, "-q",
             "-j", "2", *args], stdin=subprocess.PIPE, stdout=appended,
            stderr=subprocess.PIPE, env=process_env())


def _held(prompts: set[str]) -> tuple[threading.Event, threading.Event, Any]:
    """A responder that holds the prompts named until released; ``reached`` is set when
    one of them arrives."""
    reached, release = threading.Event(), threading.Event()

    def respond(record: Recorded, in_flight: int) -> SSE:
        if prompt_of(record) in prompts:
            reached.set()
            release.wait(30)
        return echo(record, in_flight)
    return reached, release, respond


def test_a_killed_batch_resumes_without_losing_or_repeating_an_item(fakeapi: FakeAPI,
                                                                     tmp_path: Path) -> None:
    reached, release, respond = _held({"p3"})
    fakeapi.answer_all(respond)
    out = tmp_path / "out.jsonl"
    items = "".join(f"p{n}\n" for n in range(8)).encode()
    child = _spawn(fakeapi, out, "--ordered")
    assert child.stdin is not None
    child.stdin.write(items)
    child.stdin.close()
    assert reached.wait(30)
    deadline = time.monotonic() + 30  # p0..p2 are written before p3 is answered
    while len(out.read_text().splitlines()) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    child.kill()
    child.wait(30)
    assert child.stderr is not None
    child.stderr.close()
    release.set()
    before = lines(out.read_text())
    assert [r["answer"] for r in before] == ["re: p0", "re: p1", "re: p2"]
    sent_before = len(fakeapi.requests)
    again = _spawn(fakeapi, out, "--ordered")
    _, err = again.communicate(items, timeout=60)
    assert again.returncode == 0, err
    answers = [r["answer"] for r in lines(out.read_text())]
    assert sorted(answers) == sorted(f"re: p{n}" for n in range(8))  # each once
    resent = sorted(prompt_of(r) for r in fakeapi.requests[sent_before:])
    assert resent == [f"p{n}" for n in range(3, 8)]


@pytest.mark.parametrize("twice", [False, True])
def test_ctrl_c_finishes_the_running_items_and_starts_no_more(fakeapi: FakeAPI,
                                                             tmp_path: Path,
                                                             twice: bool) -> None:
    reached, release, respond = _held({"p1"})
    fakeapi.answer_all(respond)
    out = tmp_path / "out.jsonl"
    child = _spawn(fakeapi, out, "-j", "1", "--state", str(tmp_path / "state"))
    assert child.stdin is not None
    child.stdin.write("".join(f"p{n}\n" for n in range(5)).encode())
    child.stdin.close()
    child.stdin = None  # closed: communicate() has nothing to send
    assert reached.wait(30)
    child.send_signal(signal.SIGINT)
    assert child.stderr is not None
    first = child.stderr.readline()  # the Ctrl-C was taken: nothing more will start
    assert b"interrupted: no new items are started" in first
    if twice:
        child.send_signal(signal.SIGINT)
    else:
        release.set()
    _, err = child.communicate(timeout=60)
    release.set()
    assert child.returncode == 130, err
    answers = [r["answer"] for r in lines(out.read_text())]
    assert answers == (["re: p0"] if twice else ["re: p0", "re: p1"])
    assert sorted(prompt_of(r) for r in fakeapi.requests) == ["p0", "p1"]
    state = (tmp_path / "state").read_text().splitlines()
    assert len(state) == len(answers)
