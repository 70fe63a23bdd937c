"""``chatcli templates …``: list, show, edit, delete and locate templates.

The templates themselves are read and checked in ``config/templates.py``; what a
template does to a request is ``session/templates.py``. This module writes what
the user asked to see, through the guarded streams.
"""

from __future__ import annotations

from pathlib import Path

from chatcli.errors import ConfigError, UsageError
from chatcli.output_guard import write_json
from chatcli.session.environment import Environment

SKELETON = '''description = ""
system = ""
# The prompt: {{input}} stands for the prompt words and stdin (without it they follow
# after a blank line); {{name}} is a variable filled by -p name VALUE or [defaults].
prompt = "{{input}}"
# model = "gpt-4o-mini"
# [params]
# temperature = 0.2
# [defaults]
# name = "value"
'''


def _config_dir() -> Path:
    from chatcli.config import config_dir

    return config_dir()


def list_templates(as_json: bool, env: Environment | None = None, *,
                   names_only: bool = False) -> None:
    """Each template's name and description, the user's marked apart from the built-in."""
    from chatcli.config.templates import all_templates, builtin_names

    env = env or Environment.from_process()
    found = all_templates(_config_dir())
    if names_only:  # what shell completion offers
        env.stdout.write("".join(f"{t.name}\n" for t in found))
        return
    shipped = builtin_names()
    if as_json:
        write_json(env.stdout, [{"name": t.name, "description": t.description,
                                 "origin": t.origin, "path": str(t.path),
                                 "overrides_builtin": t.origin == "user" and t.name in shipped,
                                 "variables": t.variables()} for t in found])
        return
    width = max((len(t.name) for t in found), default=0)
    for template in found:
        mark: str = template.origin
        if template.origin == "user" and template.name in shipped:
            mark = "user, over the built-in"
        about = f"{template.description}  " if template.description else ""
        env.stdout.write(f"{template.name:<{width}}  {about}({mark})\n")


def show(name: str, env: Environment | None = None, *, variables_only: bool = False) -> None:
    """The template's file, then the messages it makes (variables without a value kept as
    ``{{name}}``; ``{{input}}`` stands for what the prompt words and stdin would give)."""
    from chatcli.session.templates import load, preview

    env = env or Environment.from_process()
    template = load(name)
    if variables_only:  # what shell completion offers after -p
        env.stdout.write("".join(f"{v}\n" for v in template.variables()))
        return
    env.stdout.write(f"# {template.path} ({template.origin})\n")
    text = template.path.read_text(encoding="utf-8")
    env.stdout.write(text if text.endswith("\n") else text + "\n")
    env.stdout.write("\n# the messages it makes\n")
    write_json(env.stdout, preview(template))


def print_path(env: Environment | None = None) -> None:
    from chatcli.config.templates import template_dir

    env = env or Environment.from_process()
    env.stdout.write(f"{template_dir(_config_dir())}\n")


def delete(name: str, env: Environment | None = None) -> None:
    """Delete the user's template; a built-in one cannot be (a user file may hide it)."""
    from chatcli.config.templates import builtin_names, check_name, template_dir

    env = env or Environment.from_process()
    path = template_dir(_config_dir()) / f"{check_name(name)}.toml"
    if not path.is_file():
        if name in builtin_names():
            raise UsageError(f"{name} is a built-in template and cannot be deleted; a"
                             f" template of your own named {name} would replace it")
        raise UsageError(f"no template named {name!r} in {path.parent}")
    path.unlink()
    back = " (the built-in one of that name applies again)" if name in builtin_names() else ""
    env.log(f"chatcli: deleted template {name}{back}")


def edit(name: str, env: Environment | None = None) -> None:
    """Open the template in ``$EDITOR`` (a new one from a skeleton, a built-in one as a copy
    of your own) and save it only once it reads as a template; a rejected edit is kept."""
    from chatcli.config.templates import BUILTIN_DIR, check_name, template_dir
    from chatcli.paths import atomic_write, private_dir

    env = env or Environment.from_process()
    path = template_dir(_config_dir()) / f"{check_name(name)}.toml"
    builtin = BUILTIN_DIR / f"{name}.toml"
    start = (path if path.is_file() else builtin if builtin.is_file() else None)
    private_dir(path.parent)
    draft = path.with_name(f"{name}.toml.draft")
    draft.write_text(start.read_text(encoding="utf-8") if start else SKELETON,
                     encoding="utf-8")
    while True:
        from chatcli.session.editor import edit_file

        edit_file(draft, stdin_is_terminal=env.stdin_is_terminal,
                  unsent=f"not saved (your edit is in {draft})")
        text = draft.read_text(encoding="utf-8", errors="replace")
        problem = _problem(text, path)
        if problem is None:
            break
        if not _again(env, problem):
            raise ConfigError(f"{problem}; not saved (your edit is in {draft})")
    atomic_write(path, text.encode("utf-8"))
    draft.unlink()
    env.log(f"chatcli: saved template {name} to {path}")


def _problem(text: str, path: Path) -> str | None:
    """What is wrong with the edited text as a template, or None."""
    from chatcli.config.files import parse_toml
    from chatcli.config.templates import check_template

    try:
        check_template(parse_toml(text, path), path)
    except ConfigError as exc:
        return str(exc)
    return None


def _again(env: Environment, problem: str) -> bool:
    """On a terminal: say what is wrong and ask whether to edit again."""
    streams = env.question_streams()
    if streams is None:
        return False
    keys, screen = streams
    screen.write(f"chatcli: {problem}\nEdit it again? [Y/n] ")
    screen.flush()
    line = keys.readline()
    return bool(line) and line.strip().lower() in ("", "y", "yes")
