"""Faults beyond the HTTP error paths: SIGTERM, a failing history, TLS options, secrets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chatcli.history import HistoryError, HistoryStore
from clirun import process_env, run_cli
from fakeapi import SSE, FakeAPI, Gate, Raw, chunk, sse_bytes, text_stream
from test_process import read_until

KEY = "sk-test-SECRET-needle-7f3a9c"


def test_sigterm_mid_answer_keeps_the_partial_and_exits_143(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=sse_bytes([chunk(role="assistant", content="Partial")],
                                            done=False), rest=text_stream([" rest"])))
    child = subprocess.Popen([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url,
                              "hi"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=process_env())
    assert child.stdout is not None
    seen = read_until(child.stdout.fileno(), b"Partial")
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=30)
    gate.release()
    assert (child.returncode, seen + out, err) == (143, b"Partial\n", b"chatcli: terminated\n")
    store = HistoryStore.open(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db")
    reply = store.messages(store.conversations()[0].id)[-1]
    assert (reply.status, reply.message["content"]) == ("interrupted", "Partial")


def test_a_history_that_cannot_be_written_still_shows_the_answer(
    fakeapi: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise HistoryError("history database: database or disk is full")

    monkeypatch.setattr(HistoryStore, "append", full_disk)
    fakeapi.add(SSE(text_stream(["The answer."])))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert result.exit_code == 0
    assert result.stdout == "The answer.\n"
    assert result.stderr == ("chatcli: warning: the history was not saved: history database:"
                             " database or disk is full\n")


def test_an_unopenable_history_warns_and_answers(fakeapi: FakeAPI) -> None:
    data = Path(os.environ["CHATCLI_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "history.db").mkdir()  # a folder where the database should be
    fakeapi.add(SSE(text_stream(["Still here."])))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert (result.exit_code, result.stdout) == (0, "Still here.\n")
    assert result.stderr.startswith("chatcli: warning: history database")
    assert result.stderr.endswith("; this exchange is not kept\n")


def test_insecure_warns_and_ca_bundle_must_load(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--insecure", "hi"])
    assert result.exit_code == 0
    assert result.stderr.startswith("chatcli: warning: --insecure: TLS certificates are not")
    missing = tmp_path / "nope.pem"
    result = run_cli(["--base-url", "https://127.0.0.1:9/v1", "--ca-bundle", str(missing), "hi"])
    assert result.exit_code == 2
    assert f"--ca-bundle {missing}: cannot load it" in result.stderr
    result = run_cli(["--base-url", fakeapi.base_url, "--insecure", "--ca-bundle", "x", "hi"])
    assert result.exit_code == 2
    assert "contradict" in result.stderr


def every_output_and_file(fakeapi: FakeAPI, tmp_path: Path) -> list[tuple[str, str]]:
    """Run each command with the key and collect everything they printed or wrote."""
    collected: list[tuple[str, str]] = []
    env = {"CHATCLI_API_KEY": KEY}
    runs: list[list[str]] = [
        ["--base-url", fakeapi.base_url, "-v", "--debug", "hi"],
        ["--base-url", fakeapi.base_url, "-v", "--debug", "-O", "json", "hi"],
        ["--base-url", fakeapi.base_url, "-v", "--debug", "--retries", "0", "boom"],
        ["config", "show"],
        ["models", "--base-url", fakeapi.base_url, "-v", "--debug"],
        ["history", "list", "--json"],
        ["completion", "bash"],
    ]
    fakeapi.add(SSE(text_stream(["ok"])))
    fakeapi.add(SSE(text_stream(["ok"])))
    fakeapi.add(Raw(401, f'{{"error": {{"message": "bad key {KEY[:6]}"}}}}'.encode(),
                    "application/json"))
    fakeapi.add(Raw(200, b'{"data": [{"id": "m"}]}', "application/json"), path="/v1/models")
    for args in runs:
        result = run_cli(args, env=env)
        collected += [(f"{args} stdout", result.stdout), (f"{args} stderr", result.stderr)]
    conversation = run_cli(["history", "list", "--json"]).stdout.split('"id": "')[1][:12]
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "export.md"
    assert run_cli(["history", "export", conversation, "-o", str(out)], env=env).exit_code == 0
    assert "## User" in out.read_text()
    for folder in (Path(os.environ["CHATCLI_DATA_DIR"]), tmp_path):
        for path in folder.rglob("*"):
            if path.is_file():
                collected.append((str(path), path.read_bytes().decode("utf-8", "replace")))
    return collected


def test_the_api_key_never_appears_in_any_output_or_file(fakeapi: FakeAPI,
                                                         tmp_path: Path) -> None:
    collected = every_output_and_file(fakeapi, tmp_path / "out")
    assert len(collected) > 10
    leaks = [where for where, text in collected if KEY in text or KEY[-12:] in text]
    assert not leaks, f"the key leaked into: {leaks}"
    # The request did carry it, so the scan above was looking at real traffic.
    assert any(r.header("Authorization") == f"Bearer {KEY}" for r in fakeapi.requests)


def test_a_full_disk_on_a_real_process(fakeapi: FakeAPI) -> None:
    import resource

    HistoryStore.open(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db").close()

    def small_files() -> None:  # files may not grow past 2 KB, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    fakeapi.add(SSE(text_stream(["Shown all the same."])))
    child = subprocess.run([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url,
                            "hi"], stdin=subprocess.DEVNULL, capture_output=True,
                           env=process_env(), preexec_fn=small_files, timeout=60, check=False)
    assert (child.returncode, child.stdout) == (0, b"Shown all the same.\n")
    [warning] = child.stderr.decode().splitlines()
    assert warning.startswith("chatcli: warning: ")
    assert "disk I/O error" in warning or "full" in warning
    assert warning.endswith("this exchange is not kept") or "was not saved" in warning
