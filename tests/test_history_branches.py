"""The history as a tree: the store's writes keep each branch whole, and a tree read from
rows others wrote (no parent, a parent that is not there, a loop) is still a tree."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from chatcli.history import HistoryStore, StoredMessage
from chatcli.history.branches import tree_of


def texts(store: HistoryStore, conversation: str) -> list[Any]:
    return [m.message["content"] for m in store.messages(conversation)]


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def bot(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def branched(tmp_path: Path) -> tuple[HistoryStore, str, list[int]]:
    """q1 a1, then q2 a2 (branch 1) beside r2 b2 (branch 2, current)."""
    store = HistoryStore.open(tmp_path / "history.db")
    cid = store.create_conversation("t", profile=None, base_url=None, model=None)
    rows = [store.append(cid, m) for m in (user("q1"), bot("a1"), user("q2"), bot("a2"))]
    rows.append(store.append(cid, user("r2"), parent=rows[1]))
    rows.append(store.append(cid, bot("b2")))
    return store, cid, rows


def test_append_follows_the_head_and_parent_starts_a_branch(tmp_path: Path) -> None:
    store, cid, rows = branched(tmp_path)
    assert texts(store, cid) == ["q1", "a1", "r2", "b2"]
    tree = store.tree(cid)
    assert [(b.number, b.start, b.rows) for b in tree.branches()] == [
        (1, rows[0], tuple(rows[:4])), (2, rows[4], (*rows[:2], *rows[4:]))]
    assert tree.current() == tree.branches()[1]
    store.set_head(cid, rows[3])
    assert texts(store, cid) == ["q1", "a1", "q2", "a2"]
    store.append(cid, user("q3"))
    assert texts(store, cid) == ["q1", "a1", "q2", "a2", "q3"]
    assert [b.number for b in store.tree(cid).branches()] == [1, 2]  # numbers do not move
    [conversation] = store.conversations()
    assert conversation.message_count == 7


def test_a_system_message_goes_first_on_the_branch_and_no_row_moves(tmp_path: Path) -> None:
    store, cid, rows = branched(tmp_path)
    assert store.put_system(cid, {"role": "system", "content": "sys"}) is True
    assert texts(store, cid) == ["sys", "q1", "a1", "r2", "b2"]
    store.set_head(cid, rows[3])
    assert texts(store, cid) == ["sys", "q1", "a1", "q2", "a2"]  # the branches share q1
    assert store.put_system(cid, {"role": "system", "content": "new"}) is False
    assert texts(store, cid)[0] == "new"
    assert [m.message["content"] for m in store.messages(cid)][1:] == ["q1", "a1", "q2", "a2"]
    assert len(store.search("new")) == 1


def test_undo_keeps_what_another_branch_goes_on_from(tmp_path: Path) -> None:
    store, cid, rows = branched(tmp_path)
    assert store.drop_last_exchange(cid) == 2  # r2 b2: nothing goes on from them
    assert texts(store, cid) == ["q1", "a1"]
    assert store.drop_last_exchange(cid) == 0  # q1 a1 stay, for branch 1 goes on from them
    assert texts(store, cid) == []  # but the current line starts afresh, before q1
    fresh = store.append(cid, user("fresh"))
    assert texts(store, cid) == ["fresh"]
    assert [b.rows for b in store.tree(cid).branches()] == [tuple(rows[:4]), (fresh,)]
    store.set_head(cid, rows[3])
    assert texts(store, cid) == ["q1", "a1", "q2", "a2"]
    assert store.drop_last_exchange(cid) == 2
    assert store.drop_last_exchange(cid) == 2  # now nothing goes on from q1 a1
    assert [b.rows for b in store.tree(cid).branches()] == [(fresh,)]


def test_a_fork_copies_the_current_branch_alone(tmp_path: Path) -> None:
    store, cid, _ = branched(tmp_path)
    copy = store.fork(cid, name="copy")
    assert texts(store, copy) == ["q1", "a1", "r2", "b2"]
    assert len(store.tree(copy).branches()) == 1
    assert store.resolve("copy").id == copy
    assert {c for c, _ in store.search("r2")} == {store.resolve(cid), store.resolve(copy)}
    store.append(copy, user("more"))
    assert texts(store, cid) == ["q1", "a1", "r2", "b2"]


def test_rows_written_without_parents_read_as_a_line(tmp_path: Path) -> None:
    store, cid, _ = branched(tmp_path)
    store.close()
    db = sqlite3.connect(tmp_path / "history.db")
    with db:
        db.execute("INSERT INTO messages (conversation_id, role, message, created_at)"
                   " VALUES (?, 'user', '{\"role\": \"user\", \"content\": \"planted\"}', 1)",
                   (cid,))
        db.execute("UPDATE conversations SET head = NULL")
    db.close()
    store = HistoryStore.open(tmp_path / "history.db")
    assert texts(store, cid) == ["q1", "a1", "r2", "b2", "planted"]  # after the row before
    store.append(cid, bot("answer"))
    assert texts(store, cid)[-2:] == ["planted", "answer"]


def test_a_tree_from_odd_rows_is_still_a_tree() -> None:
    entries = {row: StoredMessage(user(str(row)), "complete", 0.0) for row in range(1, 7)}
    # 2: no parent (the row before); 3: a parent not there; 4 and 5 name each other; 6:
    # itself.
    tree = tree_of([(1, 0), (2, None), (3, 99), (4, 5), (5, 4), (6, 6)], entries, None)
    assert tree.parents == {1: None, 2: 1, 3: 2, 4: 5, 5: 4, 6: 5}
    assert tree.head == 6
    assert tree.path() == [4, 5, 6]  # the walk up ends where it comes round
    assert [b.rows for b in tree.branches()] == [(1, 2, 3), (4, 5, 6)]
    assert tree_of([(1, 0)], entries, 0).path() == []  # head 0: before the first message
    assert tree_of([(1, 0)], entries, 7).head == 1  # a head not there: the latest row
