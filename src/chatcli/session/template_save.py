"""``--save NAME``: the invocation written as a template instead of being sent.

What is saved is what the command line asked for (with ``-T``, over that
template): the system prompt, the prompt words as ``prompt``, the model and
profile as typed, the request fields the flags make as ``params``, ``-o`` items as
``options``, the schema (inlined, so the template stands alone), tool files by
absolute path, and ``-p`` values as ``defaults``. Using the template then builds
the same request body. Written with tomlkit: TOML has no writer in the standard
library, and a hand-rolled one would get strings wrong.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatcli.errors import UsageError

if TYPE_CHECKING:
    from chatcli.session.environment import Environment
    from chatcli.session.options import AskRequest

NOT_SAVED = ("files", "images", "audio", "attach", "file_ids", "videos", "messages", "tool_cmds",
             "mcp_urls")


def save_template(request: AskRequest, env: Environment) -> Path:
    """Write the template and say where; refuse to replace one without ``--force``."""
    from chatcli.config import config_dir
    from chatcli.config.templates import check_name, template_dir
    from chatcli.paths import atomic_write, private_dir

    name = check_name(str(request.save))
    path = template_dir(config_dir()) / f"{name}.toml"
    if path.exists() and not request.force:
        raise UsageError(f"template {name} exists ({path}); add --force to replace it")
    left_out = [key.replace("_", "-") for key in NOT_SAVED if getattr(request, key)]
    table = template_table(request)
    text = _dumps(table)
    private_dir(path.parent)
    atomic_write(path, text.encode("utf-8"))
    env.log(f"chatcli: saved template {name} to {path}")
    if left_out:
        env.log(f"chatcli: note: not saved in it (give them each time):"
                f" --{', --'.join(left_out)}")
    return path


def template_table(request: AskRequest) -> dict[str, Any]:
    """The template's keys for this request, in the order a reader wants them."""
    base: dict[str, Any] = {}
    if request.template is not None:
        from chatcli.session.templates import load, merged

        template = load(request.template)
        base = dict(template.table)
        request = merged(request, template)
    table: dict[str, Any] = {k: base[k] for k in ("description",) if k in base}
    if request.system is not None:
        table["system"] = request.system
    prompt = _prompt(request)
    if prompt:
        table["prompt"] = prompt
    for key in ("model", "profile"):
        value = request.flags.get(key) or base.get(key)
        if value:
            table[key] = value
    for key in ("output", "reasoning"):
        if getattr(request, key) != "auto":
            table[key] = getattr(request, key)
    if request.options:
        table["options"] = list(request.options)
    if request.schema is not None:
        table["schema"] = _schema_text(request.schema)
    if request.tools is not None:
        table["tools"] = str(Path(request.tools).resolve())
    if request.functions:
        table["functions"] = [str(Path(f).resolve()) for f in request.functions]
    if request.mcp:
        table["mcp"] = list(request.mcp)
    defaults = {**base.get("defaults", {}), **dict(request.params)}
    if defaults:
        table["defaults"] = defaults
    params = {**base.get("params", {}), **_params(request)}
    if params:
        table["params"] = params
    return table


def _prompt(request: AskRequest) -> str:
    words = " ".join(request.prompt)
    if request.template_prompt is None:
        return words
    from chatcli.config.templates import with_input

    return with_input(request.template_prompt, words)


def _params(request: AskRequest) -> dict[str, Any]:
    """The request fields the flags make, without what is saved under its own key."""
    from chatcli.session.fields import request_fields

    return request_fields(replace(request, options=[], schema=None, tools=None))


def _schema_text(schema: str) -> str:
    """The schema as JSON text: a file's contents are inlined (checked as JSON)."""
    import json

    from chatcli.protocol.messages import load_json
    from chatcli.session.inputs import read_text

    text = schema if schema.lstrip().startswith("{") else read_text(schema, "--schema")
    return json.dumps(load_json(text, "--schema"))


def _dumps(table: dict[str, Any]) -> str:
    import tomlkit
    from tomlkit.exceptions import ConvertError

    document = tomlkit.document()
    try:
        for key, value in table.items():
            is_long = isinstance(value, str) and "\n" in value
            document[key] = tomlkit.string(value, multiline=True) if is_long else value
        return tomlkit.dumps(document)
    except (ConvertError, ValueError) as exc:
        raise UsageError(f"--save: the request cannot be written as TOML ({exc}); a null"
                         " value has no TOML spelling") from None
