"""Bounded and total: no setting, argument, file or server reply crashes, hangs or exhausts
chatcli; each is a clear one-line error with the exit code it deserves."""

from __future__ import annotations

import contextlib
import gzip
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from clirun import process_env, run_cli, write_config
from fakeapi import SSE, FakeAPI, Gate, Raw, Repeat, chunk, sse_bytes, text_stream


@pytest.mark.parametrize(("text", "message"), [
    ('history = "false"\n', "top level: history must be true or false (without quotes)"),
    ('include_usage = "no"\n', "top level: include_usage must be true or false"),
    ('model = ["a", "b"]\n', "top level: model must be a non-empty string"),
    ("timeout = inf\n", "top level: timeout must be a number of seconds, more than 0"),
    ("timeout = nan\n", "top level: timeout must be a number of seconds, more than 0"),
    ("[profiles.x]\ntimeout = -5\n", "profile 'x': timeout must be a number of seconds"),
    ("retries = 2.5\n", "top level: retries must be a whole number from 0 to 100"),
    ("retries = true\n", "top level: retries must be a whole number from 0 to 100"),
    ("max_time = 0\n", "top level: max_time must be a number of seconds, more than 0"),
    ('secret_scan = "maybe"\n', "secret_scan must be one of ask, redact, refuse, off"),
    ("profiles = [1]\n", "profiles must be tables ([profiles.NAME])"),
    ("[profiles]\nx = 1\n", "profiles must be tables ([profiles.NAME])"),
    ("default_profile = 3\n", "default_profile must be a profile's name"),
    ('headers = { A = true }\n', "headers must be a table of header names and string values"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply to read"),
])
def test_settings_of_the_wrong_type_are_config_errors(text: str, message: str) -> None:
    path = write_config(text)
    result = run_cli(["--base-url", "http://127.0.0.1:9/v1", "hi"])
    assert result.exit_code == 3, result.stderr
    assert result.stderr.startswith(f"chatcli: error: {path}: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_history_false_as_a_string_is_never_taken_as_true(fakeapi: FakeAPI) -> None:
    write_config('history = "false"\n')
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]).exit_code == 3
    assert not (Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db").exists()
    assert fakeapi.requests == []


@pytest.mark.parametrize("args", [
    ["-t", "nan"], ["--temperature", "NaN"], ["--top-p", "nan"], ["--presence-penalty", "inf"],
    ["--frequency-penalty", "-inf"], ["--timeout", "nan"], ["--connect-timeout", "nan"],
    ["--max-time", "nan"], ["--tool-timeout", "inf"], ["--max-attachment-mb", "nan"],
])
def test_numbers_that_are_not_numbers_are_usage_errors(args: list[str]) -> None:
    result = run_cli([*args, "--base-url", "http://127.0.0.1:9/v1", "hi"])
    assert result.exit_code == 2, result.stderr
    assert "is not a number" in result.stderr or "is not in the range" in result.stderr
    assert "internal error" not in result.stderr


def test_an_option_value_of_nan_is_sent_as_a_string(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "-o", "temperature=NaN", "-o",
                      "x=Infinity", "hi"])
    assert result.exit_code == 0, result.stderr
    body = fakeapi.requests[-1].json()
    assert (body["temperature"], body["x"]) == ("NaN", "Infinity")


def run_bytes(args: list[bytes]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "chatcli", *args], capture_output=True,
                          stdin=subprocess.DEVNULL, env=process_env(), timeout=60, check=False)


@pytest.mark.parametrize(("args", "position"), [
    ([b"caf\xe9"], 1),
    ([b"-m", b"m\xff", b"hi"], 2),
])
def test_arguments_that_are_not_utf8_are_usage_errors(args: list[bytes], position: int) -> None:
    done = run_bytes(args)
    assert done.returncode == 2
    bad = args[position - 1]
    assert done.stderr.decode() == (f"chatcli: error: argument {position} is not UTF-8 text:"
                                    f" {bad!r}\n")


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(("flag", "label"), [
    ("--messages", "{path}"), ("--tools", "--tools {path}"), ("--schema", "--schema"),
])
def test_json_nested_too_deeply_is_a_usage_error(tmp_path: Path, flag: str, label: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP)
    result = run_cli([flag, str(path), "--base-url", "http://127.0.0.1:9/v1", "hi"])
    assert result.exit_code == 2, result.stderr
    assert result.stderr == (f"chatcli: error: {label.format(path=path)}: nested too deeply"
                             " to read\nTry 'chatcli ask --help'.\n")


@pytest.mark.parametrize("flag", ["-f", "-i", "--audio", "--attach"])
def test_a_device_that_never_ends_is_cut_at_the_size_limit(flag: str) -> None:
    result = run_cli([flag, "/dev/zero", "--max-attachment-mb", "1", "--base-url",
                      "http://127.0.0.1:9/v1", "hi"])
    assert result.exit_code == 2, result.stderr
    assert result.stderr == ("chatcli: error: /dev/zero: more than 1 MB is over the 1 MB limit"
                             " (--max-attachment-mb)\nTry 'chatcli ask --help'.\n")


def test_a_pipe_bigger_than_the_limit_is_refused_though_stat_says_0(fakeapi: FakeAPI) -> None:
    read_end, write_end = os.pipe()
    data = b"x" * (3 * 1_048_576)

    def feed() -> None:
        with os.fdopen(write_end, "wb") as out, contextlib.suppress(BrokenPipeError):
            out.write(data)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        result = run_cli(["-f", f"/dev/fd/{read_end}", "--max-attachment-mb", "1",
                          "--base-url", fakeapi.base_url, "hi"])
    finally:
        os.close(read_end)
        feeder.join()
    assert result.exit_code == 2
    assert "over the 1 MB limit (--max-attachment-mb)" in result.stderr
    assert fakeapi.requests == []


def test_stdin_over_the_limit_is_a_usage_error(fakeapi: FakeAPI) -> None:
    result = run_cli(["--max-attachment-mb", "1", "--base-url", fakeapi.base_url, "hi"],
                     stdin=b"y" * (2 * 1_048_576))
    assert result.exit_code == 2
    assert result.stderr == ("chatcli: error: stdin: more than 1 MB (--max-attachment-mb)\n"
                             "Try 'chatcli ask --help'.\n")


def test_keep_alives_forever_end_at_max_time_with_the_partial_kept(fakeapi: FakeAPI) -> None:
    first = sse_bytes([chunk(role="assistant", content="Partial answer")], done=False)
    fakeapi.add(Repeat(first, b": ping\n\n", interval=0.05))
    result = run_cli(["--base-url", fakeapi.base_url, "--max-time", "0.5", "--trace-id", "t",
                      "hi"])
    assert result.exit_code == 8
    assert result.stdout == "Partial answer\n"
    assert result.stderr == ("chatcli: error: the answer took longer than --max-time 0.5s"
                             " (trace id t)\n")
    shown = run_cli(["history", "show", "--json",
                     run_cli(["history", "list", "--json"]).stdout.split('"id": "')[1][:12]])
    assert '"status": "error"' in shown.stdout and "Partial answer" in shown.stdout


def test_a_silent_server_ends_at_max_time(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(sse_bytes([chunk(role="assistant", content="Begun")], done=False)))
    write_config("max_time = 0.5\n")
    result = run_cli(["--base-url", fakeapi.base_url, "--trace-id", "t", "hi"])
    gate.release()
    assert result.exit_code == 8
    assert result.stdout == "Begun\n"
    assert result.stderr == ("chatcli: error: the answer took longer than --max-time 0.5s"
                             " (trace id t)\n")


def limited_memory() -> None:
    """The child may hold this much: far less than the bombs below inflate to."""
    limit = 700 * 1_048_576
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def run_limited(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatcli", *args], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=process_env(), timeout=120,
                          preexec_fn=limited_memory, check=False)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """1 GB of zeros, gzipped to about 1 MB."""
    return gzip.compress(b"\0" * (1024 * 1_048_576), compresslevel=1)


def test_a_gzip_bomb_as_an_error_body_is_read_a_few_kb_far(fakeapi: FakeAPI,
                                                           bomb: bytes) -> None:
    fakeapi.add(Raw(500, bomb, "text/plain", headers={"Content-Encoding": "gzip"}))
    done = run_limited(["--base-url", fakeapi.base_url, "--retries", "0", "--trace-id", "t",
                        "hi"])
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("chatcli: error: HTTP 500: ")
    assert done.stderr.endswith(" (trace id t)\n")
    assert len(done.stderr) < 2000


def test_a_gzip_bomb_as_a_stream_ends_in_a_protocol_error(fakeapi: FakeAPI, bomb: bytes) -> None:
    fakeapi.add(SSE(bomb, headers={"Content-Encoding": "gzip"}))
    done = run_limited(["--base-url", fakeapi.base_url, "--trace-id", "t", "hi"])
    assert done.returncode == 9, done.stderr
    assert done.stderr.startswith("chatcli: error: ")
    assert "MemoryError" not in done.stderr


def test_a_compressed_stream_may_not_inflate_past_the_cap(fakeapi: FakeAPI,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    import chatcli.endpoint.client

    monkeypatch.setattr(chatcli.endpoint.client, "MAX_INFLATED", 100_000)
    body = gzip.compress(text_stream(["word "] * 20_000))
    writes = [body[i:i + 64] for i in range(0, len(body), 64)]
    fakeapi.add(SSE(body, writes=writes, headers={"Content-Encoding": "gzip"}))
    result = run_cli(["--base-url", fakeapi.base_url, "--trace-id", "t", "hi"])
    assert result.exit_code == 9
    assert result.stderr == ("chatcli: error: the compressed response inflates past 0 MiB;"
                             " not read further (trace id t)\n")
    assert result.stdout.startswith("word word")


def test_a_json_answer_past_the_cap_is_a_protocol_error(fakeapi: FakeAPI,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import chatcli.engine.turn
    from fakeapi import JSON, completion

    monkeypatch.setattr(chatcli.engine.turn, "MAX_JSON_BODY", 10_000)
    fakeapi.add(JSON(completion("x" * 20_000)))
    result = run_cli(["--base-url", fakeapi.base_url, "--trace-id", "t", "hi"])
    assert result.exit_code == 9
    assert result.stderr == ("chatcli: error: the JSON response is larger than 0 MiB; not read"
                             " further (trace id t)\n")


def test_the_approval_question_shows_a_huge_argument_cut() -> None:
    import io

    from chatcli.tools import RequestedCall, ask_on_terminal

    out = io.StringIO()
    ask = ask_on_terminal(io.StringIO("n\n"), out)
    arguments = '{"text": "' + "y" * 100_000 + '"}'
    ask(RequestedCall("c1", "write", arguments))
    first = out.getvalue().splitlines()[0]
    assert first.startswith('tool call: write({"text":"yyy')
    assert first.endswith("… (100,011 characters in all))")
    assert len(first) < 2100
