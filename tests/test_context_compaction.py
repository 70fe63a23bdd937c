"""The ``compact`` context policy: the turns that do not fit are summarised by a model
(or ``compact_model``) and the summary is sent in their place; the history keeps the
summary beside the originals, so ``-c`` sends the summary and ``history show`` still
shows everything; a failed summary falls back to leaving the turns out."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from chatcli.session.compaction import INSTRUCTIONS, SUMMARY_ACK, SUMMARY_OPENING, compacted
from clirun import run_cli, write_config
from fakeapi import JSON, SSE, FakeAPI, text_stream
from test_context_window import chats, long_history
from test_conversation_names import db_path

COMPACT = ('context = "compact"\n[models."gpt-4o-mini"]\ncontext_window = 3000\n'
           "price_input = 1.0\nprice_output = 2.0\n")
SUMMARY_USAGE = {"prompt_tokens": 900, "completion_tokens": 60, "total_tokens": 960}


def ask_long(fakeapi: FakeAPI, tmp_path: Any, *extra: str) -> Any:
    return run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "--messages",
                    long_history(tmp_path), *extra, "last question"])


def test_the_turns_that_do_not_fit_go_as_a_summary(fakeapi: FakeAPI, tmp_path: Any) -> None:
    write_config(COMPACT)
    fakeapi.add(SSE(text_stream(["They spoke of q0 to q2."], usage=SUMMARY_USAGE)))
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask_long(fakeapi, tmp_path)
    assert (result.exit_code, result.stdout) == (0, "ok\n"), result.stderr
    summary_request, sent = chats(fakeapi)
    assert summary_request["messages"][0] == {"role": "system", "content": INSTRUCTIONS}
    transcript = summary_request["messages"][1]["content"]
    assert transcript.startswith("user: q0 ") and "assistant: a0 " in transcript
    assert "tools" not in summary_request
    messages = sent["messages"]
    assert messages[0] == {"role": "system", "content": "be brief"}
    assert messages[1] == {"role": "user", "content": SUMMARY_OPENING + "They spoke of q0 to q2."}
    assert messages[2] == {"role": "assistant", "content": SUMMARY_ACK}
    assert messages[-1] == {"role": "user", "content": "last question"}
    summarised = transcript.count("user: q")
    assert [m["content"][:2] for m in messages[3:-1]] == [
        f"{kind}{n}" for n in range(summarised, 6) for kind in "qa"]
    assert f"context: {summarised} earlier turns summarised by gpt-4o-mini to fit" \
           " gpt-4o-mini's window of 3000 tokens" in result.stderr


def test_a_continued_conversation_sends_the_summary_and_the_history_keeps_all(
        fakeapi: FakeAPI, tmp_path: Any) -> None:
    write_config(COMPACT)
    fakeapi.add(SSE(text_stream(["the summary"], usage=SUMMARY_USAGE)))
    fakeapi.add(SSE(text_stream(["ok"], usage={"prompt_tokens": 1500,
                                               "completion_tokens": 5})))
    assert ask_long(fakeapi, tmp_path).exit_code == 0
    fakeapi.add(SSE(text_stream(["again"])))
    again = run_cli(["--base-url", fakeapi.base_url, "--max-tokens", "1000", "-c", "next"])
    assert again.exit_code == 0, again.stderr
    third = chats(fakeapi)[2]["messages"]
    assert third[1]["content"] == SUMMARY_OPENING + "the summary"
    assert not any(str(m["content"]).startswith("q0 ") for m in third)
    assert third[-1] == {"role": "user", "content": "next"}
    assert len(chats(fakeapi)) == 3  # it fits now: no second summary
    db = sqlite3.connect(db_path())
    (cid,), = db.execute("SELECT id FROM conversations").fetchall()
    shown = run_cli(["history", "show", cid])
    assert "q0 xxx" in shown.stdout and "the summary" not in shown.stdout
    (replaces, model), = db.execute("SELECT replaces, model FROM summaries").fetchall()
    assert model == "gpt-4o-mini" and len(json.loads(replaces)) >= 2
    usage = json.loads(run_cli(["usage", "--json"]).stdout)
    assert usage["total"]["prompt_tokens"] == 900 + 1500


def test_compact_model_writes_the_summary(fakeapi: FakeAPI, tmp_path: Any) -> None:
    write_config('compact_model = "cheap"\n' + COMPACT)
    fakeapi.add(SSE(text_stream(["short"])))
    fakeapi.add(SSE(text_stream(["ok"])))
    result = ask_long(fakeapi, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert [c["model"] for c in chats(fakeapi)] == ["cheap", "gpt-4o-mini"]
    assert "summarised by cheap" in result.stderr


def test_a_failed_summary_leaves_the_turns_out_instead(fakeapi: FakeAPI, tmp_path: Any) -> None:
    write_config(COMPACT)
    fakeapi.add(JSON({"error": {"message": "no such model"}}, status=400))
    fakeapi.add(SSE(text_stream(["still answered"])))
    result = ask_long(fakeapi, tmp_path)
    assert (result.exit_code, result.stdout) == (0, "still answered\n"), result.stderr
    assert "context: the summary request to gpt-4o-mini failed (" in result.stderr
    assert "the oldest turns are left out instead" in result.stderr
    sent = chats(fakeapi)[1]["messages"]
    assert not any(SUMMARY_OPENING in str(m["content"]) for m in sent)
    assert "earlier turns left out to fit" in result.stderr


def test_the_flag_chooses_compact_and_a_bad_policy_is_a_config_error(
        fakeapi: FakeAPI, tmp_path: Any) -> None:
    write_config('[models."gpt-4o-mini"]\ncontext_window = 3000\n')
    fakeapi.add(SSE(text_stream(["s"])))
    fakeapi.add(SSE(text_stream(["ok"])))
    assert ask_long(fakeapi, tmp_path, "--context", "compact").exit_code == 0
    assert chats(fakeapi)[1]["messages"][1]["content"] == SUMMARY_OPENING + "s"
    write_config('context = "squash"\n')
    bad = run_cli(["--base-url", fakeapi.base_url, "hi"])
    assert bad.exit_code == 3 and "must be one of truncate, compact, error" in bad.stderr


def test_compacted_puts_the_summary_where_the_first_replaced_message_was() -> None:
    system, pinned = {"role": "system"}, {"role": "user", "content": "pinned"}
    a, b, c = {"role": "user"}, {"role": "assistant"}, {"role": "user", "content": "last"}
    turn = [{"role": "user", "content": "S"}, {"role": "assistant", "content": "ok"}]
    assert compacted([system, a, b, pinned, c], [a, b], turn) == [system, *turn, pinned, c]


def test_the_repl_compacts_on_request_and_on_its_own(fakeapi: FakeAPI) -> None:
    from test_repl import answer, ask, err, out, repl

    write_config(COMPACT)
    for number in range(2):
        fakeapi.add(answer(f"a{number} " + "y" * 400,
                           usage={"prompt_tokens": 10, "completion_tokens": 100}))
    fakeapi.add(answer("SUMMARY", usage=SUMMARY_USAGE))  # for /compact
    fakeapi.add(answer("a2"))
    keys = "q0 " + "x" * 400 + "\rq1\r/compact\r/edit\rq2\r/compact 3\r/context-policy compact\r"
    session, env = repl(ask(fakeapi, max_tokens=1000), keys)
    requests = chats(fakeapi)
    assert requests[2]["messages"][1]["content"].startswith("user: q0 ")  # /compact asked
    last = requests[3]["messages"]
    assert last[0] == {"role": "user", "content": SUMMARY_OPENING + "SUMMARY"}
    assert [m["content"][:2] for m in last[1:]] == [SUMMARY_ACK[:2], "q1", "a1", "q2"]
    assert "1 turn summarised: about" in out(env)
    stored = sqlite3.connect(db_path()).execute("SELECT messages FROM summaries").fetchall()
    assert [json.loads(m)[0]["content"] for m, in stored] == [SUMMARY_OPENING + "SUMMARY"]
    assert "  1  q1\n  2  q2" not in out(env) and "  1  q1" in out(env)  # /edit skips it
    assert "nothing to compact before the last 3 turns" in err(env)
    assert "context policy: compact" in out(env)
    assert session.usage_totals()[0] >= 900  # the summary's cost still counts
