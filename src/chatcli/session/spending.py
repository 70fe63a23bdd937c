"""What the stored answers cost, grouped as ``chatcli usage`` shows them, and what a day
or a month has spent (for the budgets).

Each answer is priced at what is known now of its model (``known_model``, without
asking the endpoint: the config and the cache), first by the model asked for, then
by the one the server said answered. An answer whose prices are unknown counts
its tokens but not a cost, and is counted apart so that a total is never passed
off as complete.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chatcli.session.cost import Cost, cost_of, tokens

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.history import HistoryStore
    from chatcli.history.records import AnswerUsage
    from chatcli.session.known_model import KnownModel

GROUPS = ("day", "model", "profile")


@dataclass
class Tally:
    """Answers, tokens and cost added up; ``unpriced``: answers not in ``cost``."""

    answers: int = 0
    prompt: int = 0
    cached: int = 0
    completion: int = 0
    reasoning: int = 0
    cost: float = 0.0
    unpriced: int = 0
    conversations: set[str] = field(default_factory=set)

    def add(self, answer: AnswerUsage, cost: Cost | None) -> None:
        prompt, cached, completion, reasoning = tokens(answer.usage)
        self.answers += 1
        self.prompt += prompt
        self.cached += cached
        self.completion += completion
        self.reasoning += reasoning
        self.conversations.add(answer.conversation_id)
        if cost is None:
            self.unpriced += 1
        else:
            self.cost += cost.total


class Pricer:
    """Prices answers, looking each model up once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.known: dict[str, KnownModel] = {}

    def cost(self, answer: AnswerUsage) -> Cost | None:
        from chatcli.session.known_model import known_model

        for name in (answer.model, answer.answered_by):
            if not name:
                continue
            if name not in self.known:
                self.known[name] = known_model(self.settings, name)
            if self.known[name].priced:
                return cost_of(answer.usage, self.known[name].facts)
        return None


def tally(answers: Iterable[AnswerUsage], settings: Settings, by: str | None = None
          ) -> dict[str, Tally]:
    """The answers added up per ``by`` ("day", "model", "profile"; None: one "total")."""
    pricer = Pricer(settings)
    groups: dict[str, Tally] = {}
    for answer in answers:
        groups.setdefault(group_of(answer, by), Tally()).add(answer, pricer.cost(answer))
    return groups


def group_of(answer: AnswerUsage, by: str | None) -> str:
    if by == "day":
        return datetime.fromtimestamp(answer.created_at).strftime("%Y-%m-%d")
    if by == "model":
        return answer.model or answer.answered_by or "(unknown)"
    if by == "profile":
        return answer.profile or "(default)"
    if by == "conversation":
        return answer.conversation_id
    return "total"


def day_start(now: float | None = None) -> float:
    """Local midnight today, as epoch seconds."""
    moment = datetime.fromtimestamp(time.time() if now is None else now)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_start(now: float | None = None) -> float:
    """Local midnight on the first of this month, as epoch seconds."""
    moment = datetime.fromtimestamp(time.time() if now is None else now)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def conversation_costs(store: HistoryStore, settings: Settings | None) -> dict[str, Tally]:
    """Each conversation's answers added up (``history list`` and ``show``); no settings
    (a config that does not load): the tokens, and no prices."""
    from chatcli.config import Settings

    return tally(store.answers(), settings or Settings(), "conversation")


def spent_since(store: HistoryStore, settings: Settings, since: float) -> Tally:
    """What the stored answers since ``since`` cost, all together."""
    return tally(store.answers(since), settings).get("total", Tally())
