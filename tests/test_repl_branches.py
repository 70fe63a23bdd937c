"""Branching and naming in the REPL: ``/edit``, ``/branches``, ``/branch``, ``/rename``,
``chat --fork``, and ``history show --tree`` drawing what they made; through prompt-toolkit's
pipe input against the fake API, and on a real pseudo-terminal."""

from __future__ import annotations

import sys

from chatcli.history import HistoryStore
from clirun import repl_ready as prompt_ready
from clirun import run_cli
from fakeapi import FakeAPI
from test_repl import answer, ask, err, out, repl, sent, spawn, store, stored

__all__ = ["store"]  # the fixture, from test_repl

EDIT = "\x15"  # Ctrl-U: clears what /edit put in the line, before the new text is typed


def contents(fakeapi: FakeAPI, index: int = -1) -> list[str]:
    return [m["content"] for m in sent(fakeapi, index)["messages"]]


def test_edit_starts_a_branch_and_branch_switches_back(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    for text in ("a1", "a2", "seals swim", "a3"):
        fakeapi.add(answer(text))
    session, env = repl(ask(fakeapi, system="sys"),
                        f"q1\rq2\r/edit\r/edit 2\r{EDIT}and seals?\r/branches\r"
                        "/branch 1\rq3\r/branches\r")
    assert [contents(fakeapi, i) for i in range(4)] == [
        ["sys", "q1"], ["sys", "q1", "a1", "q2"],
        ["sys", "q1", "a1", "and seals?"],  # q2 and its answer are left out of the branch
        ["sys", "q1", "a1", "q2", "a2", "q3"]]  # branch 1 goes on where it ended
    assert err(env) == ""
    assert out(env) == (
        "a1\na2\n"
        "  1  q1\n  2  q2\n"
        "editing message 2: Enter sends it as a new branch from there (an empty line or a"
        " command leaves it)\n"
        "seals swim\n"
        "  1  from the start  5 messages  q1\n"
        "* 2  edits message 2  5 messages  and seals?\n"
        "on branch 1 (5 messages); it ends: [assistant] a2\n"
        "a3\n"
        "* 1  from the start  7 messages  q1\n"
        "  2  edits message 2  5 messages  and seals?\n")
    assert stored(store, session.conversation_id) == [
        ("system", "sys", "complete"), ("user", "q1", "complete"),
        ("assistant", "a1", "complete"), ("user", "q2", "complete"),
        ("assistant", "a2", "complete"), ("user", "q3", "complete"),
        ("assistant", "a3", "complete")]
    assert len(store.conversations()) == 1
    tree = run_cli(["history", "show", "--tree", str(session.conversation_id)])
    assert (tree.exit_code, tree.stderr) == (0, "")
    assert tree.stdout.split("\n", 3)[3] == (
        "system: sys\n"
        "user #1: q1\n"
        "assistant: a1\n"
        "├─ user #2: q2\n"
        "│  assistant: a2\n"
        "│  user #3: q3\n"
        "│  assistant: a3  [branch 1, current]\n"
        "└─ user #2: and seals?\n"
        "   assistant: seals swim  [branch 2]\n")


def test_branches_survive_a_reload_and_show_and_continue_follow_the_current_one(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    for text in ("a1", "a2", "b2"):
        fakeapi.add(answer(text))
    first, _ = repl(ask(fakeapi), f"q1\rq2\r/edit 2\r{EDIT}r2\r")
    cid = str(first.conversation_id)
    shown = run_cli(["history", "show", cid]).stdout.split("\n", 2)[2]
    assert shown == ("branch 2 of 2 (history show --tree draws them all)\n"
                     "\n[user]\nq1\n\n[assistant]\na1\n\n[user]\nr2\n\n[assistant]\nb2\n")
    fakeapi.add(answer("c3"))
    again, env = repl(ask(fakeapi, continue_last=True), "/branches\r/branch 1\rq3\r")
    assert out(env).startswith("  1  from the start  4 messages  q1\n"
                               "* 2  edits message 2  4 messages  r2\n")
    assert contents(fakeapi) == ["q1", "a1", "q2", "a2", "q3"]
    assert again.conversation_id == cid
    tree = run_cli(["history", "show", cid, "--tree"]).stdout.split("\n", 3)[3]
    assert tree == ("user #1: q1\nassistant: a1\n"
                    "├─ user #2: q2\n│  assistant: a2\n│  user #3: q3\n"
                    "│  assistant: c3  [branch 1, current]\n"
                    "└─ user #2: r2\n   assistant: b2  [branch 2]\n")
    exported = run_cli(["history", "export", cid, "--format", "json"]).stdout
    assert '"q3"' in exported and '"r2"' not in exported  # the current branch


def test_editing_the_first_message_and_undo_keep_the_other_branch(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    for text in ("a1", "b1", "b2", "c2"):
        fakeapi.add(answer(text))
    session, env = repl(ask(fakeapi), f"q1\r/edit 1\r{EDIT}r1\rr2\r/undo\rs2\r/branches\r")
    assert [contents(fakeapi, i) for i in range(4)] == [
        ["q1"], ["r1"], ["r1", "b1", "r2"], ["r1", "b1", "s2"]]
    assert out(env).endswith("  1  from the start  2 messages  q1\n"
                             "* 2  edits message 1  4 messages  r1\n")
    assert stored(store, session.conversation_id) == [
        ("user", "r1", "complete"), ("assistant", "b1", "complete"),
        ("user", "s2", "complete"), ("assistant", "c2", "complete")]
    tree = run_cli(["history", "show", str(session.conversation_id), "--tree"])
    assert tree.stdout.split("\n", 3)[3] == (
        "├─ user #1: q1\n│  assistant: a1  [branch 1]\n"
        "└─ user #1: r1\n   assistant: b1\n   user #2: s2\n"
        "   assistant: c2  [branch 2, current]\n")


def test_an_edit_lasts_for_one_line_and_bad_numbers_are_one_line_errors(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    for text in ("a1", "a2", "a3"):
        fakeapi.add(answer(text))
    session, env = repl(ask(fakeapi), "/edit\r/branches\r/edit 1\r"
                                      "q1\r/edit 2\r/edit x\r/branch 3\r/edit 1\r"
                                      f"{EDIT}\r"  # an empty line leaves the edit
                                      f"q2\r/edit 1\r{EDIT}/help\rq3\r")  # so does a command
    assert contents(fakeapi) == ["q1", "a1", "q2", "a2", "q3"]
    assert err(env) == (
        "chatcli: error: nothing is stored yet: branches start once a message is sent\n"
        "chatcli: error: usage: /edit N: N is a user message's number (there is none yet;"
        " /edit lists them)\n"
        "chatcli: error: usage: /edit N: N is a user message's number (1 to 1; /edit lists"
        " them)\n"
        "chatcli: error: usage: /edit N: N is a user message's number (1 to 1; /edit lists"
        " them)\n"
        "chatcli: error: usage: /branch N: N is a branch's number (1 to 1; /branches lists"
        " them)\n")
    assert out(env).startswith("(no user message yet)\n")
    assert len(store.tree(str(session.conversation_id)).branches()) == 1


def test_rename_names_the_conversation_now_or_when_it_is_stored(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    fakeapi.add(answer("a1"))
    first, env = repl(ask(fakeapi), "/rename trip\rq1\r/history\r")
    assert out(env).startswith("the conversation is named 'trip' once its first message is"
                               " sent\na1\n")
    assert out(env).endswith("  trip: q1\n")
    assert store.resolve("trip").id == first.conversation_id
    fakeapi.add(answer("b1"))
    second, env = repl(ask(fakeapi), "q2\r/rename trip\r/rename holiday\r/load trip\r")
    holiday = store.resolve("holiday").id
    assert err(env) == (f"chatcli: error: the name 'trip' is taken by conversation"
                        f" {first.conversation_id}\n"
                        "Names are unique: choose another, or rename that one with"
                        " `chatcli history rename ID NAME`.\n")
    assert f"conversation {holiday} is named 'holiday'\n" in out(env)
    assert f"loaded {first.conversation_id}: q1 (2 messages)" in out(env)
    assert second.conversation_id == first.conversation_id != holiday
    assert stored(store, holiday) == [("user", "q2", "complete"), ("assistant", "b1", "complete")]
    _, env = repl(ask(fakeapi, history=False), "/rename x\r")
    assert err(env) == "chatcli: error: the history is turned off (--no-history, or history" \
                       " = false)\n"


def test_chat_fork_and_name_go_on_in_a_named_copy(fakeapi: FakeAPI,
                                                  store: HistoryStore) -> None:
    fakeapi.add(answer("a1"))
    first, _ = repl(ask(fakeapi), "q1\r")
    fakeapi.add(answer("a2"))
    copy, _ = repl(ask(fakeapi, continue_last=True, fork=True, name="copy"), "/undo\rq2\r")
    assert contents(fakeapi) == ["q2"]
    assert copy.conversation_id not in (None, first.conversation_id)
    assert store.resolve("copy").id == copy.conversation_id
    assert stored(store, first.conversation_id) == [
        ("user", "q1", "complete"), ("assistant", "a1", "complete")]
    assert stored(store, copy.conversation_id) == [
        ("user", "q2", "complete"), ("assistant", "a2", "complete")]


def test_edit_fills_the_line_on_a_terminal(fakeapi: FakeAPI, store: HistoryStore) -> None:
    import pexpect

    for text in ("first answer", "second answer"):
        fakeapi.add(answer(text))
    child = spawn([sys.executable, "-m", "chatcli", "chat", "--base-url", fakeapi.base_url])
    prompt_ready(child)
    child.send("tell me about penguins\r")
    child.expect("first answer")
    prompt_ready(child)
    child.send("/edit 1\r")
    child.expect("editing message 1")
    child.expect("\x1b\\[6n")  # the next prompt
    child.send("\x1b[1;1R")
    child.expect("tell me about penguins")  # its line holds the message, to change
    child.expect("tokens")
    child.send(" and seals\r")
    child.expect("second answer")
    prompt_ready(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert contents(fakeapi) == ["tell me about penguins and seals"]
    latest = store.latest()
    assert latest is not None
    assert [b.number for b in store.tree(latest.id).branches()] == [1, 2]


def test_load_completes_names_too(fakeapi: FakeAPI) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from chatcli.repl.prompt import ChatCompleter
    from chatcli.repl.session import open_session
    from test_repl import screen

    fakeapi.add(answer("ok"))
    repl(ask(fakeapi, name="trip"), "plan it\r")
    with open_session(ask(fakeapi), screen()) as session:
        found = ChatCompleter(session).get_completions(Document("/load tr"), CompleteEvent())
        assert [(c.text, c.display_meta_text) for c in found] == [("trip", "plan it")]


def test_undo_back_to_a_fork_point_leaves_the_head_mid_branch(
        fakeapi: FakeAPI, store: HistoryStore) -> None:
    for text in ("a1", "a2", "b2", "c2"):
        fakeapi.add(answer(text))
    session, env = repl(ask(fakeapi), f"q1\rq2\r/edit 2\r{EDIT}r2\r/branch 1\r/undo\r"
                                      "/branches\r")
    cid = str(session.conversation_id)
    assert out(env).endswith("dropped the last exchange\n"
                             "  1  from the start  4 messages  q1\n"
                             "  (here: a new branch, from the last message kept)\n")
    tree = run_cli(["history", "show", cid, "--tree"]).stdout.split("\n", 3)[3]
    assert tree == ("user #1: q1\nassistant: a1  [current: goes on from here]\n"
                    "user #2: r2\nassistant: b2  [branch 1]\n")
    repl(ask(fakeapi, cid=cid), "s2\r")
    assert contents(fakeapi) == ["q1", "a1", "s2"]
    assert [b.number for b in store.tree(cid).branches()] == [1, 2]


def test_edit_under_a_template_says_the_line_holds_the_message_as_sent(
        fakeapi: FakeAPI) -> None:
    for text in ("hola", "adios"):
        fakeapi.add(answer(text))
    _, env = repl(ask(fakeapi, template_prompt="Translate: {{input}}"),
                  f"hello\r/edit 1\r{EDIT}bye\r")
    assert [contents(fakeapi, i) for i in range(2)] == [["Translate: hello"],
                                                        ["Translate: bye"]]
    assert err(env) == ("chatcli: warning: the line holds message 1 as it was sent, the"
                        " template's prompt around it; what is sent goes into the template's"
                        " prompt again\n")
