"""``chatcli usage`` and the cost in ``history list``/``show``: tokens and cost added up
from the stored answers, priced at the model prices known (an unknown price is said,
never hidden in a total)."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from chatcli.cli.usage_command import since_time
from chatcli.errors import UsageError
from chatcli.history import HistoryStore
from clirun import run_cli, write_config

PRICES = ('[models."cheap"]\nprice_input = 1.0\nprice_output = 2.0\n'
          '[models."dear"]\nprice_input = 10.0\nprice_output = 20.0\n')
DAY = 86_400


def store() -> HistoryStore:
    return HistoryStore.open(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db")


def seed(*answers: tuple[str, str | None, float, int, int]) -> list[str]:
    """One conversation per answer: (model, profile, days ago, prompt, completion)."""
    history = store()
    ids = []
    try:
        for model, profile, _, prompt, completion in answers:
            cid = history.create_conversation(f"about {model}", profile=profile,
                                              base_url="http://x/v1", model=model)
            history.append(cid, {"role": "user", "content": "q"})
            history.append(cid, {"role": "assistant", "content": "a"}, model=model + "-0613",
                           usage={"prompt_tokens": prompt, "completion_tokens": completion,
                                  "total_tokens": prompt + completion})
            ids.append(cid)
    finally:
        history.close()
    with sqlite3.connect(Path(os.environ["CHATCLI_DATA_DIR"]) / "history.db") as db:
        for cid, (_, _, days_ago, _, _) in zip(ids, answers, strict=True):
            db.execute("UPDATE messages SET created_at = ? WHERE conversation_id = ?",
                       (time.time() - days_ago * DAY, cid))
    return ids


def test_usage_adds_up_by_model_with_the_cost(tmp_path: Path) -> None:
    write_config(PRICES)
    seed(("cheap", None, 0, 1000, 500), ("dear", "lab", 0, 2000, 1000),
         ("cheap", "lab", 0, 3000, 0))
    result = run_cli(["usage", "--by", "model"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["model", "answers", "prompt", "cached", "completion", "reasoning", "cost"],
        ["cheap", "2", "4000", "0", "500", "0", "$0.005"],
        ["dear", "1", "2000", "0", "1000", "0", "$0.04"],
        ["total", "3", "6000", "0", "1500", "0", "$0.045"]]
    widths = {len(line) for line in result.stdout.splitlines()}
    assert len(widths) == 1  # one aligned table


def test_usage_by_profile_as_json(tmp_path: Path) -> None:
    write_config(PRICES)
    seed(("cheap", None, 0, 1000, 500), ("dear", "lab", 0, 2000, 1000))
    result = run_cli(["usage", "--by", "profile", "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["by"] == "profile" and report["since"] is None
    assert [(g["profile"], g["answers"], g["cost"]) for g in report["groups"]] == [
        ("(default)", 1, 0.002), ("lab", 1, 0.04)]
    assert report["total"]["cost"] == pytest.approx(0.042)
    assert report["total"]["completion_tokens"] == 1500


def test_since_and_by_day_leave_older_answers_out(tmp_path: Path) -> None:
    write_config(PRICES)
    seed(("cheap", None, 0, 1000, 0), ("cheap", None, 3, 1000, 0), ("cheap", None, 10, 1000, 0))
    result = run_cli(["usage", "--since", "7d"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("day ") and len(lines) == 4  # two days and the total
    assert lines[-1].split() == ["total", "2", "2000", "0", "0", "0", "$0.002"]


def test_unknown_prices_are_counted_in_tokens_and_said_apart(tmp_path: Path) -> None:
    write_config(PRICES)
    seed(("cheap", None, 0, 1000, 0), ("mystery", None, 0, 500, 500))
    result = run_cli(["usage", "--by", "model"])
    assert result.exit_code == 0
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[2] == ["mystery", "1", "500", "0", "500", "0", "-"]
    assert rows[3] == ["total", "2", "1500", "0", "500", "0", "$0.001+"]
    assert result.stderr == ("chatcli: warning: 1 answer of a model whose prices are unknown"
                             " counted in the tokens, not the cost (set [models.\"NAME\"]"
                             " prices in config.toml)\n")


def test_an_empty_history_says_so() -> None:
    result = run_cli(["usage"])
    assert (result.exit_code, result.stdout) == (
        0, "no answers with token usage in the history for this span\n")


@pytest.mark.parametrize(("text", "back"), [("30m", 1800), ("24h", DAY), ("7d", 7 * DAY),
                                            ("2w", 14 * DAY)])
def test_since_spans(text: str, back: int) -> None:
    assert since_time(text, now=1_000_000_000.0) == 1_000_000_000.0 - back


def test_a_bad_since_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="give a span"):
        since_time("last week")
    result = run_cli(["usage", "--since", "yesterday"])
    assert result.exit_code == 2 and "--since 'yesterday'" in result.stderr


def test_history_list_and_show_give_each_conversation_s_cost(tmp_path: Path) -> None:
    write_config(PRICES)
    cheap, mystery = seed(("cheap", None, 0, 1000, 500), ("mystery", None, 0, 10, 10))
    listed = run_cli(["history", "list"]).stdout.splitlines()
    assert any(line.startswith(cheap) and "  cheap  $0.002  about cheap" in line
               for line in listed), listed
    assert any(line.startswith(mystery) and "  mystery  about mystery" in line
               for line in listed), listed
    as_json = {c["id"]: c["cost"] for c in json.loads(run_cli(["history", "list",
                                                               "--json"]).stdout)}
    assert as_json == {cheap: 0.002, mystery: None}
    shown = run_cli(["history", "show", cheap]).stdout
    assert shown.splitlines()[2] == "cost $0.002 for 1500 tokens in 1 answer"
    assert "cost" not in run_cli(["history", "show", mystery]).stdout


def test_history_list_works_when_the_config_does_not_load() -> None:
    seed(("cheap", None, 0, 1000, 500))
    write_config("timeout = nan\n")
    result = run_cli(["history", "list"])
    assert result.exit_code == 0 and "about cheap" in result.stdout
