"""Hostile or malformed server output, end to end through the real CLI.

Each test serves exact bytes from the fake API and checks the exit code, stdout
and stderr; there is one section per kind of hostile output.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from chatcli.history import HistoryStore
from clirun import Result, run_cli, unpublished
from fakeapi import JSON, SSE, FakeAPI, Raw, chunk, load_stream, sse_bytes, text_stream

TRACE = "t-1"
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
UNCLOSED = ("chatcli: warning: the answer opened <think> and never closed it;"
            " it is shown as the answer\n")


def ask(api: FakeAPI, *args: str, env: dict[str, str] | None = None) -> Result:
    return run_cli(["--base-url", api.base_url, "--trace-id", TRACE, *args, "hi"], env=env)


def rich_env() -> dict[str, str]:
    return {"FORCE_COLOR": "1", "TTY_INTERACTIVE": "0", "COLUMNS": "80", "LINES": "40"}


def screen(text: str) -> str:
    """Terminal output without its escape sequences and trailing padding."""
    return "\n".join(line.rstrip() for line in ANSI.sub("", text).splitlines())


def last_reply() -> Any:
    store = HistoryStore.open(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db")
    return store.messages(store.conversations()[0].id)[-1]


# -- 1. a surrogate pair cut between chunks ---------------------------------

SURROGATE_ANSWER = "Hi \U0001f600 there, café \U0001f389! Lone: \ufffd end \ufffd"


@pytest.mark.parametrize("per_byte", [False, True])
def test_a_split_surrogate_pair_is_one_character_in_plain_mode(fakeapi: FakeAPI,
                                                               per_byte: bool) -> None:
    fakeapi.add(SSE(load_stream("split_surrogate"), per_byte=per_byte))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (0, SURROGATE_ANSWER + "\n", "")
    assert (last_reply().status, last_reply().message["content"]) == (
        "complete", SURROGATE_ANSWER)


def test_a_split_surrogate_pair_in_json_and_rich_modes(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("split_surrogate")))
    result = ask(fakeapi, "-O", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout)["choices"][0]["message"]["content"] == SURROGATE_ANSWER
    fakeapi.add(SSE(load_stream("split_surrogate")))
    result = ask(fakeapi, "-O", "rich", env=rich_env())
    assert (result.exit_code, screen(result.stdout), result.stderr) == (0, SURROGATE_ANSWER, "")


def test_split_pairs_in_reasoning_refusal_and_tool_arguments(fakeapi: FakeAPI) -> None:
    def raw(delta: str) -> str:
        return ('data: {"choices":[{"index":0,"delta":' + delta
                + ',"finish_reason":null}]}\n\n')

    fakeapi.add(SSE(sse_bytes([
        raw('{"reasoning_content":"think \\ud83e"}'), raw('{"reasoning_content":"\\udd14"}'),
        raw('{"refusal":"no \\ud83d"}'), raw('{"refusal":"\\udeab"}'),
        raw('{"tool_calls":[{"index":0,"id":"call_1","type":"function",'
            '"function":{"name":"say","arguments":"{\\"e\\": \\"\\ud83d"}}]}'),
        raw('{"tool_calls":[{"index":0,"function":{"arguments":"\\ude00\\"}"}}]}'),
        raw('{"content":"done \\ud83d"}'),
        chunk(finish_reason="tool_calls")])))
    result = ask(fakeapi, "-O", "json")
    assert (result.exit_code, result.stderr) == (
        0, "chatcli: warning: the model refused: no \U0001f6ab\n")
    message = json.loads(result.stdout)["choices"][0]["message"]
    assert message["reasoning_content"] == "think \U0001f914"
    assert message["refusal"] == "no \U0001f6ab"
    assert message["content"] == "done \ufffd"
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"e": "\U0001f600"}


# -- 2. a leading BOM -------------------------------------------------------

@pytest.mark.parametrize("per_byte", [False, True])
@pytest.mark.parametrize("content_type", ["text/event-stream", "application/json"])
def test_a_leading_bom_loses_no_event(fakeapi: FakeAPI, per_byte: bool,
                                      content_type: str) -> None:
    fakeapi.add(SSE(load_stream("bom"), per_byte=per_byte, content_type=content_type))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "Hello from behind a BOM.\n", "")


def test_a_json_body_after_a_bom(fakeapi: FakeAPI) -> None:
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "json"},
                         "finish_reason": "stop"}]}
    fakeapi.add(Raw(200, b"\xef\xbb\xbf" + json.dumps(body).encode(), "application/json"))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "json\n", "")


# -- 3. an event that never ends --------------------------------------------

def test_an_event_that_never_ends_is_a_protocol_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(b"data: " + b"x" * (33 * 1024 * 1024), framing="close"))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (9, "", (
        "chatcli: error: an event in the stream grew past 32 MiB without ending;"
        f" that is the most chatcli holds for one event (trace id {TRACE})\n"))


# -- 4. logprobs of thinking tokens -----------------------------------------

def tokens(entries: list[dict[str, Any]] | None) -> list[str]:
    return [entry["token"] for entry in entries or ()]


def test_logprobs_of_reasoning_stay_out_of_the_answer(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("logprobs_reasoning")))
    result = ask(fakeapi, "-O", "json", "--logprobs")
    assert (result.exit_code, result.stderr) == (0, "")
    logprobs = json.loads(result.stdout)["choices"][0]["logprobs"]
    assert tokens(logprobs["content"]) == ["It", "'s", " 4."]
    assert tokens(logprobs["reasoning_content"]) == ["Two", " plus", " two."]


def test_the_terminal_colours_only_the_answers_tokens(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("logprobs_reasoning")))
    result = ask(fakeapi, "-O", "rich", "--logprobs", "--top-logprobs", "2", env=rich_env())
    assert result.exit_code == 0
    lines = screen(result.stdout).split("\n")
    assert re.fullmatch(r"thought for \d+\.\ds", lines.pop(1))
    assert lines == ["Two plus two.", "", "It's 4.", "", "least likely tokens:",
                     "'It' 74%", "\"'s\" 98%", "' 4.' 22%"]
    assert screen(result.stderr) == "token probability: ≥ 0.9 · ≥ 0.5 · < 0.5"


def lp(token: str, logprob: Any = -0.1, **extra: Any) -> dict[str, Any]:
    return {"content": [{"token": token, "logprob": logprob, **extra}]}


def test_logprobs_of_a_think_block_are_the_reasoning_s(fakeapi: FakeAPI) -> None:
    pieces = ["<think>", "Hmm", "</think>", "\n\n", "Yes", "."]
    fakeapi.add(SSE(sse_bytes([{**chunk(content=p), "choices": [
        {"index": 0, "delta": {"content": p}, "logprobs": lp(p), "finish_reason": None}]}
        for p in pieces] + [chunk(finish_reason="stop")])))
    result = ask(fakeapi, "-O", "json", "--logprobs")
    choice = json.loads(result.stdout)["choices"][0]
    assert (choice["message"]["content"], choice["message"]["reasoning_content"]) == (
        "Yes.", "Hmm")
    assert tokens(choice["logprobs"]["content"]) == ["Yes", "."]
    assert tokens(choice["logprobs"]["reasoning_content"]) == ["<think>", "Hmm", "</think>",
                                                               "\n\n"]


def test_logprobs_of_text_held_back_for_a_think_tag_go_back_to_the_answer(
        fakeapi: FakeAPI) -> None:
    pieces = ["<", "div>", " hi"]  # "<" might have opened <think>: held, then the answer
    fakeapi.add(SSE(sse_bytes([{**chunk(content=p), "choices": [
        {"index": 0, "delta": {"content": p}, "logprobs": lp(p), "finish_reason": None}]}
        for p in pieces] + [chunk(finish_reason="stop")])))
    result = ask(fakeapi, "-O", "json", "--logprobs")
    choice = json.loads(result.stdout)["choices"][0]
    assert choice["message"]["content"] == "<div> hi"
    assert choice["logprobs"] == {"content": [{"token": p, "logprob": -0.1} for p in pieces]}


# -- 6. a lone choice numbered 1 --------------------------------------------

def test_a_lone_choice_numbered_1_is_shown(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("choice_index_1")))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "Only choice one.\n", "")
    fakeapi.add(SSE(load_stream("choice_index_1")))
    result = ask(fakeapi, "-O", "rich", env=rich_env())
    assert (result.exit_code, screen(result.stdout), result.stderr) == (
        0, "Only choice one.", "")
    fakeapi.add(SSE(load_stream("choice_index_1")))
    result = ask(fakeapi, "-O", "json")
    assert [c["index"] for c in json.loads(result.stdout)["choices"]] == [1]
    assert last_reply().message["content"] == "Only choice one."


def test_with_several_choices_asked_for_the_numbers_stand(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("choice_index_1")))
    result = ask(fakeapi, "-O", "plain", "-n", "2")
    assert (result.exit_code, result.stdout) == (0, "--- choice 1 ---\nOnly choice one.\n")


# -- 7. malformed optional fields after a good answer -----------------------

BAD_USAGE = {"prompt_tokens": 7, "completion_tokens": 10**400, "total_tokens": -3,
             "prompt_tokens_details": "x",
             "completion_tokens_details": {"reasoning_tokens": 2, "accepted_prediction_tokens":
                                           "many", "rejected_prediction_tokens": 2**60}}


def test_malformed_usage_is_ignored_with_a_note(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"], usage=BAD_USAGE)))
    unpublished(fakeapi)  # no prices: no cost (looked up once, then cached)
    result = ask(fakeapi, "-O", "plain", "-u")
    assert (result.exit_code, result.stdout) == (0, "ok\n")
    assert re.fullmatch(r"usage: prompt 7 · completion - · reasoning 2 · cached - · first token"
                        r" \d+\.\d\ds · total \d+\.\d\ds\n", result.stderr), result.stderr
    fakeapi.add(SSE(text_stream(["ok"], usage=BAD_USAGE)))
    result = ask(fakeapi, "-O", "plain", "-u", "-v")
    notes = [line for line in result.stderr.splitlines() if line.startswith("chatcli: note:")]
    assert notes == [
        "chatcli: note: ignored usage.completion_tokens: not a count",
        "chatcli: note: ignored usage.total_tokens: not a count",
        "chatcli: note: ignored usage.prompt_tokens_details: not a count",
        "chatcli: note: ignored parts of usage.completion_tokens_details that are not counts"]
    fakeapi.add(SSE(text_stream(["ok"], usage=BAD_USAGE)))
    usage = json.loads(ask(fakeapi, "-O", "json").stdout)["usage"]
    assert usage == {"prompt_tokens": 7, "completion_tokens_details": {"reasoning_tokens": 2}}


def test_malformed_logprobs_on_a_terminal(fakeapi: FakeAPI) -> None:
    entries = [
        {"token": "A", "logprob": 10**400, "top_logprobs": [
            {"token": "B", "logprob": "x"}, {"token": "C", "logprob": -1.0},
            {"token": "D", "logprob": -2.0}, {"token": "E", "logprob": -3.0}]},
        {"token": " big", "logprob": 1e308},
        {"token": " word", "logprob": "very likely", "top_logprobs": 5},
        {"logprob": -0.5},
        "not an entry",
        {"token": " end", "logprob": -0.7, "top_logprobs": [{"token": " fin", "logprob": -0.9},
                                                            {"token": 3, "logprob": -1}]},
    ]
    content = chunk(content="A big word end")
    content["choices"][0]["logprobs"] = {"content": entries}
    body = sse_bytes([content, chunk(finish_reason="stop")])
    fakeapi.add(SSE(body))
    result = ask(fakeapi, "-O", "rich", "--logprobs", "--top-logprobs", "2", env=rich_env())
    assert result.exit_code == 0, result.stderr
    assert screen(result.stdout).split("\n") == [
        "A big word end", "", "least likely tokens:", "' end' 50% → ' fin' 41%"]
    assert screen(result.stderr) == "token probability: ≥ 0.9 · ≥ 0.5 · < 0.5"
    fakeapi.add(SSE(body))
    result = ask(fakeapi, "-O", "json", "--logprobs", "--top-logprobs", "2", "-v")
    assert result.exit_code == 0
    kept = json.loads(result.stdout)["choices"][0]["logprobs"]["content"]
    assert kept[0] == {"token": "A", "top_logprobs": [{"token": "B"},
                                                      {"token": "C", "logprob": -1.0}]}
    assert [entry["token"] for entry in kept] == ["A", " big", " word", " end"]
    assert kept[2] == {"token": " word", "top_logprobs": []}
    notes = [line for line in result.stderr.splitlines() if line.startswith("chatcli: note:")]
    assert notes == [
        "chatcli: note: ignored a logprob that is not a number ≤ 0",
        "chatcli: note: ignored top_logprobs beyond the number asked for",
        "chatcli: note: ignored top_logprobs that are not a list",
        "chatcli: note: ignored a logprobs entry without a token"]


# -- 8. mid-stream errors in other shapes -----------------------------------

@pytest.mark.parametrize(("name", "shown", "message"), [
    ("event_error", "The first half of", "upstream model timed out"),
    ("error_object", "Paris is the capital", "CUDA out of memory while generating"),
    ("finish_error", "Once upon a time there", "Provider returned error (502)"),
])
def test_an_error_in_any_shape_is_a_server_error(fakeapi: FakeAPI, name: str, shown: str,
                                                 message: str) -> None:
    fakeapi.add(SSE(load_stream(name)))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (
        5, shown + "\n",
        f"chatcli: error: error inside the stream: {message} (trace id {TRACE})\n")
    reply = last_reply()
    assert (reply.status, reply.message["content"]) == ("error", shown)


@pytest.mark.parametrize(("data", "message"), [
    ('{"error": {"message": "rate limited upstream", "code": 429}}',
     "rate limited upstream (429)"),
    ("the relay gave up", "the relay gave up"),
])
def test_an_error_event_with_other_data(fakeapi: FakeAPI, data: str, message: str) -> None:
    fakeapi.add(SSE(sse_bytes([chunk(content="Part"), f"event: error\ndata: {data}\n\n"],
                              done=False)))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (
        5, "Part\n", f"chatcli: error: error inside the stream: {message} (trace id {TRACE})\n")


def test_finish_reason_error_without_an_error_object(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(sse_bytes([chunk(content="Half"), chunk(finish_reason="error")])))
    result = ask(fakeapi, "-O", "json")
    assert (result.exit_code, result.stderr) == (5, (
        'chatcli: error: error inside the stream: the answer ended with finish_reason "error"'
        f" (trace id {TRACE})\n"))
    body = json.loads(result.stdout)
    assert (body["incomplete"], body["choices"][0]["message"]["content"]) == (True, "Half")


def test_a_completion_ending_with_finish_reason_error(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"choices": [{"index": 0, "finish_reason": "error",
                                   "message": {"role": "assistant", "content": "Cut"}}],
                      "error": None}))
    result = ask(fakeapi, "-O", "plain", "--no-stream")
    assert (result.exit_code, result.stdout, result.stderr) == (5, "Cut\n", (
        'chatcli: error: error in the response: the answer ended with finish_reason "error"'
        f" (trace id {TRACE})\n"))


# -- 9. an unclosed <think> -------------------------------------------------

UNCLOSED_TEXT = "<think>\nThe answer is 42. I am still thinking</thi"


def test_an_unclosed_think_is_the_answer(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("think_unclosed")))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (0, UNCLOSED_TEXT + "\n", UNCLOSED)
    assert last_reply().message == {"role": "assistant", "content": UNCLOSED_TEXT}
    fakeapi.add(SSE(load_stream("think_unclosed")))
    result = ask(fakeapi, "-O", "plain", "--reasoning", "show")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, UNCLOSED_TEXT + "\n", "\nThe answer is 42. I am still thinking\n" + UNCLOSED)


def test_an_unclosed_think_is_the_answer_on_a_terminal(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("think_unclosed")))
    result = ask(fakeapi, "-O", "rich", "--reasoning", "hide", env=rich_env())
    assert (result.exit_code, result.stderr) == (0, UNCLOSED)
    # Markdown joins the lines of a paragraph; the tag shows as the text it is.
    assert screen(result.stdout).strip().splitlines()[-1] == " ".join(UNCLOSED_TEXT.split())


def test_a_closed_think_block_is_as_before(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(load_stream("think_tags")))
    result = ask(fakeapi, "-O", "json")
    assert (result.exit_code, result.stderr) == (0, "")
    message = json.loads(result.stdout)["choices"][0]["message"]
    want = json.loads(Path(__file__).with_name("streams").joinpath(
        "think_tags.expected.json").read_text())["choices"][0]
    assert (message["content"], message["reasoning_content"]) == (
        want["content"], want["reasoning"])


# -- 10. the bytes say what the body is -------------------------------------

@pytest.mark.parametrize("first", ["data: ", "event: message\ndata: ", ": hi\ndata: ",
                                   "id: 1\ndata: ", "retry: 10\ndata: "])
def test_an_event_stream_labelled_json(fakeapi: FakeAPI, first: str) -> None:
    body = text_stream(["labelled ", "json"]).removeprefix(b"data: ")
    fakeapi.add(SSE(first.encode() + body, content_type="application/json"))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "labelled json\n", "")


def test_bytes_that_decide_nothing_leave_it_to_the_content_type(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, b"dat", "application/json"))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stderr) == (9, (
        "chatcli: error: the response is neither an event stream nor JSON"
        f" (Content-Type: application/json) (trace id {TRACE})\n"))


# -- 11. JSON nested past Python's stack ------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_BODY = '{"x": ' + DEEP + "}"


def test_a_chunk_nested_too_deeply(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(sse_bytes([chunk(content="ok "), f"data: {DEEP_BODY}\n\n"])))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (9, "ok \n", (
        f"chatcli: error: chunk nested too deeply to read: {DEEP_BODY[:80]}…"
        f" (trace id {TRACE})\n"))


def test_a_body_nested_too_deeply(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(200, DEEP_BODY.encode(), "application/json"))
    result = ask(fakeapi, "-O", "plain", "--no-stream")
    assert (result.exit_code, result.stdout, result.stderr) == (9, "", (
        f"chatcli: error: the response is JSON nested too deeply to read (trace id {TRACE})\n"))


def test_an_error_body_nested_too_deeply_is_text(fakeapi: FakeAPI) -> None:
    fakeapi.add(Raw(400, DEEP_BODY.encode(), "application/json"))
    result = ask(fakeapi, "-O", "plain")
    assert (result.exit_code, result.stdout, result.stderr) == (4, "", (
        f"chatcli: error: HTTP 400: {DEEP_BODY[:299]}… (trace id {TRACE})\n"))
