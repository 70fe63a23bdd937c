"""Budgets: ``budget_daily``, ``budget_monthly`` and ``--max-cost`` refuse (exit 4) a
request that could cost more than is left, before it is sent; on a terminal the user may
send it once anyway; an answer that runs past a budget is a warning saying by how much."""

from __future__ import annotations

import io
import os
import sqlite3
import sys
from pathlib import Path

from chatcli.history import HistoryStore
from chatcli.session.spending import month_start
from chatcli.session.token_estimate import message_tokens, request_tokens, text_tokens
from clirun import process_env, run_cli, unpublished, write_config
from fakeapi import SSE, FakeAPI, text_stream

# $1 per 1000 output tokens: --max-tokens 1000 makes a request that may cost $1.00.
PRICES = '[models."gpt-4o-mini"]\nprice_input = 1.0\nprice_output = 1000.0\n'


def spent_before(dollars: float, *, at: float | None = None) -> None:
    """An earlier answer in the history that cost ``dollars`` (at ``PRICES``)."""
    history = HistoryStore.open(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db")
    try:
        cid = history.create_conversation("earlier", profile=None, base_url="http://x/v1",
                                          model="gpt-4o-mini")
        history.append(cid, {"role": "assistant", "content": "a"}, usage={
            "prompt_tokens": 0, "completion_tokens": round(dollars * 1000)})
    finally:
        history.close()
    if at is not None:
        with sqlite3.connect(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db") as db:
            db.execute("UPDATE messages SET created_at = ? WHERE conversation_id = ?", (at, cid))


def chat_requests(fakeapi: FakeAPI) -> int:
    return len([r for r in fakeapi.requests if r.path == "/v1/chat/completions"])


def test_the_estimate_counts_text_messages_images_and_tools() -> None:
    assert text_tokens("") == 0 and text_tokens("abcd") == 1 and text_tokens("abcde") == 2
    assert message_tokens({"role": "user", "content": "x" * 40}) == 14
    image = {"role": "user", "content": [{"type": "text", "text": "what"},
                                         {"type": "image_url", "image_url": {"url": "u"}}]}
    assert message_tokens(image) == 4 + 1 + 765
    tools = [{"type": "function", "function": {"name": "f"}}]
    assert request_tokens([], tools) > 0 and request_tokens([{"content": "ab"}]) == 5


def test_a_request_over_what_the_day_has_left_is_not_sent(fakeapi: FakeAPI) -> None:
    write_config("budget_daily = 1.5\n" + PRICES)
    spent_before(0.6)
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "hi"])
    assert (result.exit_code, result.stdout) == (4, "")
    assert result.stderr.startswith(
        "chatcli: error: not sent: budget_daily $1.50: $0.60 spent today, $0.90 left; this"
        " request could cost up to $1.00 (about 5 tokens in, up to 1000 out, at gpt-4o-mini's"
        " prices)\n")
    assert "--max-cost" in result.stderr  # the hint
    assert chat_requests(fakeapi) == 0


def test_under_the_budget_it_is_sent_and_passing_it_is_said(fakeapi: FakeAPI) -> None:
    write_config("budget_daily = 1.5\n" + PRICES)
    spent_before(0.2)
    fakeapi.add(SSE(text_stream(["ok"], usage={"prompt_tokens": 5,
                                               "completion_tokens": 1400})))
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "hi"])
    assert (result.exit_code, result.stdout) == (0, "ok\n"), result.stderr
    assert result.stderr == ("chatcli: warning: budget_daily $1.50 passed by $0.10: $1.60"
                             " spent today\n")


def test_yesterday_is_not_today_but_is_this_month(fakeapi: FakeAPI) -> None:
    write_config("budget_daily = 1.5\n" + PRICES)
    spent_before(5.0, at=0.0)  # long ago: not today
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "hi"]
                   ).exit_code == 0
    write_config("budget_monthly = 5.5\n" + PRICES)
    spent_before(5.0, at=month_start() + 1)
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "hi"])
    assert result.exit_code == 4
    assert "budget_monthly $5.50: $5.00 spent this month, $0.50 left" in result.stderr


def test_max_cost_caps_one_call(fakeapi: FakeAPI) -> None:
    write_config(PRICES)
    result = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "--max-cost",
                      "0.5", "hi"])
    assert result.exit_code == 4
    assert result.stderr.startswith("chatcli: error: not sent: --max-cost $0.50: $0.50 left;"
                                    " this request could cost up to $1.00")
    fakeapi.add(SSE(text_stream(["ok"])))
    assert run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "--max-cost", "2",
                    "hi"]).exit_code == 0


def test_unknown_prices_are_said_and_the_request_goes(fakeapi: FakeAPI) -> None:
    write_config("budget_daily = 1\n")
    unpublished(fakeapi)
    fakeapi.add(SSE(text_stream(["ok"])))
    result = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert result.exit_code == 0
    assert result.stderr == ("chatcli: warning: a budget is set, but the prices of gpt-4o-mini"
                             " are unknown, so it is not held to (set them under"
                             ' [models."gpt-4o-mini"] in config.toml)\n')


def test_without_history_only_this_request_is_held_to_the_budget(fakeapi: FakeAPI) -> None:
    write_config("budget_daily = 0.5\n" + PRICES)
    result = run_cli(["--base-url", fakeapi.base_url, "--no-history", "--max-tokens", "1000",
                      "hi"])
    assert result.exit_code == 4
    assert result.stderr.startswith("chatcli: warning: budget_daily: the history is off, so"
                                    " what was spent today is unknown; only this request is"
                                    " held to it\n")


def test_on_a_terminal_it_may_be_sent_once_anyway(fakeapi: FakeAPI, tmp_path: Path) -> None:
    import pexpect

    write_config("budget_daily = 0.5\n" + PRICES)
    for answer, status in (("n", 4), ("y", 0)):
        if status == 0:
            fakeapi.add(SSE(text_stream(["sent anyway"])))
        child = pexpect.spawn(sys.executable, [
            "-m", "chatcli", "--base-url", fakeapi.base_url, "--max-tokens", "1000", "hi"],
            env=process_env({"TERM": "xterm"}), timeout=30, dimensions=(30, 150),
            encoding="utf-8")
        child.logfile_read = io.StringIO()
        child.expect(r"over budget: budget_daily \$0\.50: \$0\.00 spent today")
        child.expect(r"send it once anyway\? \[y/N\]: ")
        child.sendline(answer)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == status, child.logfile_read.getvalue()
    assert chat_requests(fakeapi) == 1
    assert "sent anyway" in child.logfile_read.getvalue()


def test_the_repl_keeps_the_session_to_max_cost(fakeapi: FakeAPI) -> None:
    from test_repl import answer, ask, err, out, repl

    write_config(PRICES)
    fakeapi.add(answer("first", usage={"prompt_tokens": 5, "completion_tokens": 700}))
    # Enter on the empty-looking prompt sends q2 again: it came back, and is refused again.
    _, env = repl(ask(fakeapi, max_cost=1.0, max_tokens=500), "q1\rq2\r\r")
    assert chat_requests(fakeapi) == 1
    assert out(env).startswith("first")
    assert err(env).startswith("chatcli: error: not sent: --max-cost $1.00: $0.70 spent in"
                               " this session, $0.30 left; this request could cost up to")
    assert err(env).count("not sent: --max-cost") == 2
