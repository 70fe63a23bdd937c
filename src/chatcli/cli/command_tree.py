"""The command tree as shell completion sees it: each command's options, arguments and
what their values may be (a choice, a file, a directory, a template's name or
variable), read once from the Typer app's Click commands (``completion`` renders it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

from typer._click import Command, Context
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.models import TyperPath

PROG = "chatcli"
DEFAULT_COMMAND = "ask"

Kind = Literal["none", "choice", "file", "dir", "template", "variable", "conversation"]
# Values looked up when TAB is pressed (the dynamic part): a parameter named
# ``template`` takes a template's name, one named ``param`` a variable of the template
# given with -T, ``cid`` and ``conversation`` a conversation's name or id. Only these
# calls pay chatcli's start-up; --help and a prompt do not.
DYNAMIC: dict[str, Kind] = {"template": "template", "param": "variable",
                            "cid": "conversation", "conversation": "conversation"}
NAMES_CALL = "templates list --names"
CONVERSATIONS_CALL = "history list --names"
_PATH_METAVARS: dict[str, Kind] = {"PATH": "file", "FILE": "file", "FILENAME": "file",
                                   "DIR": "dir", "DIRECTORY": "dir"}


@dataclass(frozen=True)
class Values:
    """What a value may be: one of ``choices``, a file, a directory, or anything."""

    kind: Kind = "none"
    choices: tuple[str, ...] = ()

    @classmethod
    def of(cls, param: TyperOption | TyperArgument) -> Values:
        """Choices from the parameter's type; a path when the type or the metavar names one."""
        if param.name in DYNAMIC:
            return cls(DYNAMIC[param.name])
        kind = param.type
        choices = getattr(kind, "choices", None)
        if choices is not None:
            return cls("choice", tuple(str(getattr(c, "value", c)) for c in choices))
        if isinstance(kind, TyperPath):
            return cls("dir" if kind.dir_okay and not kind.file_okay else "file")
        words = re.split(r"[^A-Za-z]+", param.metavar or "")
        return cls(next((_PATH_METAVARS[w] for w in words if w in _PATH_METAVARS), "none"))


@dataclass(frozen=True)
class Param:
    """An option, or a positional argument when ``names`` is empty."""

    names: tuple[str, ...]  # short before long; secondary names (--no-…) last
    help: str
    metavar: str
    takes_value: bool
    multiple: bool
    nargs: int  # -1: any number
    values: Values

    @classmethod
    def of(cls, param: TyperOption | TyperArgument) -> Param:
        metavar = param.metavar or (param.name or "value").upper()
        text = " ".join((param.help or "").split())
        if isinstance(param, TyperArgument):
            return cls((), text, metavar, True, param.nargs < 0, param.nargs, Values.of(param))
        takes_value = not (param.is_flag or param.count)
        names = (*sorted(param.opts, key=lambda n: (n.startswith("--"), n)),  # opts from a set
                 *sorted(param.secondary_opts))
        return cls(names, text, metavar, takes_value, param.multiple or param.count,
                   param.nargs, Values.of(param) if takes_value else Values())

    def sort_key(self) -> tuple[str, tuple[str, ...]]:
        long = [name for name in self.names if name.startswith("--")]
        return ((long or list(self.names))[0].lstrip("-").lower(), self.names)


@dataclass(frozen=True)
class Spec:
    """One command; ``path`` starts with the program name."""

    path: tuple[str, ...]
    help: str
    options: tuple[Param, ...]
    arguments: tuple[Param, ...]
    commands: tuple[Spec, ...]
    default: Spec | None  # the subcommand run when none is named

    @classmethod
    def read(cls, command: Command, path: tuple[str, ...], parent: Context | None = None,
             default: str | None = None) -> Spec:
        # A context as click makes one, for inherited settings such as ``-h``.
        ctx = Context(command, parent=parent, info_name=path[-1], **command.context_settings)
        children = sorted(command.commands.items() if isinstance(command, TyperGroup) else ())
        commands = tuple(cls.read(child, (*path, name), ctx)
                         for name, child in children if not child.hidden)
        params = [Param.of(p) for p in command.get_params(ctx)
                  if isinstance(p, TyperOption | TyperArgument) and not p.hidden]
        options = tuple(sorted((p for p in params if p.names), key=Param.sort_key))
        arguments = tuple(p for p in params if not p.names)
        text = (command.short_help or command.help or "").strip().split("\n\n")[0]
        return cls(path, " ".join(text.split()), options, arguments, commands,
                   next((c for c in commands if c.path[-1] == default), None))

    def walk(self) -> Iterator[Spec]:
        """This command and every one below it, parents first, siblings by name."""
        yield self
        for child in self.commands:
            yield from child.walk()

    def option_names(self) -> list[str]:
        return sorted({name for option in self.options for name in option.names})

    def positions(self) -> Iterator[tuple[int, Param]]:
        """Each argument with the index of its first word."""
        starts = accumulate((max(a.nargs, 1) for a in self.arguments), initial=0)
        return zip(starts, self.arguments, strict=False)


def command_tree(root: Command, default: str | None = DEFAULT_COMMAND) -> Spec:
    """The visible commands, options and arguments under ``root`` (the app's command, handed
    in by the app: this module never imports it)."""
    return Spec.read(root, (PROG,), None, default)
