"""``/template NAME [name=value …]`` and ``/templates``: a template for the rest of a session.

The template's system prompt replaces the session's, its model and request fields
apply from the next message on, and its prompt takes in each message typed (at
``{{input}}``). What it means is ``session.templates.for_session``; this module only
changes the session and says what changed.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import TYPE_CHECKING

from chatcli.dotted import deep_merge
from chatcli.errors import UsageError
from chatcli.repl.registry import command

if TYPE_CHECKING:
    from chatcli.repl.session import ChatSession


@command("template", "[NAME [name=value…]]",
         "apply a template to the rest of the session; without NAME, show it")
def use_template(session: ChatSession, arg: str) -> None:
    if not arg:
        session.say(f"template: {session.template}" if session.template else "(no template)")
        return
    from chatcli.session.templates import for_session

    try:
        name, *words = shlex.split(arg)
    except ValueError as exc:
        raise UsageError(f"/template: {exc}") from None
    applied = for_session(name, [_pair(word) for word in words])
    changed = []
    if applied.system is not None:
        session.set_system(applied.system)
        changed.append("system message")
    if applied.model:
        session.use_model(applied.model)
        changed.append(f"model {session.model}")
    if applied.params:
        session.settings = replace(session.settings, params=deep_merge(
            session.settings.params, applied.params))
    if applied.params or applied.fields:
        session.fields = deep_merge(session.fields, applied.fields)
        changed.append("request fields")
    if applied.output != "auto":
        session.output = applied.output
    if applied.reasoning != "auto":
        session.reasoning = applied.reasoning
    session.template, session.template_prompt = applied.name, applied.prompt
    if applied.prompt:
        changed.append("each message goes into its prompt")
    session.say(f"template {applied.name}: {', '.join(changed) or 'nothing to change'}")
    if applied.left_out:
        session.env.warn(f"/template does not apply {', '.join(applied.left_out)}; give the"
                         f" template with -T {applied.name} on the command line for those")


@command("templates", "", "list the templates")
def list_templates(session: ChatSession, arg: str) -> None:
    from chatcli.config import config_dir
    from chatcli.config.templates import all_templates

    found = all_templates(config_dir())
    width = max((len(t.name) for t in found), default=0)
    session.say("\n".join(f"  {t.name:<{width}}  {t.description}" for t in found)
                or "(no templates)")


def template_names() -> list[tuple[str, str]]:
    """Names and descriptions, for completion; a broken template file completes nothing."""
    from chatcli.config import config_dir
    from chatcli.config.templates import all_templates
    from chatcli.errors import ChatcliError

    try:
        return [(t.name, t.description) for t in all_templates(config_dir())]
    except ChatcliError:
        return []


def _pair(word: str) -> tuple[str, str]:
    name, sep, value = word.partition("=")
    if not sep or not name:
        raise UsageError(f"/template: {word!r} must look like name=value")
    return name, value
