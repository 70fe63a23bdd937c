"""Budgets: a request that could cost more than is left is not sent; one that ran past
a budget is said.

``budget_daily`` and ``budget_monthly`` (USD, config or profile) count what the
history's answers cost today and this month (``spending``); ``--max-cost`` caps one
call, or a REPL session. Before sending, the request's cost is estimated from its
size (``token_estimate``) plus the output it may take (``max_tokens``, else the
output reserve) at the model's prices; over what is left, it is refused (exit 4)
or, on a terminal, sent once if the user says so. A streamed answer can overrun
the estimate, so after it what was spent is checked again, and a passed budget is
a warning that says by how much.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatcli.errors import OverBudget
from chatcli.session.cost import dollars, estimate

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.endpoint.client import ChatClient
    from chatcli.history import HistoryStore
    from chatcli.session.environment import Environment



@dataclass(frozen=True)
class Limit:
    """One budget: its name as the user set it, the amount, what it has spent and when."""

    name: str  # "budget_daily", "budget_monthly", "--max-cost"
    amount: float
    spent: float
    span: str  # "today", "this month", "in this session", ""

    @property
    def left(self) -> float:
        return max(self.amount - self.spent, 0.0)


class Budget:
    """The budgets one command (or REPL session) keeps to."""

    def __init__(self, settings: Settings, env: Environment, store: HistoryStore | None,
                 max_cost: float | None, *, session: bool = False) -> None:
        self.settings, self.env, self.store = settings, env, store
        self.max_cost, self.session = max_cost, session
        self.spent_here = 0.0  # what this command's answers cost (for --max-cost)
        self.said: set[str] = set()

    @staticmethod
    def wanted(settings: Settings, max_cost: float | None) -> bool:
        from chatcli.session.cost import budgets_wanted

        return budgets_wanted(settings, max_cost)

    def limits(self) -> list[Limit]:
        from chatcli.session.spending import day_start, month_start, spent_since

        found = []
        for name, amount, start, span in (
                ("budget_daily", self.settings.budget_daily, day_start, "today"),
                ("budget_monthly", self.settings.budget_monthly, month_start, "this month")):
            if amount is None:
                continue
            if self.store is None:
                self._once("history", f"{name}: the history is off, so what was spent {span}"
                           " is unknown; only this request is held to it")
                spent = self.spent_here
            else:
                spent = spent_since(self.store, self.settings, start()).cost
            found.append(Limit(name, amount, spent, span))
        if self.max_cost is not None:
            found.append(Limit("--max-cost", self.max_cost, self.spent_here,
                               "in this session" if self.session else ""))
        return found

    def check(self, body: Mapping[str, Any], client: ChatClient) -> None:
        """Before sending ``body``: refuse (or ask) when it could cost more than is left."""
        from chatcli.config.types import MODEL_PRICES
        from chatcli.session.known_model import known_model
        from chatcli.session.token_estimate import output_reserve, request_tokens

        model = str(body.get("model") or self.settings.model)
        known = known_model(self.settings, model, client=client, need=MODEL_PRICES[:2])
        messages: Sequence[Any] = body.get("messages") or []
        tokens_in = request_tokens(messages, body.get("tools"))
        tokens_out = output_reserve(body, known.max_output)
        cost = estimate(tokens_in, tokens_out, known.facts)
        if cost is None:
            self._once(f"prices {model}", f"a budget is set, but the prices of {model} are"
                       " unknown, so it is not held to (set them under"
                       f' [models."{model}"] in config.toml)')
            return
        over = [limit for limit in self.limits() if cost > limit.left]
        if not over:
            return
        limit = over[0]
        spent = f"{dollars(limit.spent)} spent {limit.span}, " if limit.span else ""
        reason = (f"{limit.name} {dollars(limit.amount)}: {spent}{dollars(limit.left)} left;"
                  f" this request could cost up to {dollars(cost)} (about {tokens_in} tokens"
                  f" in, up to {tokens_out} out, at {model}'s prices)")
        if self._send_anyway(reason):
            return
        raise OverBudget(f"not sent: {reason}",
                         hint="Raise the budget in config.toml, or pass --max-cost USD.")

    def after(self, cost: float | None) -> None:
        """After an answer that cost ``cost``: a budget it took past is said, by how much."""
        if cost is None:
            return
        self.spent_here += cost
        for limit in self.limits():
            if limit.spent > limit.amount and limit.name not in self.said:
                self.said.add(limit.name)
                span = f" {limit.span}" if limit.span else ""
                self.env.warn(f"{limit.name} {dollars(limit.amount)} passed by"
                              f" {dollars(limit.spent - limit.amount)}: {dollars(limit.spent)}"
                              f" spent{span}")

    def _send_anyway(self, reason: str) -> bool:
        streams = self.env.question_streams()
        if streams is None:
            return False
        from chatcli.session.terminal_question import typed_line

        keys, screen = streams
        screen.write(f"chatcli: over budget: {reason}\n")
        answer = typed_line(keys, screen, "send it once anyway? [y/N]: ", end="n")
        return answer.lower() in ("y", "yes")

    def _once(self, key: str, words: str) -> None:
        if key not in self.said:
            self.said.add(key)
            self.env.warn(words)
