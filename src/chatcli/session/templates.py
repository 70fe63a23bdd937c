"""A template applied to a request: under the flags, over the profile, variables filled.

The template comes from ``-T`` or, failing that, the profile's ``template``. Its
``model``, ``params`` and ``profile`` are a settings layer (``load_settings``); the
rest fills what the command line left empty (``system``, ``schema``, ``tools``,
``output``, ``reasoning``) or goes before it (``options``, ``functions``, ``mcp``:
a flag given later wins). Its ``{{name}}`` variables are filled from ``-p`` and
``defaults`` here, before anything is read or sent; ``{{input}}`` (the prompt words
and stdin) is filled when the input is gathered (``config.templates.with_input``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from chatcli.errors import UsageError

if TYPE_CHECKING:
    from chatcli.config import Settings
    from chatcli.config.templates import Template
    from chatcli.session.environment import Environment
    from chatcli.session.options import AskRequest


TemplateLayer = tuple[str, Mapping[str, Any]]  # a template's name and its settings


class Resolved(NamedTuple):
    """The request with its template applied, the settings, and the template's settings
    layer (to load settings again with, as a continued conversation does)."""

    request: AskRequest
    settings: Settings
    layer: TemplateLayer | None


def resolve(request: AskRequest, env: Environment) -> Resolved:
    """The request with its template (if any) applied, and the settings it asks for."""
    if request.template is not None:
        template = load(request.template)
        chosen = layer(template)
        settings = env.settings(request.flags, template=chosen)
    else:
        settings = env.settings(request.flags)
        if settings.template is None:
            if request.params:
                raise UsageError("-p/--param fills a template's variables; name the template"
                                 " with -T NAME")
            return Resolved(with_profile_system(request, settings), settings, None)
        template = load(settings.template)  # the profile's own: its profile key is moot
        chosen = layer(template, profile=False)
        settings = env.settings(request.flags, template=chosen, quiet=True)
    applied = with_profile_system(merged(request, template), settings)
    return Resolved(filled(applied, template), settings, chosen)


def load(name: str) -> Template:
    from chatcli.config import config_dir
    from chatcli.config.templates import find_template

    return find_template(name, config_dir())


def layer(template: Template, *, profile: bool = True) -> TemplateLayer:
    """The template's settings (``model``, ``params``, ``profile``) for ``load_settings``."""
    keys = ("model", "params", "profile") if profile else ("model", "params")
    return template.name, {k: template.table[k] for k in keys if k in template.table}


def with_profile_system(request: AskRequest, settings: Settings) -> AskRequest:
    """The profile's ``system`` when neither ``-s`` nor the template gave one."""
    if request.system is None and settings.system:
        return replace(request, system=settings.system)
    return request


def merged(request: AskRequest, template: Template) -> AskRequest:
    """The template's keys where the command line left a gap, or before its lists."""
    table = template.table
    schema = request.schema
    if schema is None and "schema" in table:
        raw = table["schema"]
        schema = (json.dumps(raw) if isinstance(raw, dict) else raw
                  if raw.lstrip().startswith("{") else template.beside(raw))
    tools = request.tools
    if tools is None and "tools" in table:
        tools = template.beside(table["tools"])
    return replace(
        request, template=template.name,
        system=request.system if request.system is not None else template.text("system"),
        template_prompt=template.text("prompt"),
        options=[*table.get("options", ()), *request.options], schema=schema, tools=tools,
        functions=[*(template.beside(f) for f in table.get("functions", ())),
                   *request.functions],
        mcp=[*table.get("mcp", ()), *request.mcp],
        output=table.get("output", "auto") if request.output == "auto" else request.output,
        reasoning=(table.get("reasoning", "auto") if request.reasoning == "auto"
                   else request.reasoning))


def with_input(prompt: str, text: str) -> str:
    """A template's prompt with ``{{input}}`` filled (``config.templates.with_input``)."""
    from chatcli.config.templates import with_input as fill

    return fill(prompt, text)


def filled(request: AskRequest, template: Template) -> AskRequest:
    """``system`` and the template's prompt with every variable filled; a variable with no
    value and no default, or a ``-p`` the template has no use for, is a usage error."""
    from chatcli.config.templates import INPUT, VARIABLE

    own_system = request.system is not None and request.system == template.text("system")
    texts = [request.template_prompt or "", request.system if own_system else ""]
    used = list(dict.fromkeys(name for text in texts for name in VARIABLE.findall(text or "")
                              if name != INPUT))
    given = dict(request.params)
    unknown = [name for name in given if name not in used]
    if unknown:
        has = ", ".join(used) if used else "none"
        raise UsageError(f"template {template.name} has no variable {unknown[0]!r}"
                         f" (its variables: {has})")
    values = {**template.defaults(), **given}
    missing = [name for name in used if name not in values]
    if missing:
        raise UsageError(f"template {template.name} needs a value for "
                         f"{', '.join(missing)}: give -p {missing[0]} VALUE")

    def fill(text: str | None) -> str | None:
        if text is None:
            return None
        return VARIABLE.sub(lambda m: m.group(0) if m.group(1) == INPUT
                            else values[m.group(1)], text)

    system = fill(request.system) if own_system else request.system
    return replace(request, system=system, template_prompt=fill(request.template_prompt))


class SessionTemplate(NamedTuple):
    """What ``/template`` changes for the rest of a REPL session; ``left_out``: the
    template's keys that only the command line (``-T``) applies."""

    name: str
    system: str | None
    prompt: str | None
    model: str | None
    params: Mapping[str, Any]
    fields: dict[str, Any]
    output: str
    reasoning: str
    left_out: list[str]


def for_session(name: str, values: list[tuple[str, str]]) -> SessionTemplate:
    """The template ``name`` with these variable values, as a REPL session takes it."""
    from chatcli.session.fields import request_fields
    from chatcli.session.options import AskRequest

    template = load(name)
    request = filled(merged(AskRequest(prompt=[], flags={}, params=values), template),
                     template)
    table = template.table
    return SessionTemplate(
        template.name, request.system, request.template_prompt, table.get("model"),
        table.get("params") or {}, request_fields(replace(request, tools=None)),
        request.output, request.reasoning,
        [key for key in ("profile", "tools", "functions", "mcp") if key in table])


class CommandTemplate(NamedTuple):
    """What ``cmd -T`` takes of a template: its settings layer, system text and prompt
    (variables filled), request fields; ``left_out``: keys a shell command has no use for."""

    name: str
    settings: Settings
    system: str | None
    prompt: str | None
    fields: dict[str, Any]
    left_out: list[str]


def for_command(name: str, values: list[tuple[str, str]], flags: Mapping[str, Any],
                env: Environment) -> CommandTemplate:
    """The template ``name`` as ``chatcli cmd`` applies it: model, params and profile as
    the settings layer, ``options`` as fields, system and prompt filled; a profile's own
    ``system`` or ``template`` is not used (they are written for answers, not commands)."""
    from chatcli.session.fields import request_fields
    from chatcli.session.options import AskRequest

    template = load(name)
    settings = env.settings(flags, template=layer(template))
    request = filled(merged(AskRequest(prompt=[], flags=dict(flags), params=values), template),
                     template)
    fields = request_fields(replace(request, tools=None, schema=None, output="auto",
                                    reasoning="auto"))
    unused = ("schema", "tools", "functions", "mcp", "output", "reasoning")
    return CommandTemplate(template.name, settings, request.system, request.template_prompt,
                           fields, [key for key in unused if key in template.table])


def preview(template: Template) -> list[dict[str, str]]:
    """The messages the template makes, ``{{input}}`` and any variable without a default
    left as written (``templates show``)."""
    from chatcli.config.templates import VARIABLE

    values = template.defaults()

    def fill(text: str) -> str:
        return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    messages = []
    system = template.text("system")
    if system is not None:
        messages.append({"role": "system", "content": fill(system)})
    messages.append({"role": "user", "content": fill(with_input(
        template.text("prompt") or "", "{{input}}"))})
    return messages


__all__ = ["CommandTemplate", "Resolved", "SessionTemplate", "for_command", "for_session",
           "preview", "resolve", "with_input"]
