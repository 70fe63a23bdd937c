"""Static shell completion scripts for bash, zsh and fish, generated from the command tree.

The scripts know every command, option and option value up front, so pressing TAB never
starts chatcli; ``write_all`` writes the copies kept in ``completions/``. ``ask`` is the
default command: the top level offers its options too, and a word that is not a command
or a root option switches to it, as ``DefaultCommandGroup`` does.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Literal

from typer._click import Command, Context
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.models import TyperPath

PROG = "chatcli"
SHELLS = ("bash", "zsh", "fish")
FILE_NAMES = {"bash": "chatcli.bash", "zsh": "_chatcli", "fish": "chatcli.fish"}
DEFAULT_COMMAND = "ask"

Kind = Literal["none", "choice", "file", "dir"]
_PATH_METAVARS: dict[str, Kind] = {"PATH": "file", "FILE": "file", "FILENAME": "file",
                                   "DIR": "dir", "DIRECTORY": "dir"}
_SAFE_WORD = re.compile(r"[\w.,:+/@%=-]+")
_ZSH_SPECIAL = " ()\\'\"$`;&|<>*?[]{}#~"


@dataclass(frozen=True)
class Values:
    """What a value may be: one of ``choices``, a file, a directory, or anything."""

    kind: Kind = "none"
    choices: tuple[str, ...] = ()

    @classmethod
    def of(cls, param: TyperOption | TyperArgument) -> Values:
        """Choices from the parameter's type; a path when the type or the metavar names one."""
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


def _quote(text: str, shell: str = "bash") -> str:
    """Single quotes, as bash and zsh read them, or as fish does."""
    fish = shell == "fish"
    return "'" + (text.replace("\\", "\\\\").replace("'", "\\'") if fish
                  else text.replace("'", "'\\''")) + "'"


def _word(text: str, shell: str = "bash") -> str:
    return text if _SAFE_WORD.fullmatch(text) else _quote(text, shell)


def _header(shell: str, *how: str) -> list[str]:
    return [f"# {shell} completion for {PROG}.",
            f"# Generated by `{PROG} completion {shell}`; do not edit by hand.",
            *(f"# {line}" for line in how)]


class _Renderer:
    def __init__(self, tree: Spec) -> None:
        self.tree, self.specs = tree, list(tree.walk())


class _Bash(_Renderer):
    """Three generated lookups, and a fixed part that walks the words typed so far."""

    MAIN = r"""
_chatcli() {
    local cur=${COMP_WORDS[COMP_CWORD]} path word value_of='' kind choice default_command
    local -a options own_options commands choices
    local -i i=1 n=0 next dashdash=0
    COMPREPLY=()
    _chatcli_command chatcli
    while (( i < COMP_CWORD )); do
        word=${COMP_WORDS[i]}
        if [[ -n $default_command && " ${commands[*]} ${own_options[*]} " != *" $word "* ]]; then
            _chatcli_command "$path $default_command"
            continue
        elif (( dashdash == 0 )) && [[ $word == -- ]]; then
            dashdash=1
        elif (( dashdash == 0 )) && [[ $word == -?* ]] && _chatcli_option "$path" "$word"; then
            (( next = i + 1 ))
            [[ ${COMP_WORDS[next]} == = ]] && (( next += 1 ))
            (( next >= COMP_CWORD )) && { value_of=$word; break; }
            (( i = next ))
        elif [[ " ${commands[*]} " == *" $word "* ]]; then
            _chatcli_command "$path $word"
        elif (( dashdash )) || [[ $word != -?* ]]; then
            (( n += 1 ))
        fi
        (( i += 1 ))
    done
    if [[ -n $value_of ]]; then
        [[ $cur == = ]] && cur=''
        _chatcli_option "$path" "$value_of"
    elif (( dashdash == 0 )) && [[ $cur == -* ]]; then
        kind=choice choices=("${options[@]}")
    elif (( ${#commands[@]} )); then
        kind=choice choices=("${commands[@]}")
    else
        _chatcli_argument "$path" "$n"
    fi
    # File names come from `complete -o default`; other values are offered here or not at all.
    [[ $kind == file ]] && return 0
    [[ $kind == dir ]] && compopt -o dirnames 2>/dev/null
    compopt +o default 2>/dev/null
    for choice in "${choices[@]}"; do
        [[ $choice == "$cur"* ]] && COMPREPLY+=("$choice")
    done
    return 0
}

complete -o default -F _chatcli chatcli"""

    def script(self) -> list[str]:
        return [*_header("bash", "Load it with `source <(chatcli completion bash)`, or copy it to",
                         "~/.local/share/bash-completion/completions/chatcli."), "",
                "_chatcli_command() {  # enters command path $1: its options, commands and so on",
                "    path=$1 options=() own_options=() commands=() default_command=''",
                "    case $1 in",
                *(line for spec in self.specs for line in self.command(spec)), "    esac", "}",
                "", "_chatcli_option() {  # kind and choices of option $2's value, or failure",
                "    kind=none choices=()", '    case "$1 $2" in',
                *(f"        {'|'.join(_quote(' '.join((*s.path, n))) for n in o.names)})"
                  f"{self.values(o.values)} ;;"
                  for s in self.specs for o in s.options if o.takes_value),
                "        *) return 1 ;;", "    esac", "}", "",
                "_chatcli_argument() {  # kind and choices of positional argument $2 (from 0)",
                "    kind=none choices=()", "    case $1 in",
                *(line for spec in self.specs for line in self.arguments(spec)),
                "    esac", "    return 0", "}", *self.MAIN.split("\n")]

    def command(self, spec: Spec) -> list[str]:
        default = [] if spec.default is None else [
            *self.array("own_options", spec.option_names()),
            f"            default_command={_word(spec.default.path[-1])}"]
        offered = {*spec.option_names(), *(spec.default.option_names() if spec.default else [])}
        return [f"        {_quote(' '.join(spec.path))})",
                *self.array("options", sorted(offered)), *default,
                *self.array("commands", [c.path[-1] for c in spec.commands]), "            ;;"]

    def arguments(self, spec: Spec) -> list[str]:
        tests = [f"            (( $2 >= {start}{f' && $2 < {start + a.nargs}' * (a.nargs > 0)} ))"
                 f" &&{self.values(a.values)}"
                 for start, a in spec.positions() if a.values.kind != "none"]
        return [f"        {_quote(' '.join(spec.path))})", *tests, "            ;;"] * bool(tests)

    @staticmethod
    def array(name: str, words: list[str]) -> list[str]:
        text = f"{name}=({' '.join(_word(word) for word in words)})"
        return textwrap.wrap(text, 96, initial_indent=" " * 12, subsequent_indent=" " * 16,
                             break_long_words=False, break_on_hyphens=False) * bool(words)

    @staticmethod
    def values(values: Values) -> str:
        choices = f" choices=({' '.join(_word(c) for c in values.choices)})" * bool(values.choices)
        return f" kind={values.kind}{choices}" if values.kind != "none" else ""


class _Zsh(_Renderer):
    """One function per command, each calling ``_arguments`` or ``_describe``."""

    def script(self) -> list[str]:
        lines = ["#compdef chatcli",
                 *_header("zsh", "Save it as _chatcli in a directory on $fpath, or load it with",
                          "`source <(chatcli completion zsh)`.")]
        for spec in self.specs:
            lines += ["", f"{self.function(spec)}() {{", *(
                self.group(spec) if spec.commands else
                self.arguments(spec.options, spec.positions(), "    ", '"$@" ')), "}"]
        return [*lines, "", "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
                '    _chatcli "$@"', "else", "    compdef _chatcli chatcli", "fi"]

    @staticmethod
    def function(spec: Spec) -> str:
        return "_" + "_".join(re.sub(r"\W", "_", word) for word in spec.path)

    def group(self, spec: Spec) -> list[str]:
        label = _quote(" ".join(spec.path) + " command")
        return [
            "    local -a commands", "    commands=(", *(
                f"        {_quote(self.escape(c.path[-1], ':') + ':' + c.help)}"
                for c in spec.commands),
            "    )", "    if (( CURRENT == 2 )) && [[ $PREFIX != -* ]]; then",
            f"        _describe -t commands {label} commands", "        return", "    fi",
            "    case $words[2] in",
            *(f"        ({self.escape(c.path[-1], _ZSH_SPECIAL)}) shift words; (( CURRENT-- )); "
              f'curcontext="${{curcontext%:*:*}}:{"-".join(c.path)}:"; {self.function(c)} ;;'
              for c in spec.commands),
            "        (*)", *self.fallback(spec), "            ;;", "    esac"]

    def fallback(self, spec: Spec) -> list[str]:
        """The first word names no command: the default command's, with the root options."""
        if spec.default is None:
            return self.arguments(spec.options, iter(()), "            ", "")
        taken = set(spec.default.option_names())
        extra = " ".join(_quote(s) for o in spec.options if not taken & set(o.names)
                         for s in self.option_specs(o))
        reset = ["            set --", f"            (( CURRENT == 2 )) && set -- {extra}"]
        return [*reset * bool(extra), f'            {self.function(spec.default)} "$@"']

    def arguments(self, options: Iterable[Param], positions: Iterator[tuple[int, Param]],
                  indent: str, extra: str) -> list[str]:
        specs = [s for option in options for s in self.option_specs(option)]
        for start, argument in positions:
            # _nothing, not " ": a bare message stops a lone option match being inserted.
            tail = f":{self.escape(argument.metavar, ':')}:{self.action(argument.values)}"
            specs += ([f"*{tail}"] if argument.nargs < 0 else
                      [f"{start + offset + 1}{tail}" for offset in range(argument.nargs)])
        lines = [f"{indent}_arguments -s -S {extra}\\",
                 *(f"{indent}    {_quote(s)} \\" for s in specs)]
        return [*lines[:-1], lines[-1].removesuffix(" \\")]

    def option_specs(self, option: Param) -> list[str]:
        start = "*" if option.multiple else "(" + " ".join(option.names) + ")"
        value = f":{self.escape(option.metavar, ':')}:{self.action(option.values, ' ')}"
        return [f"{start}{name}{('=' if name.startswith('--') else '+') * option.takes_value}"
                f"[{self.escape(option.help, '[]')}]{value * option.takes_value}"
                for name in option.names]

    def action(self, values: Values, none: str = "_nothing") -> str:
        if values.kind == "choice":
            return "(" + " ".join(self.escape(c, _ZSH_SPECIAL) for c in values.choices) + ")"
        return {"file": "_files", "dir": "_files -/"}.get(values.kind, none)

    @staticmethod
    def escape(text: str, special: str) -> str:  # backslashes before ``special`` characters
        return "".join("\\" + char if char in special or char == "\\" else char for char in text)


class _Fish(_Renderer):
    """``complete`` lines, each guarded by where on the command line the word is."""

    def script(self) -> list[str]:
        lines = [*_header("fish", "Copy it to ~/.config/fish/completions/chatcli.fish, or load",
                          "it with `chatcli completion fish | source`."),
                 "", "complete -c chatcli -f"]
        # The root leaves out the default command's options, which are offered there anyway.
        skip = set(self.tree.default.option_names() if self.tree.default else ())
        for spec, condition in self.conditions(self.tree):
            lines += ["", f"# {' '.join(spec.path)}"]
            lines += [self.line(condition, f"-a {_word(c.path[-1], 'fish')}", c.help)
                      for c in spec.commands]
            lines += [self.option(condition, o) for o in spec.options
                      if spec is not self.tree or not skip & set(o.names)]
            lines += [self.line(condition, self.value(a.values, False))
                      for a in spec.arguments if a.values.kind != "none"]
        return lines

    def conditions(self, spec: Spec, seen: tuple[str, ...] = ()) -> Iterator[tuple[Spec, str]]:
        """Each command, parents first, with the test that it is the one being completed."""
        below = [f"not __fish_seen_subcommand_from {self.names(spec.commands)}"]
        yield spec, ("; and ".join([*seen, *below * bool(spec.commands)]) if seen
                     else "__fish_use_subcommand")
        for child in spec.commands:
            others = [c for c in spec.commands if c is not child]
            yield from self.conditions(child, (*seen, (
                f"not __fish_seen_subcommand_from {self.names(others)}" if child is spec.default
                else f"__fish_seen_subcommand_from {self.names([child])}")))

    @staticmethod
    def names(specs: Iterable[Spec]) -> str:
        return " ".join(_word(spec.path[-1], "fish") for spec in specs)

    def option(self, condition: str, option: Param) -> str:
        names = [f"-l {_word(n[2:], 'fish')}" if n.startswith("--") else
                 f"-s {_word(n[1:], 'fish')}" if len(n) == 2 else f"-o {_word(n[1:], 'fish')}"
                 for n in option.names]
        value = self.value(option.values, True) if option.takes_value else ""
        return self.line(condition, " ".join(names), option.help, value)

    @staticmethod
    def value(values: Values, option: bool) -> str:
        if values.kind == "file":
            return "-r -F" if option else "-F"
        words = {"choice": " ".join(_word(c, "fish") for c in values.choices),
                 "dir": "(__fish_complete_directories)"}.get(values.kind)
        args = f"-a {_quote(words, 'fish')}" if words else ""
        return f"-x {args}".strip() if option else args

    @staticmethod
    def line(condition: str, what: str, description: str = "", value: str = "") -> str:
        parts = [f"complete -c chatcli -n {_quote(condition, 'fish')} {what}",
                 f"-d {_quote(description, 'fish')}" * bool(description), value]
        return " ".join(part for part in parts if part)


_RENDERERS: dict[str, type[_Bash | _Zsh | _Fish]] = {"bash": _Bash, "zsh": _Zsh, "fish": _Fish}


def completion_script(shell: str, root: Command) -> str:
    """The completion script for ``shell`` (one of ``SHELLS``), ending with a newline."""
    if shell not in _RENDERERS:
        raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}")
    return "\n".join(_RENDERERS[shell](command_tree(root)).script()) + "\n"


def write_all(directory: Path, root: Command) -> list[Path]:
    """Write every shell's script into ``directory`` under its usual name."""
    paths = [directory / FILE_NAMES[shell] for shell in SHELLS]
    for shell, path in zip(SHELLS, paths, strict=True):
        path.write_text(completion_script(shell, root), encoding="utf-8", newline="\n")
    return paths
