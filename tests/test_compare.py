"""``chatcli compare``: one request to several models or profiles at once; columns on a
terminal, one JSON object in a pipe; ``--judge`` asks a model to compare them."""

from __future__ import annotations

import io
import json
import sys
import threading
from typing import Any

import pexpect
import pyte

from chatcli.session.compare import JUDGE_INSTRUCTIONS
from clirun import process_env, run_cli, write_config
from fakeapi import JSON, SSE, FakeAPI, Recorded, text_stream

USAGE = {"prompt_tokens": 5, "completion_tokens": 8, "total_tokens": 13}


def by_model(record: Recorded, in_flight: int) -> Any:
    body = json.loads(record.body)
    if body["model"] == "broken":
        return JSON({"error": {"message": "no such model"}}, status=404)
    if body["model"] == "judge":
        return SSE(text_stream(["A is better."]))
    return SSE(text_stream([f"answer of {body['model']}"], usage=USAGE))


def test_json_has_an_entry_per_model(fakeapi: FakeAPI) -> None:
    fakeapi.answer_all(by_model)
    result = run_cli(["compare", "--base-url", fakeapi.base_url, "-m", "m1", "-m", "m2",
                      "-t", "0.3", "what is 2+2?"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert [(a["name"], a["status"], a["answer"]) for a in out["answers"]] == [
        ("m1", "ok", "answer of m1"), ("m2", "ok", "answer of m2")]
    assert out["answers"][0]["usage"] == USAGE and out["judge"] is None
    assert {"time_to_first_token", "tokens_per_second", "duration", "cost"} <= set(
        out["answers"][0])
    bodies = [json.loads(r.body) for r in fakeapi.requests]
    assert sorted(b["model"] for b in bodies) == ["m1", "m2"]
    assert all(b["messages"] == [{"role": "user", "content": "what is 2+2?"}]
               and b["temperature"] == 0.3 for b in bodies)


def test_profiles_bring_their_own_endpoint_and_model(fakeapi: FakeAPI) -> None:
    other = FakeAPI().start()
    try:
        other.answer_all(by_model)
        fakeapi.answer_all(by_model)
        write_config(f'[profiles.here]\nbase_url = "{fakeapi.base_url}"\nmodel = "m-here"\n'
                     f'[profiles.there]\nbase_url = "{other.base_url}"\nmodel = "m-there"\n')
        result = run_cli(["compare", "-P", "here", "-P", "there", "-O", "json", "hi"])
        assert result.exit_code == 0, result.stderr
        names = [a["name"] for a in json.loads(result.stdout)["answers"]]
        assert names == ["here: m-here", "there: m-there"]
        assert [json.loads(r.body)["model"] for r in other.requests] == ["m-there"]
    finally:
        other.stop()


def test_one_failure_is_its_entry_and_the_exit_status(fakeapi: FakeAPI) -> None:
    fakeapi.answer_all(by_model)
    result = run_cli(["compare", "--base-url", fakeapi.base_url, "--retries", "0",
                      "-m", "m1", "-m", "broken", "hi"])
    assert result.exit_code == 4
    answers = json.loads(result.stdout)["answers"]
    assert answers[0]["status"] == "ok"
    assert answers[1]["status"] == "error" and "no such model" in answers[1]["error"]["message"]
    assert "1 of 2 answers failed" in result.stderr


def test_the_judge_sees_the_request_and_every_answer(fakeapi: FakeAPI) -> None:
    fakeapi.answer_all(by_model)
    result = run_cli(["compare", "--base-url", fakeapi.base_url, "-m", "m1", "-m", "m2",
                      "--judge", "judge", "which is prime, 4 or 5?"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["judge"] == {"model": "judge", "verdict": "A is better."}
    asked = [json.loads(r.body) for r in fakeapi.requests
             if json.loads(r.body)["model"] == "judge"]
    (judge_request,) = asked
    system, user = judge_request["messages"]
    assert system == {"role": "system", "content": JUDGE_INSTRUCTIONS}
    assert "which is prime, 4 or 5?" in user["content"]
    assert "## Answer A (m1)\n\nanswer of m1" in user["content"]
    assert "## Answer B (m2)\n\nanswer of m2" in user["content"]


def test_fewer_than_two_is_a_usage_error(fakeapi: FakeAPI) -> None:
    result = run_cli(["compare", "--base-url", fakeapi.base_url, "-m", "m1", "hi"])
    assert result.exit_code == 2
    assert "compare needs two or more" in result.stderr
    words = run_cli(["compare", "--base-url", fakeapi.base_url, "tcp", "and", "udp"])
    assert words.exit_code == 2
    assert "To send it as a prompt: chatcli ask -- 'compare tcp and udp'" in words.stderr
    assert fakeapi.requests == []


def test_on_a_terminal_the_answers_stand_side_by_side(fakeapi: FakeAPI) -> None:
    both_asked = threading.Barrier(2, timeout=30)

    def together(record: Recorded, in_flight: int) -> Any:
        both_asked.wait()  # the two requests are in flight at once
        return by_model(record, in_flight)
    fakeapi.answer_all(together)
    child = pexpect.spawn(sys.executable, ["-m", "chatcli", "compare", "--base-url",
                                           fakeapi.base_url, "-m", "left-model", "-m",
                                           "right-model", "hi"],
                          env=process_env({"TERM": "xterm-256color"}), dimensions=(30, 100),
                          timeout=30)
    child.logfile_read = io.BytesIO()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    screen = pyte.Screen(100, 30)
    pyte.ByteStream(screen).feed(child.logfile_read.getvalue())
    rows = [line.rstrip() for line in screen.display if line.strip()]
    heading = next(row for row in rows if "left-model" in row)
    assert heading.index("left-model") < 10 and heading.index("right-model") >= 45
    answer = next(row for row in rows if "answer of left-model" in row)
    assert "answer of right-model" in answer  # on the same line: side by side
    figures = next(row for row in rows if "first token" in row)
    assert figures.count("first token") == 2 and figures.count("8 tokens") == 2
