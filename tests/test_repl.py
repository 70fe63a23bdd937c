"""The REPL (``chatcli chat``): keys through prompt-toolkit's pipe input against the fake
API, the session's state and history, and real pseudo-terminal sessions."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from chatcli.config import data_dir
from chatcli.errors import UsageError
from chatcli.history import HistoryStore
from chatcli.repl.prompt import ChatCompleter, build_prompt, chat
from chatcli.repl.session import ChatSession, open_session
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest
from clirun import process_env, unpublished
from clirun import repl_ready as prompt_ready
from fakeapi import (
    CHAT_PATH,
    JSON,
    MODELS_PATH,
    SSE,
    FakeAPI,
    Gate,
    chunk,
    models,
    sse_bytes,
    text_stream,
    tool_delta,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
USAGE = {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}


def screen(terminal: bool = False) -> Environment:
    """Streams for the session: plain text, or the rich renderer when ``terminal``."""
    return Environment(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO(),
                       stdin_is_terminal=True, stdout_is_terminal=terminal,
                       stderr_is_terminal=False)


def ask(fakeapi: FakeAPI, *prompt: str, flags: dict[str, Any] | None = None,
        **options: Any) -> AskRequest:
    return AskRequest(prompt=list(prompt), flags={"base_url": fakeapi.base_url, **(flags or {})},
                      **options)


def out(env: Environment) -> str:
    assert isinstance(env.stdout.stream, io.StringIO)
    return env.stdout.stream.getvalue()


def err(env: Environment) -> str:
    assert isinstance(env.stderr.stream, io.StringIO)
    return env.stderr.stream.getvalue()


def repl(request: AskRequest, keys: str, env: Environment | None = None, *, piped: str = "",
         history: History | None = None) -> tuple[ChatSession, Environment]:
    """Run the whole REPL on ``keys``; the input ends after them (as Ctrl-D would)."""
    env = env or screen()
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        pipe.close()
        session = chat(request, env, piped=piped, input=pipe, output=DummyOutput(),
                       history=history or InMemoryHistory())
    return session, env


def no_catalog(fakeapi: FakeAPI, model: str = "gpt-4o-mini") -> None:
    """The endpoint describes no model (a 404 for the catalog and for models/ID)."""
    fakeapi.add(JSON({"error": {"message": "no"}}, status=404), path=f"/v1/model-catalog/{model}")
    fakeapi.add(JSON({"error": {"message": "no"}}, status=404), path=f"/v1/models/{model}")


def answer(*pieces: str, usage: dict[str, int] | None = None) -> SSE:
    return SSE(text_stream(list(pieces), usage=usage))


def sent(fakeapi: FakeAPI, index: int = -1) -> dict[str, Any]:
    chats = [r for r in fakeapi.requests if r.path == CHAT_PATH]
    body: dict[str, Any] = chats[index].json()
    return body


def user_texts(fakeapi: FakeAPI) -> list[Any]:
    return [sent(fakeapi, i)["messages"][-1]["content"]
            for i in range(len([r for r in fakeapi.requests if r.path == CHAT_PATH]))]


@pytest.fixture
def store() -> Iterator[HistoryStore]:
    opened = HistoryStore.open(data_dir() / "history.db")
    yield opened
    opened.close()


def stored(store: HistoryStore, conversation_id: str | None) -> list[tuple[str, Any, str]]:
    assert conversation_id is not None
    return [(m.message["role"], m.message.get("content"), m.status)
            for m in store.messages(conversation_id)]


# -- conversation ------------------------------------------------------------------


def test_two_turns_send_the_first_exchange_back(fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(answer("Hello", " there"))
    fakeapi.add(answer("Fine"))
    session, env = repl(ask(fakeapi), "hi\rhow are you?\r/exit\r")
    assert sent(fakeapi)["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello there"},
        {"role": "user", "content": "how are you?"},
    ]
    assert out(env) == "Hello there\nFine\n"
    assert err(env) == ""
    assert stored(store, session.conversation_id) == [
        ("user", "hi", "complete"), ("assistant", "Hello there", "complete"),
        ("user", "how are you?", "complete"), ("assistant", "Fine", "complete")]


def test_prompt_words_are_the_first_message_with_piped_text_and_files(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("remember\n")
    fakeapi.add(answer("ok"))
    fakeapi.add(answer("ok again"))
    repl(ask(fakeapi, "summarize", files=[str(notes)], system="be brief"), "next\r",
         piped="piped text")
    assert sent(fakeapi, 0)["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": f"summarize\n\npiped text\n\n```{notes}\nremember\n```"}]
    assert sent(fakeapi)["messages"][-1] == {"role": "user", "content": "next"}


def test_piped_text_waits_for_the_first_typed_message(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("seen"))
    repl(ask(fakeapi), "what is this?\r", piped="a diff\n")
    assert user_texts(fakeapi) == ["what is this?\n\na diff\n"]


def test_a_404_in_the_repl_names_the_url_and_suggests_v1(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"detail": "Not Found"}, status=404), path="/chat/completions")
    root = f"http://127.0.0.1:{fakeapi.port}"
    _, env = repl(ask(fakeapi, flags={"base_url": root}), "hi\r")
    first, hint = err(env).splitlines()
    assert first.startswith(f"chatcli: error: HTTP 404: Not Found — POST {root}/chat/completions")
    assert hint == f"did you mean {root}/v1?"


def test_a_failed_turn_prints_one_line_and_the_repl_goes_on(fakeapi: FakeAPI) -> None:
    fakeapi.add(JSON({"error": {"message": "model overloaded"}}, status=400))
    fakeapi.add(answer("recovered"))
    _, env = repl(ask(fakeapi), "first\rsecond\r")
    assert err(env).startswith("chatcli: error: HTTP 400: model overloaded (trace id ")
    assert err(env).count("\n") == 1
    assert out(env) == "recovered\n"
    assert user_texts(fakeapi) == ["first", "second"]


def test_unknown_command_and_bad_arguments_are_one_line_errors(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("still here"))
    _, env = repl(ask(fakeapi), "/frobnicate now\r/\r/reasoning loud\r/set temperature\rgo\r")
    assert err(env) == ("chatcli: error: unknown command /frobnicate; /help lists the commands\n"
                        "chatcli: error: unknown command /; /help lists the commands\n"
                        "chatcli: error: usage: /reasoning show|hide\n"
                        "chatcli: error: usage: /set KEY VALUE\n")
    assert out(env) == "still here\n"


# -- tools ------------------------------------------------------------------------------


FUNCTIONS = str(Path(__file__).resolve().parent / "tools_fixtures" / "sample_functions.py")
WEATHER_CALL = {"id": "call_w", "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}


def weather_call() -> SSE:
    return SSE(sse_bytes([
        chunk(role="assistant", content=None),
        chunk(tool_calls=[tool_delta(0, "call_w", "get_weather", '{"city": ')]),
        chunk(tool_calls=[tool_delta(0, arguments='"Paris"}')]),
        chunk(finish_reason="tool_calls"),
    ]))


def answering(*lines: str, terminal: bool = False) -> Environment:
    """Session streams whose terminal answers the approval prompt with ``lines``."""
    env = screen(terminal)
    env.stdin = io.StringIO("".join(f"{line}\n" for line in lines))
    return env


class CtrlC(io.StringIO):
    """A terminal where the user presses Ctrl-C at the approval prompt."""

    def readline(self, size: int | None = -1, /) -> str:
        raise KeyboardInterrupt


def test_a_function_tool_runs_in_the_repl_and_its_result_goes_back(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(weather_call())
    fakeapi.add(answer("It is 21 degrees."))
    fakeapi.add(answer("You are welcome."))
    session, env = repl(ask(fakeapi, functions=[FUNCTIONS], yes=True), "weather?\rthanks\r")
    tool_result = {"role": "tool", "tool_call_id": "call_w",
                   "content": "Paris: 21 degrees celsius"}
    assistant_call = {"role": "assistant", "content": None, "tool_calls": [WEATHER_CALL]}
    assert sent(fakeapi, 1)["messages"] == [
        {"role": "user", "content": "weather?"}, assistant_call, tool_result]
    assert "get_weather" in {t["function"]["name"] for t in sent(fakeapi, 0)["tools"]}
    assert sent(fakeapi)["messages"][3:] == [
        {"role": "assistant", "content": "It is 21 degrees."},
        {"role": "user", "content": "thanks"}]
    assert out(env) == "It is 21 degrees.\nYou are welcome.\n"
    lines = err(env).splitlines()
    assert lines[0] == 'tool call: get_weather({"city":"Paris"}) [call_w]'
    assert lines[1].startswith("tool result [call_w] get_weather (")
    assert len(lines) == 2
    assert [role for role, _, _ in stored(store, session.conversation_id)] == [
        "user", "assistant", "tool", "assistant", "user", "assistant"]


def test_tool_outcomes_are_panels_in_rich_mode(fakeapi: FakeAPI) -> None:
    fakeapi.add(weather_call())
    fakeapi.add(answer("Warm."))
    _, env = repl(ask(fakeapi, functions=[FUNCTIONS], yes=True), "weather?\r",
                  env=screen(terminal=True))
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out(env))
    assert "╭─ get_weather · " in shown
    assert "│ Paris: 21 degrees celsius │" in shown
    assert "Warm." in shown


def test_slash_tools_lists_tools_and_their_approval(fakeapi: FakeAPI) -> None:
    fakeapi.add(weather_call())
    fakeapi.add(answer("Warm."))
    env = answering("a")
    _, env = repl(ask(fakeapi, functions=[FUNCTIONS], approve=["fails"]),
              "/tools\rweather?\r/tools\r", env=env)
    before, after = out(env).split("Warm.\n")
    rows = {line.split()[0]: line for line in before.splitlines()}
    assert rows["get_weather"].split()[1:4] == ["ask", "function", "in"]
    assert rows["get_weather"].endswith("Current weather for a city.")
    assert FUNCTIONS in rows["get_weather"]
    assert rows["fails"].split()[1] == "always-approved"
    assert rows["no_arguments"].split()[1] == "ask"
    assert "Run get_weather? [y]es" in before
    rows = {line.split()[0]: line for line in after.splitlines()}
    assert rows["get_weather"].split()[1] == "always-approved"
    assert sent(fakeapi)["messages"][2]["content"] == "Paris: 21 degrees celsius"


def test_slash_tools_with_no_tools_and_with_yes(fakeapi: FakeAPI) -> None:
    _, env = repl(ask(fakeapi), "/tools\r")
    assert out(env).startswith("no tools are loaded")
    _, env = repl(ask(fakeapi, functions=[FUNCTIONS], yes=True), "/tools\r")
    assert {line.split()[1] for line in out(env).splitlines()} == {"auto"}


def test_an_unapproved_call_is_refused_when_no_answer_comes(fakeapi: FakeAPI) -> None:
    fakeapi.add(weather_call())
    fakeapi.add(answer("I could not check."))
    _, env = repl(ask(fakeapi, functions=[FUNCTIONS]), "weather?\r")
    tool_message = sent(fakeapi)["messages"][2]
    assert tool_message["role"] == "tool"
    assert tool_message["content"].startswith("refused: the user declined")
    assert "tool result [call_w] get_weather refused" in err(env)
    assert out(env).endswith("I could not check.\n")


def test_ctrl_c_at_approval_cancels_the_exchange_and_keeps_what_was_stored(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(weather_call())
    fakeapi.add(answer("Ask me again."))
    env = screen()
    env.stdin = CtrlC()
    session, env = repl(ask(fakeapi, functions=[FUNCTIONS]), "weather?\rnever mind\r", env=env)
    assert "chatcli: interrupted\n" in err(env)
    assert stored(store, session.conversation_id)[:2] == [
        ("user", "weather?", "complete"), ("assistant", None, "complete")]
    messages = sent(fakeapi)["messages"]
    assert messages[1]["tool_calls"] == [WEATHER_CALL]
    assert messages[2] == {"role": "tool", "tool_call_id": "call_w",
                           "content": "not run: the exchange ended before this tool call ran"}
    assert messages[3] == {"role": "user", "content": "never mind"}
    assert [m["role"] for m in session.messages] == ["user", "assistant", "tool", "user",
                                                      "assistant"]


def test_bad_tool_flags_stop_the_repl_before_any_request(fakeapi: FakeAPI) -> None:
    with pytest.raises(UsageError, match="NAME=COMMAND"):
        repl(ask(fakeapi, tool_cmds=["date"]), "hi\r")
    assert fakeapi.requests == []


def test_help_lists_every_command(fakeapi: FakeAPI) -> None:
    _, env = repl(ask(fakeapi), "/help\r")
    for name in ("/help", "/model [NAME]", "/system [TEXT]", "/set KEY VALUE", "/unset KEY",
                 "/attach PATH…", "/image PATH|URL…", "/clear", "/undo", "/retry", "/history",
                 "/load ID", "/save FILE", "/copy [code]", "/extract [N] [FILE]", "/usage",
                 "/reasoning show|hide", "/tools", "/exit", "Ctrl-X Ctrl-E"):
        assert name in out(env), name


def test_double_slash_sends_a_message_that_starts_with_a_slash(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("a path"))
    repl(ask(fakeapi), "//etc/hosts is what?\r")
    assert user_texts(fakeapi) == ["/etc/hosts is what?"]


def test_exit_leaves_before_later_lines(fakeapi: FakeAPI) -> None:
    _, env = repl(ask(fakeapi), "/exit\rnever sent\r")
    assert fakeapi.requests == []
    assert (out(env), err(env)) == ("", "")


# -- request settings -----------------------------------------------------------------


def test_model_system_set_and_unset_change_the_next_body(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("one"))
    fakeapi.add(answer("two"))
    keys = ("/model\r/model big-model\r/system be terse\r/system\r/set temperature 0.25\r"
            "/set response_format.type json_object\r/set user alice\rfirst\r"
            "/unset temperature\r/unset response_format.type\r/unset seed\rsecond\r")
    _, env = repl(ask(fakeapi, seed=7), keys)
    first, second = sent(fakeapi, 0), sent(fakeapi, 1)
    assert first["model"] == "big-model"
    assert first["messages"][0] == {"role": "system", "content": "be terse"}
    assert (first["temperature"], first["response_format"], first["user"], first["seed"]) == (
        0.25, {"type": "json_object"}, "alice", 7)
    assert "temperature" not in second and "response_format" not in second and "seed" not in second
    assert second["user"] == "alice"
    assert out(env).startswith("model: gpt-4o-mini\nmodel: big-model\nsystem message set\n"
                               "be terse\ntemperature = 0.25\nresponse_format.type = "
                               "\"json_object\"\nuser = \"alice\"\n")
    assert "temperature unset\nresponse_format.type unset\nseed unset\n" in out(env)


def test_unset_removes_a_profile_param_and_set_brings_it_back(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(
        f'[profiles.local]\nbase_url = "{fakeapi.base_url}"\nparams = {{ top_p = 0.5 }}\n')
    for _ in range(3):
        fakeapi.add(answer("ok"))
    _, env = repl(AskRequest(prompt=[], flags={"profile": "local"}),
                  "one\r/unset top_p\rtwo\r/set top_p 0.75\rthree\r/unset nothing\r")
    assert [sent(fakeapi, i).get("top_p") for i in range(3)] == [0.5, None, 0.75]
    assert "top_p" not in sent(fakeapi, 1)
    assert err(env) == "chatcli: error: nothing is not in the request\n"


def test_a_system_message_set_mid_conversation_goes_first(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(answer("a1"))
    fakeapi.add(answer("a2"))
    session, _ = repl(ask(fakeapi), "q1\r/system\nanswer in French\rq2\r")
    assert [(m["role"], m["content"]) for m in sent(fakeapi)["messages"]] == [
        ("system", "answer in French"), ("user", "q1"), ("assistant", "a1"), ("user", "q2")]
    assert [content for _, content, _ in stored(store, session.conversation_id)] == [
        "answer in French", "q1", "a1", "q2", "a2"]  # stored as sent


def test_reasoning_hide_and_show_with_the_rich_renderer(fakeapi: FakeAPI) -> None:
    def thinking_answer(text: str) -> SSE:
        return SSE(sse_bytes([chunk(role="assistant", reasoning_content="pondering deeply\n"),
                              chunk(content=text), chunk(finish_reason="stop")]))

    fakeapi.add(thinking_answer("**shown**"))
    fakeapi.add(thinking_answer("hidden thoughts"))
    _, env = repl(ask(fakeapi), "a\r/reasoning hide\rb\r", env=screen(terminal=True))
    first, rest = out(env).split("reasoning: hide")
    assert "pondering deeply" in first and "\x1b[1mshown\x1b[0m" in first  # Markdown, bold
    assert "pondering" not in rest and "hidden thoughts" in rest


# -- attachments ---------------------------------------------------------------------


def test_attach_and_image_queue_parts_for_the_next_message(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print(1)\n")
    (tmp_path / "pic.png").write_bytes(PNG)
    fakeapi.add(answer("seen"))
    fakeapi.add(answer("plain"))
    no_catalog(fakeapi)  # images: the model's input modalities are looked up first
    keys = (f"/attach {tmp_path}/a.py {tmp_path}/missing.txt\r/attach {tmp_path}/a.py\r"
            f"/image {tmp_path}/pic.png https://example.test/cat.jpg\r/image {tmp_path}/a.py\r"
            "look\rand now?\r")
    _, env = repl(ask(fakeapi), keys)
    content = sent(fakeapi, 0)["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": f"look\n\n```{tmp_path}/a.py\nprint(1)\n```"}
    encoded = base64.b64encode(PNG).decode()
    assert content[1:] == [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
        {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg"}}]
    assert sent(fakeapi, 1)["messages"][-1] == {"role": "user", "content": "and now?"}
    assert err(env) == (f"chatcli: error: {tmp_path}/missing.txt: no such file\n"
                        f"chatcli: error: {tmp_path}/a.py: not a PNG, JPEG, GIF or WebP image\n")


# -- conversations ------------------------------------------------------------------


def test_clear_starts_a_new_conversation(fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(answer("one"))
    fakeapi.add(answer("two"))
    session, env = repl(ask(fakeapi, system="sys"), "first\r/clear\rsecond\r")
    assert sent(fakeapi)["messages"] == [{"role": "system", "content": "sys"},
                                         {"role": "user", "content": "second"}]
    conversations = store.conversations()
    assert [c.title for c in conversations] == ["second", "first"]
    assert session.conversation_id == conversations[0].id
    assert "new conversation" in out(env)


def test_undo_drops_the_last_exchange_here_and_in_the_history(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    for text in ("a1", "a2", "a3"):
        fakeapi.add(answer(text))
    session, env = repl(ask(fakeapi), "q1\rq2\r/undo\rq3\r")
    assert [m["content"] for m in sent(fakeapi)["messages"]] == ["q1", "a1", "q3"]
    assert stored(store, session.conversation_id) == [
        ("user", "q1", "complete"), ("assistant", "a1", "complete"),
        ("user", "q3", "complete"), ("assistant", "a3", "complete")]
    assert "dropped the last exchange" in out(env)


def test_undo_with_nothing_to_drop_is_an_error(fakeapi: FakeAPI) -> None:
    _, env = repl(ask(fakeapi), "/undo\r/retry\r")
    assert err(env) == "chatcli: error: there is no exchange to drop\n" * 2


def test_retry_asks_for_the_last_answer_again(fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(answer("draft"))
    fakeapi.add(answer("better"))
    session, env = repl(ask(fakeapi), "write a haiku\r/retry\r")
    assert sent(fakeapi, 0)["messages"] == sent(fakeapi, 1)["messages"] == [
        {"role": "user", "content": "write a haiku"}]
    assert session.messages[-1] == {"role": "assistant", "content": "better"}
    assert stored(store, session.conversation_id) == [
        ("user", "write a haiku", "complete"), ("assistant", "better", "complete")]
    assert out(env) == "draft\nbetter\n"


def test_history_lists_conversations_and_load_switches(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(answer("Paris"))
    first, _ = repl(ask(fakeapi), "capital of France?\r")
    first_id = first.conversation_id
    assert first_id is not None
    fakeapi.add(answer("Rome"))
    fakeapi.add(answer("about 2.8 million"))
    second, env = repl(ask(fakeapi), f"capital of Italy?\r/history\r/load {first_id[:5]}\r"
                                     "and its population?\r")
    listing = out(env).split("Rome\n")[1]
    lines = listing.splitlines()
    assert lines[0].startswith("* ") and lines[0].endswith("capital of Italy?")
    assert lines[1].startswith(f"  {first_id}") and lines[1].endswith("capital of France?")
    assert f"loaded {first_id}: capital of France? (2 messages)" in out(env)
    assert [m["content"] for m in sent(fakeapi)["messages"]] == [
        "capital of France?", "Paris", "and its population?"]
    assert second.conversation_id == first_id
    assert len(store.messages(first_id)) == 4


def test_continue_and_cid_resume_a_conversation(fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(answer("one"))
    first, _ = repl(ask(fakeapi), "start\r")
    fakeapi.add(answer("two"))
    repl(ask(fakeapi, continue_last=True), "go on\r")
    assert [m["content"] for m in sent(fakeapi)["messages"]] == ["start", "one", "go on"]
    assert first.conversation_id is not None
    fakeapi.add(answer("three"))
    resumed, _ = repl(ask(fakeapi, cid=first.conversation_id[:4]), "/usage\rmore\r")
    assert [m["content"] for m in sent(fakeapi)["messages"]] == [
        "start", "one", "go on", "two", "more"]
    assert resumed.conversation_id == first.conversation_id
    assert len(store.conversations()) == 1


def test_no_history_keeps_nothing(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("unkept"))
    session, env = repl(ask(fakeapi, history=False), "secret\r/history\r/load abc\r")
    assert session.conversation_id is None
    assert err(env) == "chatcli: error: the history is turned off (--no-history, or history" \
                       " = false)\n" * 2
    assert not (data_dir() / "history.db").exists()


# -- output: save, copy, usage, toolbar ---------------------------------------------


def test_save_writes_markdown_and_json(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(answer("It is *blue*."))
    session, env = repl(ask(fakeapi), f"sky colour?\r/save {tmp_path}/chat.md\r"
                                      f"/save {tmp_path}/chat.json\r/save {tmp_path}/no/x.md\r")
    markdown = (tmp_path / "chat.md").read_text()
    assert markdown.startswith("# sky colour?\n\n")
    assert f"- conversation: `{session.conversation_id}`" in markdown
    assert "## User\n\nsky colour?\n\n## Assistant\n\nIt is *blue*.\n" in markdown
    document = json.loads((tmp_path / "chat.json").read_text())
    assert document["conversation"]["id"] == session.conversation_id
    assert [(m["message"], m["status"]) for m in document["messages"]] == [
        ({"role": "user", "content": "sky colour?"}, "complete"),
        ({"role": "assistant", "content": "It is *blue*."}, "complete")]
    assert f"saved 2 messages to {tmp_path}/chat.json" in out(env)
    assert err(env).startswith(f"chatcli: error: {tmp_path}/no/x.md: cannot write: ")


def test_save_without_history_writes_the_conversation_in_memory(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(answer("answer", usage=USAGE))
    repl(ask(fakeapi, history=False), f"question\r/save {tmp_path}/c.json\r")
    document = json.loads((tmp_path / "c.json").read_text())
    assert document["conversation"]["title"] == "question"
    assert [(m["message"]["content"], m["usage"]) for m in document["messages"]] == [
        ("question", None), ("answer", USAGE)]


def test_copy_writes_the_answer_or_its_code_block_as_osc_52(fakeapi: FakeAPI) -> None:
    reply = "Run this:\n\n```python\nprint('hi')\n```\n\nor that:\n\n~~~\nls -l\n~~~\n"
    fakeapi.add(answer(reply))
    _, env = repl(ask(fakeapi), "how?\r/copy\r/copy code\r/copy all\r")

    def osc(text: str) -> str:
        return f"\x1b]52;c;{base64.b64encode(text.encode()).decode()}\a"

    assert f"{osc(reply)}copied {len(reply)} characters to the clipboard\n" in out(env)
    assert f"{osc('ls -l')}copied 5 characters to the clipboard\n" in out(env)
    assert err(env) == "chatcli: error: usage: /copy [code]\n"


def test_usage_and_toolbar_count_the_conversation_tokens(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("a", usage=USAGE))
    fakeapi.add(answer("b", usage={"prompt_tokens": 20, "completion_tokens": 6,
                                   "total_tokens": 26}))
    unpublished(fakeapi)
    session, env = repl(ask(fakeapi, flags={"model": "m1"}), "/usage\rq1\rq2\r/usage\r")
    assert out(env) == ("usage: no answer has reported token usage yet\na\nb\n"
                        "usage: prompt 30 · completion 10 · total 40 tokens (2 answers)\n")
    assert session.toolbar() == f" default · m1 · {session.conversation_id} · 40 tokens "


def test_toolbar_before_the_first_message_and_on_the_prompt(fakeapi: FakeAPI) -> None:
    with open_session(ask(fakeapi, flags={"model": "tiny"}), screen()) as session:
        assert session.toolbar() == " default · tiny · new conversation · 0 tokens "
        prompt = build_prompt(session, output=DummyOutput(), history=InMemoryHistory())
        assert prompt.bottom_toolbar == session.toolbar


# -- keys -----------------------------------------------------------------------------


def test_keys_newlines_paste_ctrl_c_and_history(fakeapi: FakeAPI) -> None:
    for _ in range(5):
        fakeapi.add(answer("ok"))
    earlier = InMemoryHistory()
    earlier.append_string("from before")
    keys = ("\x1b[A\r"  # up arrow: the line before
            "one\ntwo\r"  # Ctrl-J
            "three\x1b\rfour\r"  # Alt-Enter
            "\x1b[200~pasted\nlines\r\nhere\x1b[201~\r"  # bracketed paste
            "thrown away\x03kept\r")  # Ctrl-C clears the line
    repl(ask(fakeapi), keys, history=earlier)
    assert user_texts(fakeapi) == ["from before", "one\ntwo", "three\nfour",
                                   "pasted\nlines\nhere", "kept"]


def test_input_history_is_kept_private_in_the_data_directory(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("ok"))
    fakeapi.add(answer("ok"))
    env = screen()
    with create_pipe_input() as pipe:
        pipe.send_text("remember me\r")
        pipe.close()
        chat(ask(fakeapi), env, input=pipe, output=DummyOutput())
    path = data_dir() / "input_history"
    assert path.stat().st_mode & 0o777 == 0o600
    assert "+remember me" in path.read_text()
    with create_pipe_input() as pipe:
        pipe.send_text("\x1b[A\r")  # a new session remembers
        pipe.close()
        chat(ask(fakeapi), env, input=pipe, output=DummyOutput())
    assert user_texts(fakeapi) == ["remember me", "remember me"]


# -- completion ---------------------------------------------------------------------


def complete(completer: ChatCompleter, text: str) -> list[str]:
    event = CompleteEvent(completion_requested=True)
    return [c.text for c in completer.get_completions(Document(text), event)]


def test_completion_of_commands_models_words_and_paths(fakeapi: FakeAPI, tmp_path: Path) -> None:
    fakeapi.add(JSON(models(["gpt-b", "gpt-a", "other"])), path=MODELS_PATH)
    (tmp_path / "notes.txt").write_text("x")
    with open_session(ask(fakeapi), screen()) as session:
        completer = ChatCompleter(session)
        assert complete(completer, "/") == [f"/{name}" for name in (
            "help", "model", "system", "set", "unset", "attach", "image", "paste", "clear", "undo",
            "retry", "history", "load", "save", "copy", "extract", "usage", "reasoning", "tools",
            "rename", "edit", "branches", "branch", "context", "pin", "unpin", "context-policy",
            "compact", "continue", "template", "templates", "exit")]
        assert complete(completer, "/re") == ["/retry", "/reasoning", "/rename"]
        assert fakeapi.requests == []  # the models are fetched only when needed
        assert complete(completer, "/model gpt") == []  # the keystroke does not wait
        assert session.models_fetch is not None
        session.models_fetch.join(30)  # the list arrives on its own thread
        assert complete(completer, "/model gpt") == ["gpt-a", "gpt-b"]
        assert complete(completer, "/model O") == ["other"]
        assert complete(completer, "/reasoning h") == ["hide"]
        assert complete(completer, "/copy ") == ["code"]
        assert complete(completer, f"/attach {tmp_path}/no") == ["tes.txt"]
        assert complete(completer, f"/image x.png {tmp_path}/no") == ["tes.txt"]
        assert complete(completer, "hello /mo") == []
    assert [r.path for r in fakeapi.requests] == [MODELS_PATH]  # once for the session


def test_load_completes_conversation_ids(fakeapi: FakeAPI) -> None:
    fakeapi.add(answer("ok"))
    first, _ = repl(ask(fakeapi), "a conversation\r")
    assert first.conversation_id is not None
    with open_session(ask(fakeapi), screen()) as session:
        completer = ChatCompleter(session)
        found = list(completer.get_completions(Document("/load "), CompleteEvent()))
        assert [(c.text, c.display_meta_text) for c in found] == [
            (first.conversation_id, "a conversation")]


# -- real terminals -------------------------------------------------------------------


def test_no_terminal_at_all_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "chatcli", "chat", "--base-url",
                           "http://127.0.0.1:9/v1"], input=b"piped", capture_output=True,
                          env=process_env(), start_new_session=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr == (b"chatcli: error: chatcli chat needs a terminal: stdin is not one,"
                           b" and there is no /dev/tty\n"
                           b"In a pipe or a script, use chatcli ask (or chatcli PROMPT).\n")


def spawn(args: list[str], extra: dict[str, str] | None = None) -> Any:
    import pexpect

    child = pexpect.spawn(args[0], args[1:], env=process_env({"TERM": "xterm-256color",
                                                             **(extra or {})}),
                          dimensions=(40, 120), timeout=30)
    child.delaybeforesend = None  # every step waits for what the screen shows instead
    child.logfile_read = io.BytesIO()
    return child


def test_terminal_session_streams_cancels_with_ctrl_c_and_leaves_with_ctrl_d(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    import pexpect

    fakeapi.add(answer("Hello ", "**world**"))
    gate = fakeapi.add(Gate(
        first=sse_bytes([chunk(role="assistant", content="A long answer, cut")], done=False),
        rest=sse_bytes([chunk(content=" short"), chunk(finish_reason="stop")])))
    child = spawn([sys.executable, "-m", "chatcli", "chat", "--base-url", fakeapi.base_url])
    prompt_ready(child)
    child.send("/hel\t")
    child.expect("/help")  # completed by TAB
    child.send("\r")
    child.expect("list the commands")
    prompt_ready(child)
    child.send("hi\r")
    child.expect("world")
    prompt_ready(child)
    child.send("tell me more\r")
    child.expect("A long answer, cut")
    gate.wait_reached()
    child.sendintr()
    child.expect("chatcli: interrupted")
    prompt_ready(child)  # back at the prompt
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    gate.release()
    assert child.exitstatus == 0
    conversation = store.latest()
    assert conversation is not None
    assert stored(store, conversation.id) == [
        ("user", "hi", "complete"), ("assistant", "Hello **world**", "complete"),
        ("user", "tell me more", "complete"),
        ("assistant", "A long answer, cut", "interrupted")]
    assert conversation.id.encode() in child.logfile_read.getvalue()  # in the toolbar


def test_terminal_session_with_piped_stdin_reads_keys_from_the_tty(
        fakeapi: FakeAPI, tmp_path: Path) -> None:
    import pexpect

    editor = tmp_path / "editor.py"
    editor.write_text("import sys\nopen(sys.argv[1], 'w').write('from the editor\\n')\n")
    fakeapi.add(answer("Got it"))
    command = (f"printf 'piped context' | {sys.executable} -m chatcli chat"
               f" --base-url {fakeapi.base_url}")
    editor_command = f"{sys.executable} {editor}"
    child = spawn(["/bin/bash", "-c", command], {"VISUAL": editor_command,
                                                 "EDITOR": editor_command})
    prompt_ready(child)
    child.send("draft\x18\x05")  # Ctrl-X Ctrl-E: the editor's text comes back to the prompt
    child.expect("the editor")  # redrawn over "draft": only what changed is written
    child.send("\r")
    child.expect("Got it")
    prompt_ready(child)
    child.send("/exit\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert user_texts(fakeapi) == ["from the editor\n\npiped context"]


def test_mcp_server_tools_are_loaded_for_the_session_and_stopped_after(fakeapi: FakeAPI) -> None:
    pytest.importorskip("mcp")
    server_file = Path(__file__).resolve().parent / "mcp_fixtures" / "weather_server.py"
    server = f"{sys.executable} {server_file} weather"
    session, env = repl(ask(fakeapi, mcp=[server], yes=True), "/tools\r")
    names = {line.split()[0] for line in out(env).splitlines() if line.strip()}
    assert "get_forecast" in names
    assert session.tools is not None and session.tools.mcp is not None
    assert session.tools.mcp.entries  # loaded, and closed when the session ended
