"""Which command a command line names, before Click parses it.

``chatcli PROMPT`` means ``chatcli ask PROMPT``, so a word that is not a
command becomes a prompt. Two mistakes must not: options written before a
command (``chatcli -P lite config show``) belong to that command, and a
command word mistyped (``chatcli histroy list``) would otherwise be sent to
the model, costing money and saying nothing useful. A mistype is caught only
when it is one edit from a command and stands alone or before one of that
command's subcommands, so ordinary prompts (``chatcli hat trick origin``) go
out as always; ``--`` or ``ask`` sends anything as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatcli.errors import UsageError

# Every command and its subcommands, as words: what a command line is checked against
# before the app is built (a prompt then needs only ``ask``). A test keeps it true.
COMMAND_WORDS: dict[str, frozenset[str]] = {
    "ask": frozenset(), "chat": frozenset(), "batch": frozenset(), "cmd": frozenset(),
    "compare": frozenset(), "completion": frozenset(), "doctor": frozenset(),
    "shell-integration": frozenset(), "usage": frozenset(),
    "config": frozenset({"forget-drops", "show"}),
    "history": frozenset({"delete", "export", "list", "path", "rename", "search", "show"}),
    "models": frozenset({"alias", "show", "unalias"}),
    "templates": frozenset({"delete", "edit", "list", "path", "show"}),
}


class _Words:
    """A command as ``_refuse_mistyped_command`` looks at it: its subcommands' names."""

    def __init__(self, subcommands: frozenset[str]) -> None:
        self.commands = dict.fromkeys(subcommands)


def is_prompt(ask: Any, args: Sequence[str]) -> bool:
    """Whether ``args`` run ``ask`` with a prompt (no other command, no root option, no
    mistyped command): then the app of ``ask`` alone can run them."""
    if not args or args[0] in ROOT_OPTIONS:
        return False
    rest = args[_leading_options(ask, args):]
    if not rest:
        return False
    if rest[0] == "ask":
        return True
    if rest[0] in COMMAND_WORDS:
        return False
    if rest[0] != "--":
        try:
            _refuse_mistyped_command({k: _Words(v) for k, v in COMMAND_WORDS.items()}, rest)
        except UsageError:
            return False  # the whole app says so, with its hint
    return True


ROOT_OPTIONS = frozenset({"--help", "-h", "--version", "--install-completion",
                          "--show-completion"})
BARE_WORDS = {"help": "chatcli --help", "version": "chatcli --version"}
SHORTEST_CAUGHT = 4  # "hat" is not taken for "chat", nor "cat"


def command_line(commands: Mapping[str, Any], default: Any, args: Sequence[str]) -> list[str]:
    """``args`` as Click should see them: the command path first, then the options that
    were written before it, then the rest; a prompt goes to ``ask``."""
    if args and args[0] in ROOT_OPTIONS:
        return list(args)
    split = _leading_options(default, args)
    leading, rest = list(args[:split]), list(args[split:])
    if rest and rest[0] in commands:
        path, command = [rest[0]], commands[rest[0]]
        while len(path) < len(rest) and rest[len(path)] in getattr(command, "commands", {}):
            word = rest[len(path)]
            command = command.commands[word]
            path.append(word)
        _check_options_apply(command, leading, path)
        return [*path, *leading, *rest[len(path):]]
    if rest and rest[0] != "--":
        _refuse_mistyped_command(commands, rest)
    return ["ask", *leading, *rest]


def _leading_options(command: Any, args: Sequence[str]) -> int:
    """How many of the first arguments are options of ``command`` (with their values)."""
    takes = {name: 0 if (param.is_flag or param.count) else param.nargs
             for param in command.params if param.param_type_name == "option"
             for name in _names(param)}
    position = 0
    while position < len(args):
        word = args[position]
        name = word.split("=", 1)[0]
        if not word.startswith("-") or word in ("-", "--") or name not in takes:
            break
        position += 1 + (0 if "=" in word else takes[name])
    return min(position, len(args))


def _check_options_apply(command: Any, leading: Sequence[str], path: Sequence[str]) -> None:
    accepted = {name for param in command.params for name in _names(param)}
    for word in leading:
        name = word.split("=", 1)[0]
        if name.startswith("-") and name not in accepted:
            raise UsageError(f"{name} does not apply to `chatcli {' '.join(path)}`",
                             hint=f"Try 'chatcli {' '.join(path)} --help'.")


def _names(param: Any) -> tuple[str, ...]:
    """Every spelling of an option: ``-m``, ``--model``, ``--no-stream``."""
    return (*param.opts, *param.secondary_opts)


def _refuse_mistyped_command(commands: Mapping[str, Any], words: Sequence[str]) -> None:
    first = words[0]
    if len(words) == 1 and first.lower() in BARE_WORDS:
        raise UsageError(f"{first!r} is not a command",
                         hint=f"did you mean: {BARE_WORDS[first.lower()]}?"
                              f" To send it as a prompt: chatcli ask -- {first}")
    near = next((name for name in commands if len(first) >= SHORTEST_CAUGHT
                 and one_edit_apart(first.lower(), name)), None)
    if near is None:
        return
    meant = f"chatcli {near}"
    if len(words) > 1:
        if words[1] not in getattr(commands[near], "commands", {}):
            return  # "model of the atom": a prompt
        meant += f" {words[1]}"
    quoted = " ".join(words[:2])
    raise UsageError(f"{first!r} is not a command",
                     hint=f"did you mean: {meant}? To send it as a prompt:"
                          f" chatcli ask -- '{quoted}'")


def one_edit_apart(word: str, name: str) -> bool:
    """One insertion, deletion, substitution or swap of neighbours turns ``word`` into
    ``name`` (``histroy`` → ``history``, ``confg`` → ``config``)."""
    if word == name or abs(len(word) - len(name)) > 1:
        return word == name
    if len(word) == len(name):
        diff = [i for i, (a, b) in enumerate(zip(word, name, strict=True)) if a != b]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and word[diff[0]] == name[diff[1]]
                                  and word[diff[1]] == name[diff[0]])
    short, long = sorted((word, name), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))

