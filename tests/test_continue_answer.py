"""Continuing an answer cut off at the token limit (or by a dropped connection):
``chatcli -c --more`` in one-shot and ``/continue`` in the REPL send the conversation
and one instruction that is never kept, show only the new part, and the history keeps
the parts as one answer, with their usage added up."""

from __future__ import annotations

import io
import json
import sqlite3
from typing import Any

from rich.console import Console

from chatcli.render import RenderOptions
from chatcli.render.terminal import RichRenderer
from chatcli.session.continuation import INSTRUCTION, added_up, joined_text, opening_fence
from clirun import run_cli, write_config
from fakeapi import CHAT_PATH, SSE, FakeAPI, HangUp, chunk, sse_bytes, text_stream, tool_delta
from test_conversation_names import db_path
from test_repl import ask, err, out, repl

FIRST = {"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60}
SECOND = {"prompt_tokens": 70, "completion_tokens": 20, "total_tokens": 90,
          "completion_tokens_details": {"reasoning_tokens": 3}}


def cut(*pieces: str, usage: dict[str, Any] | None = None) -> SSE:
    return SSE(text_stream(list(pieces), finish_reason="length", usage=usage or FIRST))


def rest(*pieces: str, usage: dict[str, Any] | None = None) -> SSE:
    return SSE(text_stream(list(pieces), usage=usage or SECOND))


def chats(fakeapi: FakeAPI) -> list[dict[str, Any]]:
    return [r.json() for r in fakeapi.requests if r.path == CHAT_PATH]


def cli(fakeapi: FakeAPI, *args: str) -> Any:
    return run_cli(["--base-url", fakeapi.base_url, *args])


def answers() -> list[tuple[str, str, str | None, Any]]:
    with sqlite3.connect(db_path()) as db:
        return [(role, json.loads(message).get("content"), finish, json.loads(usage or "null"))
                for role, message, finish, usage in db.execute(
                    "SELECT role, message, finish_reason, usage FROM messages ORDER BY id")]


def test_more_continues_the_cut_answer_and_keeps_the_parts_as_one(fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("The first half"))
    first = cli(fakeapi, "tell me")
    assert (first.exit_code, first.stdout) == (0, "The first half\n")
    assert ("the answer was cut off at the token limit (finish_reason: length);"
            " `chatcli -c --more` continues it") in first.stderr
    fakeapi.add(rest(" and the second."))
    more = cli(fakeapi, "-c", "--more")
    assert (more.exit_code, more.stdout, more.stderr) == (0, " and the second.\n", "")
    sent = chats(fakeapi)[-1]["messages"]
    assert sent == [{"role": "user", "content": "tell me"},
                    {"role": "assistant", "content": "The first half"},
                    {"role": "user", "content": INSTRUCTION}]
    assert answers() == [
        ("user", "tell me", None, None),
        ("assistant", "The first half and the second.", "stop",
         {"prompt_tokens": 80, "completion_tokens": 70, "total_tokens": 150,
          "completion_tokens_details": {"reasoning_tokens": 3}})]
    fakeapi.add(rest("ok"))
    assert cli(fakeapi, "-c", "next").exit_code == 0
    assert chats(fakeapi)[-1]["messages"] == [  # the instruction is never sent again
        {"role": "user", "content": "tell me"},
        {"role": "assistant", "content": "The first half and the second."},
        {"role": "user", "content": "next"}]


def test_the_stretch_a_continuation_repeats_is_dropped_at_the_seam(fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("Rome was not built in a day, they say, and"))
    assert cli(fakeapi, "proverb").exit_code == 0
    fakeapi.add(rest("built in a day, they say, and neither was this."))
    more = cli(fakeapi, "-c", "--more")
    assert more.exit_code == 0, more.stderr
    assert answers()[-1][1] == "Rome was not built in a day, they say, and neither was this."
    assert joined_text("short", "short again") == "shortshort again"  # too little to be one


def test_a_continuation_cut_again_offers_more_again_and_joins_all_three(
        fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("one"))
    fakeapi.add(cut(" two"))
    fakeapi.add(rest(" three"))
    assert cli(fakeapi, "count").exit_code == 0
    again = cli(fakeapi, "-c", "--more")
    assert "`chatcli -c --more` continues it" in again.stderr
    assert cli(fakeapi, "-c", "--more").exit_code == 0
    role, content, finish, usage = answers()[-1]
    assert (role, content, finish) == ("assistant", "one two three", "stop")
    assert usage["completion_tokens"] == 50 + 50 + 20


def test_cid_names_itself_in_the_offer_and_continues_that_conversation(
        fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("half"))
    assert cli(fakeapi, "--name", "essay", "write").exit_code == 0
    fakeapi.add(rest("other"))
    assert cli(fakeapi, "unrelated").exit_code == 0  # now the latest: -c would not find it
    fakeapi.add(cut(" more"))
    more = cli(fakeapi, "--cid", "essay", "--more")
    assert more.exit_code == 0, more.stderr
    assert "`chatcli --cid essay --more` continues it" in more.stderr
    assert [a[1] for a in answers()] == ["write", "half more", "unrelated", "other"]


def test_an_answer_cut_by_a_dropped_connection_can_be_continued(fakeapi: FakeAPI) -> None:
    fakeapi.add(HangUp(before=sse_bytes([chunk(role="assistant", content="Partial")],
                                        done=False)))
    assert cli(fakeapi, "--retries", "0", "hi").exit_code == 7
    fakeapi.add(rest(" answer"))
    more = cli(fakeapi, "-c", "--more")
    assert (more.exit_code, more.stdout) == (0, " answer\n"), more.stderr
    assert answers()[-1][:3] == ("assistant", "Partial answer", "stop")
    with sqlite3.connect(db_path()) as db:
        assert db.execute("SELECT status FROM messages ORDER BY id DESC").fetchone() == (
            "complete",)


def test_what_more_cannot_continue_is_a_usage_error_before_sending(fakeapi: FakeAPI) -> None:
    nothing = cli(fakeapi, "--more")
    assert nothing.exit_code == 2
    assert "--more needs -c or --cid" in nothing.stderr
    fakeapi.add(rest("done"))
    assert cli(fakeapi, "q").exit_code == 0
    complete = cli(fakeapi, "-c", "--more")
    assert complete.exit_code == 2
    assert "is complete; there is nothing to continue" in complete.stderr
    words = cli(fakeapi, "-c", "--more", "and", "more")
    assert words.exit_code == 2
    assert "it takes no prompt words" in words.stderr
    files = cli(fakeapi, "-c", "--more", "-f", "x.txt", "-s", "be brief")
    assert files.exit_code == 2
    assert "it takes no -f, -s" in files.stderr
    several = cli(fakeapi, "-c", "--more", "-n", "2")
    assert (several.exit_code, "-n must be 1" in several.stderr) == (2, True)
    assert len(chats(fakeapi)) == 1
    assert answers()[-1][1] == "done"  # nothing changed


def test_an_answer_that_asked_for_tools_is_not_continued(fakeapi: FakeAPI, tmp_path: Any
                                                        ) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"type": "function", "function": {"name": "now"}}]))
    fakeapi.add(SSE(sse_bytes([chunk(role="assistant"),
                               chunk(tool_calls=[tool_delta(0, "c1", "now", "{}")]),
                               chunk(finish_reason="tool_calls")])))
    assert cli(fakeapi, "--tools", str(tools), "time?").exit_code == 0
    refused = cli(fakeapi, "-c", "--more")
    assert refused.exit_code == 2
    assert "asks for tools; there is nothing to continue" in refused.stderr


def test_extract_takes_the_code_of_the_whole_joined_answer(fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("Here:\n\n```python\ndef f():\n"))
    assert cli(fakeapi, "code").exit_code == 0
    fakeapi.add(rest("    return 1\n```\n"))
    more = cli(fakeapi, "-c", "--more", "-x")
    assert (more.exit_code, more.stdout) == (0, "def f():\n    return 1\n"), more.stderr


def test_dry_run_shows_the_continuing_request_and_sends_nothing(fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("half"))
    assert cli(fakeapi, "q").exit_code == 0
    shown = cli(fakeapi, "-c", "--more", "--dry-run")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["messages"][-1] == {"role": "user", "content": INSTRUCTION}
    assert len(chats(fakeapi)) == 1
    assert answers()[-1][1] == "half"


def test_more_is_held_to_the_budget(fakeapi: FakeAPI) -> None:
    write_config('[models."gpt-4o-mini"]\nprice_input = 1000.0\nprice_output = 1000.0\n')
    fakeapi.add(cut("half"))
    assert cli(fakeapi, "-m", "gpt-4o-mini", "q").exit_code == 0
    over = cli(fakeapi, "-c", "--more", "--max-cost", "0.01")
    assert over.exit_code == 4, over.stderr
    assert len(chats(fakeapi)) == 1


def test_without_history_the_warning_offers_nothing_to_run(fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("half"))
    result = cli(fakeapi, "--no-history", "q")
    assert result.stderr.rstrip().endswith("(finish_reason: length)")


def test_repl_continue_joins_the_answer_and_sends_it_whole_next(fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("Once upon", usage=FIRST))
    fakeapi.add(rest(" a time.", usage=SECOND))
    fakeapi.add(rest("The end."))
    session, env = repl(ask(fakeapi), "tell a story\r/continue\rgo on\r/continue\r")
    assert "(finish_reason: length); /continue continues it" in err(env)
    assert "Once upon" in out(env) and " a time." in out(env)
    sent = chats(fakeapi)
    assert sent[1]["messages"][-2:] == [{"role": "assistant", "content": "Once upon"},
                                        {"role": "user", "content": INSTRUCTION}]
    assert sent[2]["messages"] == [{"role": "user", "content": "tell a story"},
                                   {"role": "assistant", "content": "Once upon a time."},
                                   {"role": "user", "content": "go on"}]
    assert "/continue: the last answer was not cut off" in err(env)
    assert len(sent) == 3
    assert [a[1] for a in answers()] == ["tell a story", "Once upon a time.", "go on",
                                         "The end."]
    assert answers()[1][3]["completion_tokens"] == 70
    assert session.usage_totals()[:2] == (80 + 70, 70 + 20)


def test_repl_continue_after_load_continues_a_stored_cut_answer(fakeapi: FakeAPI) -> None:
    fakeapi.add(cut("half"))
    assert cli(fakeapi, "q").exit_code == 0
    fakeapi.add(rest(" whole"))
    _session, env = repl(ask(fakeapi, continue_last=True), "/continue\r")
    assert " whole" in out(env), err(env)
    assert answers()[-1][1] == "half whole"


def test_a_cut_inside_a_code_block_goes_on_as_code_on_a_terminal() -> None:
    assert opening_fence("Here:\n\n```python\ndef f():\n") == "```python\n"
    assert opening_fence("```python\nx\n```\nprose") == ""
    assert opening_fence("~~~~\n```\nstill code") == "~~~~\n"
    console = Console(file=io.StringIO(), force_terminal=True, width=60, record=True)
    renderer = RichRenderer(console, RenderOptions(), opening="```python\n")
    from chatcli.protocol.events import TextDelta
    from chatcli.protocol.result import TurnResult

    renderer.start()
    renderer.on_events([TextDelta("# not a heading\nx = 1\n```\n")], None)
    renderer.finish(TurnResult({"choices": [{"index": 0, "message": {"role": "assistant"}}]}))
    shown = console.export_text()
    assert "# not a heading" in shown and "```" not in shown


def test_usage_objects_add_up_key_by_key() -> None:
    assert added_up({"a": 1, "d": {"x": 2}}, {"a": 2, "b": 3, "d": {"x": 1}}) == {
        "a": 3, "b": 3, "d": {"x": 3}}
    assert added_up(None, {"a": 1}) == {"a": 1}
    assert added_up({"a": 1}, None) == {"a": 1}
