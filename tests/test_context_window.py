"""Fitting a long conversation into the model's window: ``truncate`` leaves out the
oldest turns (never a system message, a pinned one, or half of a tool call and its
result) and says so; ``error`` stops before sending (exit 4); a server's refusal for
context length is recognised and, under ``truncate``, sent once more after fitting."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatcli.protocol.context_limit import context_overflow
from chatcli.session.context_fit import fit, turns
from clirun import run_cli, unpublished, write_config
from fakeapi import CHAT_PATH, JSON, SSE, FakeAPI, text_stream

WINDOW = '[models."gpt-4o-mini"]\ncontext_window = 3000\n'  # room: 3000 - 1000 for the answer


def chats(fakeapi: FakeAPI) -> list[dict[str, Any]]:
    return [r.json() for r in fakeapi.requests if r.path == CHAT_PATH]


def long_history(tmp_path: Any, turns_count: int = 6, size: int = 2000) -> str:
    """A --messages file: a system message, then user/assistant turns of ``size`` chars."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": "be brief"}]
    for number in range(turns_count):
        messages.append({"role": "user", "content": f"q{number} " + "x" * size})
        messages.append({"role": "assistant", "content": f"a{number} " + "y" * size})
    path = tmp_path / "messages.json"
    path.write_text(json.dumps(messages))
    return str(path)


def test_turns_keep_tool_calls_with_their_results() -> None:
    messages = [{"role": "system"}, {"role": "user"}, {"role": "assistant", "tool_calls": [1]},
                {"role": "tool"}, {"role": "assistant"}, {"role": "user"}]
    assert turns(messages) == [[0], [1, 2, 3, 4], [5]]


def test_fit_leaves_out_the_oldest_but_never_system_pinned_or_last() -> None:
    messages = [{"role": "system", "content": "s"}] + [
        {"role": role, "content": f"{n}" * 400} for n in range(4) for role in ("user", "assistant")]
    pinned = [messages[3]]  # the second turn's question
    kept, left_out, tokens = fit(messages, 450, pinned=pinned)
    assert kept[0] is messages[0] and messages[3] in kept and kept[-2:] == messages[-2:]
    assert left_out == 2 and tokens <= 450
    assert [m for m in messages[1:3] if m in kept] == []


@pytest.mark.parametrize(("message", "limit", "asked"), [
    ("This model's maximum context length is 8192 tokens. However, your messages resulted in"
     " 9000 tokens. (context_length_exceeded)", 8192, 9000),
    ("prompt is too long: 210000 tokens > 200000 maximum", 200000, 210000),
    ("The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
     1048576, 1200000),
    ("Prompt contains 40000 tokens, too large for model with 32768 maximum context length",
     32768, 40000),
    ("the request exceeds the available context size, try increasing it", None, None),
])
def test_servers_spellings_of_context_overflow(message: str, limit: int | None,
                                               asked: int | None) -> None:
    assert context_overflow(message) == (limit, asked)


def test_other_rejections_are_not_overflow() -> None:
    assert context_overflow("Invalid value for temperature (invalid_request_error)") is None


def test_truncate_leaves_out_the_oldest_turns_and_says_so(fakeapi: FakeAPI, tmp_path: Any) -> None:
    write_config(WINDOW)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "--messages",
                      long_history(tmp_path), "last question"])
    assert (result.exit_code, result.stdout) == (0, "ok\n"), result.stderr
    sent = chats(fakeapi)[0]["messages"]
    assert sent[0] == {"role": "system", "content": "be brief"}
    assert sent[-1] == {"role": "user", "content": "last question"}
    assert [m["content"][:2] for m in sent[1:-1]] == ["q2", "a2", "q3", "a3", "q4", "a4",
                                                      "q5", "a5"][-len(sent[1:-1]):]
    assert len(sent) < 14
    left = (14 - len(sent)) // 2
    assert result.stderr == (f"chatcli: warning: context: {left} earlier turns left out to fit"
                             " gpt-4o-mini's window of 3000 tokens (about"
                             f" {result.stderr.split('about ')[1].split(' ')[0]} tokens sent;"
                             " the history keeps them all)\n")


def test_the_error_policy_stops_before_sending(fakeapi: FakeAPI, tmp_path: Any) -> None:
    write_config(WINDOW)
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "--context",
                      "error", "--messages", long_history(tmp_path), "last"])
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith("chatcli: error: not sent: the conversation is about ")
    assert "over what gpt-4o-mini's window of 3000 tokens leaves 2000 after 1000 for the" \
           " answer\n" in result.stderr
    assert chats(fakeapi) == []


def test_a_short_prompt_never_looks_the_window_up(fakeapi: FakeAPI) -> None:
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "hi"]).exit_code == 0
    assert [r.path for r in fakeapi.requests] == [CHAT_PATH]


def test_a_server_refusal_is_fitted_and_sent_once_more(fakeapi: FakeAPI, tmp_path: Any) -> None:
    fakeapi.add(JSON({"error": {"message": "This model's maximum context length is 4000 tokens."
                                " However, your messages resulted in 6200 tokens.",
                                "code": "context_length_exceeded"}}, status=400))
    fakeapi.add(SSE(text_stream(["fits now"])))
    unpublished(fakeapi)  # the window is looked up first, and not found
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "500", "--messages",
                      long_history(tmp_path, 4, 2000), "--no-history", "last"])
    assert (result.exit_code, result.stdout) == (0, "fits now\n"), result.stderr
    first, second = chats(fakeapi)
    assert len(second["messages"]) < len(first["messages"])
    assert second["messages"][-1]["content"] == "last"
    assert ("the server says the request is over gpt-4o-mini's context window (4000 tokens);"
            " sending it again with") in result.stderr


def test_under_the_error_policy_a_refusal_is_explained(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "prompt is too long: 9000 tokens > 8000 maximum"}},
                     status=400))
    result = run_cli(["--base-url", fakeapi.base_url, "--context", "error", "hi"])
    assert result.exit_code == 4
    assert "--context truncate leaves out the oldest turns" in result.stderr
    assert len(chats(fakeapi)) == 1


def test_the_repl_context_pin_and_policy(fakeapi: FakeAPI) -> None:
    from test_repl import answer, ask, err, out, repl

    write_config(WINDOW)
    for number in range(3):
        fakeapi.add(answer(f"a{number} " + "y" * 2000,
                           usage={"prompt_tokens": 10, "completion_tokens": 500}))
    keys = ("q0 " + "x" * 2000 + "\r/pin 1\rq1 " + "x" * 2000 + "\rq2\r/context\r"
            "/context-policy error\r/context-policy\r/pin 99\r")
    session, env = repl(ask(fakeapi, max_tokens=1000), keys)
    third = [r.json() for r in fakeapi.requests if r.path == CHAT_PATH][2]["messages"]
    assert third[0]["content"].startswith("q0")  # pinned: kept
    assert not any(m["content"].startswith("q1") for m in third)  # left out
    shown = out(env)
    assert "  1  user" in shown and "pinned" in shown and "(left out)" in shown
    assert "of a 3000-token window; policy truncate" in shown
    assert "context policy: error\ncontext policy: error\n" in shown
    assert "1 earlier turn left out to fit" in err(env)
    assert "usage: /pin N, N from 1 to 6" in err(env)
    assert session.context_policy == "error"


def test_a_small_window_keeps_a_quarter_for_the_answer_when_no_cap_is_given() -> None:
    from chatcli.config import Settings
    from chatcli.session.context_fit import fit_request

    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 6000}]}
    fitted = fit_request(body, Settings(), "truncate", client=None, window=3000)
    assert (fitted.limit, fitted.left_out) == (2250, 0)  # not 3000 - 4096
    capped = fit_request({**body, "max_tokens": 2000}, Settings(), "truncate", client=None,
                         window=4000)
    assert capped.limit == 2000


def test_a_title_of_one_long_word_is_cut() -> None:
    from chatcli.history.records import title_of

    assert title_of("x" * 300) == "x" * 80 + "…"
    assert title_of("short prompt") == "short prompt"


def test_every_round_of_a_tool_loop_is_fitted_and_the_history_keeps_all(
        fakeapi: FakeAPI, tmp_path: Any) -> None:
    import sys

    from test_tool_scope import call

    write_config(WINDOW)
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "function": {
        "name": "big", "parameters": {"type": "object", "properties": {}}}}]))
    big = f"big={sys.executable} -c 'import sys; sys.stdout.write(\"z\" * 3000)'"
    fakeapi.add(SSE(call("big")))
    fakeapi.add(SSE(text_stream(["done"])))
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "--tools",
                      str(tools), "--tool-cmd", big, "--yes", "--messages",
                      long_history(tmp_path, 3, 1500), "last"])
    assert (result.exit_code, result.stdout) == (0, "done\n"), result.stderr
    first, second = chats(fakeapi)
    for body in (first, second):
        assert body["messages"][0] == {"role": "system", "content": "be brief"}
        assert len(body["messages"]) < 7 + (body is second) * 2
    assert second["messages"][-1]["role"] == "tool"  # the call and its result go together
    assert second["messages"][-2]["tool_calls"][0]["function"]["name"] == "big"
    assert result.stderr.count("earlier turn") == 1  # said once for the loop
    conversation = run_cli(["history", "list", "--json"]).stdout.split('"id": "')[1][:12]
    stored = json.loads(run_cli(["history", "show", "--json", conversation]).stdout)
    assert [m["message"]["role"] for m in stored["messages"]] == [
        "system", *["user", "assistant"] * 3, "user", "assistant", "tool", "assistant"]


def test_repl_context_keeps_the_same_room_for_the_answer_as_sending_does(
        fakeapi: FakeAPI) -> None:
    from test_repl import answer, ask, out, repl

    write_config(WINDOW)  # no --max-tokens: a quarter of the 3000-token window, not 4096
    fakeapi.add(answer("a0 " + "y" * 400))
    fakeapi.add(answer("a1"))
    _session, env = repl(ask(fakeapi), "q0 " + "x" * 400 + "\rq1\r/context\r")
    assert "(left out)" not in out(env)
    assert "  1  user" in out(env) and "of a 3000-token window" in out(env)
