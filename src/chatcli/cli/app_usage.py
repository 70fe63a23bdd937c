"""``chatcli usage``: the command's options; the work is in ``usage_command``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from chatcli.cli.guard import guarded
from chatcli.cli.options import AsJson, Profile


class UsageGroup(StrEnum):
    day = "day"
    model = "model"
    profile = "profile"


def usage(
    since: Annotated[str | None, typer.Option(
        "--since", metavar="SPAN|DATE",
        help="Only answers since then: 30m, 24h, 7d, 2w, or a date (2026-12-01).")] = None,
    by: Annotated[UsageGroup, typer.Option(
        "--by", help="Add up per day, model or profile.")] = UsageGroup.day,
    as_json: AsJson = False,
    profile: Profile = None,
) -> None:
    """Tokens and cost of the answers in the history, from the model prices known."""
    from chatcli.cli.usage_command import report

    guarded(lambda: report(since, by.value, as_json, {"profile": profile}))
