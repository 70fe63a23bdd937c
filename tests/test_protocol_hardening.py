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
from clirun import Result, run_cli
from fakeapi import SSE, FakeAPI, Raw, chunk, load_stream, sse_bytes, text_stream

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
