"""What follows a one-shot answer, the same after ``ask`` and ``--more``: ``-x``'s code on
stdout, the warnings and the ``-u`` line, what it cost against the budgets, ``--copy``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatcli.protocol.result import TurnResult
from chatcli.session.environment import Environment
from chatcli.session.options import AskRequest

if TYPE_CHECKING:
    from chatcli.session.budget import Budget
    from chatcli.session.cost import Cost


def after_answer(result: TurnResult, request: AskRequest, env: Environment, *,
                 cost: Cost | None, budget: Budget | None, more: str | None,
                 whole: TurnResult | None = None) -> None:
    """``whole``: the answer as kept, when ``result`` is only its last part (``--more``)."""
    from chatcli.session.extract import extracting, write_code
    from chatcli.session.output import report_outcome

    kept = whole or result
    shown = write_code(kept, request, env) if extracting(request) else None
    report_outcome(result, env, usage=request.usage, verbose=request.verbose,
                   cost=cost if request.usage else None, more=more)
    if budget is not None:
        budget.after(cost.total if cost is not None else None)
    if request.copy:
        from chatcli.session.clipboard import copy_answer

        copy_answer(shown if shown is not None else str(kept.message.get("content") or ""),
                    env)
