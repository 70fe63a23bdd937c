"""Static shell completion scripts, generated from the command tree.

``completion_script(shell)`` walks the click commands behind the Typer app and
writes a bash, zsh or fish script that knows every command, option and option
value up front, so pressing TAB never starts chatcli. ``write_all`` writes the
three scripts kept in ``completions/``; the tests check that those copies are
current.

``ask`` is the default command: at the top level the scripts offer its options
next to the root options, and any word that is not a command or a root option
switches to it, as ``DefaultCommandGroup`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePath
from typing import Any, Literal, get_args, get_origin

from typer._click import Command, Context
from typer.core import TyperArgument, TyperGroup, TyperOption

PROG = "chatcli"
SHELLS = ("bash", "zsh", "fish")
FILE_NAMES = {"bash": "chatcli.bash", "zsh": "_chatcli", "fish": "chatcli.fish"}
DEFAULT_COMMAND = "ask"

Kind = Literal["none", "choice", "file", "dir"]
_PATH_METAVARS: dict[str, Kind] = {
    "PATH": "file", "FILE": "file", "FILENAME": "file", "DIR": "dir", "DIRECTORY": "dir",
}
_SAFE_WORD = re.compile(r"[\w.,:+/@%=-]+")
_ZSH_SPECIAL = " ()\\'\"$`;&|<>*?[]{}#~"


# The command tree, reduced to what completion needs.


@dataclass(frozen=True)
class Values:
    """What a value may be: one of ``choices``, a file, a directory, or anything."""

    kind: Kind = "none"
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    opts: tuple[str, ...]
    secondary: tuple[str, ...]
    help: str
    metavar: str
    takes_value: bool
    multiple: bool
    values: Values

    @property
    def names(self) -> tuple[str, ...]:
        return self.opts + self.secondary


@dataclass(frozen=True)
class Argument:
    metavar: str
    nargs: int  # -1: any number
    values: Values


@dataclass(frozen=True)
class Spec:
    """One command: ``path`` starts with the program name."""

    path: tuple[str, ...]
    help: str
    options: tuple[Option, ...]
    arguments: tuple[Argument, ...]
    commands: tuple[Spec, ...]
    default: str | None  # the subcommand run when none is named

    @property
    def name(self) -> str:
        return self.path[-1]

    def option_names(self) -> list[str]:
        return sorted({name for option in self.options for name in option.names})


def command_tree(root: Command | None = None,
                 default_command: str | None = DEFAULT_COMMAND) -> Spec:
    """The visible commands, options and arguments under ``root`` (the app by default)."""
    if root is None:
        root = _app_command()
    return _spec(root, _context(root, PROG, None), (PROG,), default_command)


def walk(spec: Spec) -> Iterator[Spec]:
    """``spec`` and every command below it, parents first, siblings by name."""
    yield spec
    for child in spec.commands:
        yield from walk(child)


def _app_command() -> Command:
    from typer.main import get_command

    from chatcli.cli.app import app

    return get_command(app)


def _context(command: Command, name: str, parent: Context | None) -> Context:
    """A context like the one click would make, for inherited settings like ``-h``."""
    return Context(command, parent=parent, info_name=name, **command.context_settings)


def _spec(command: Command, ctx: Context, path: tuple[str, ...], default: str | None) -> Spec:
    children = _subcommands(command)
    params = [param for param in command.get_params(ctx) if not getattr(param, "hidden", False)]
    options = [_option(param) for param in params if isinstance(param, TyperOption)]
    return Spec(
        path=path,
        help=_first_paragraph(command.short_help or command.help),
        options=tuple(sorted(options, key=_option_key)),
        arguments=tuple(_argument(p) for p in params if isinstance(p, TyperArgument)),
        commands=tuple(_spec(child, _context(child, name, ctx), (*path, name), None)
                       for name, child in children),
        default=default if default in dict(children) else None,
    )


def _subcommands(command: Command) -> list[tuple[str, Command]]:
    if not isinstance(command, TyperGroup):
        return []
    visible = [(name, child) for name, child in command.commands.items() if not child.hidden]
    return sorted(visible, key=lambda item: item[0])


def _option(param: TyperOption) -> Option:
    takes_value = not (param.is_flag or param.count)
    return Option(
        opts=_ordered(param.opts),
        secondary=_ordered(param.secondary_opts),
        help=_one_line(param.help),
        metavar=_metavar(param),
        takes_value=takes_value,
        multiple=param.multiple or param.count,
        values=_values(param) if takes_value else Values(),
    )


def _ordered(names: Iterable[str]) -> tuple[str, ...]:
    """Short names first: the help option's names come from a set."""
    return tuple(sorted(names, key=lambda name: (name.startswith("--"), name)))


def _argument(param: TyperArgument) -> Argument:
    return Argument(metavar=_metavar(param), nargs=param.nargs, values=_values(param))


def _option_key(option: Option) -> tuple[str, tuple[str, ...]]:
    long = [name for name in option.opts if name.startswith("--")]
    return ((long or list(option.opts))[0].lstrip("-").lower(), option.names)


def _metavar(param: TyperOption | TyperArgument) -> str:
    return param.metavar or (param.name or "value").upper()


def _values(param: TyperOption | TyperArgument) -> Values:
    choices = param.type_descriptor.choices
    if choices is not None:
        return Values("choice", tuple(_choice_text(choice) for choice in choices))
    return Values(_path_kind(param))


def _choice_text(choice: Any) -> str:
    return str(choice.value) if isinstance(choice, Enum) else str(choice)


def _path_kind(param: TyperOption | TyperArgument) -> Kind:
    """``file`` or ``dir`` when the type or the metavar names a path, else ``none``."""
    desc = param.type_descriptor
    annotation: Any = desc.annotation
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    is_path_type = isinstance(annotation, type) and issubclass(annotation, PurePath)
    if desc.is_file or desc.is_path or is_path_type:
        info = desc.parameter_info
        return "dir" if info.dir_okay and not info.file_okay else "file"
    for word in re.split(r"[^A-Za-z]+", param.metavar or ""):
        if word in _PATH_METAVARS:
            return _PATH_METAVARS[word]
    return "none"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _first_paragraph(text: str | None) -> str:
    return _one_line((text or "").strip().split("\n\n")[0])


# Quoting.


def _sh_quote(text: str) -> str:
    """Single quotes for bash and zsh."""
    return "'" + text.replace("'", "'\\''") + "'"


def _sh_word(text: str) -> str:
    return text if _SAFE_WORD.fullmatch(text) else _sh_quote(text)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_word(text: str) -> str:
    return text if _SAFE_WORD.fullmatch(text) else _fish_quote(text)


def _header(shell: str, *how: str) -> list[str]:
    return [
        f"# {shell} completion for {PROG}.",
        f"# Generated by `{PROG} completion {shell}`; do not edit by hand.",
        *(f"# {line}" for line in how),
    ]


def _wrap(prefix: str, words: Iterable[str], suffix: str, indent: str) -> list[str]:
    """``prefix`` and ``words`` and ``suffix`` on lines of at most 100 characters."""
    lines = [prefix]
    for word in words:
        gap = "" if lines[-1].endswith("(") else " "
        if len(lines[-1]) + len(gap) + len(word) > 98 and lines[-1].strip() != prefix.strip():
            lines.append(indent)
            gap = ""
        lines[-1] += gap + word
    lines[-1] += suffix
    return lines


# bash.

_BASH_HELPERS = r"""
_chatcli_in() {
    # Succeeds if $1 is one of the other arguments.
    local word=$1 item
    shift
    for item; do
        [[ $item == "$word" ]] && return 0
    done
    return 1
}

_chatcli_reply() {
    # Completes $1 as a value of the kind and choices set before, each choice after
    # the prefix $2. File names come from `complete -o default`.
    local choice
    case $kind in
        file) return 0 ;;
        dir) compopt -o dirnames 2>/dev/null ;;
    esac
    compopt +o default 2>/dev/null
    for choice in "${choices[@]}"; do
        [[ $choice == "$1"* ]] && COMPREPLY+=("$2$choice")
    done
    return 0
}

_chatcli_equals() {
    # Completes the value in the word $1 written as --option=value.
    local option=${1%%=*}
    if _chatcli_option "$path" "$option" || {
        [[ -n $default_command ]] && _chatcli_option "$path $default_command" "$option"
    }; then
        _chatcli_reply "${1#*=}" "$option="
    else
        compopt +o default 2>/dev/null
    fi
}

_chatcli() {
    local cur=${COMP_WORDS[COMP_CWORD]} path=chatcli word value_of='' kind default_command
    local -a options own_options commands choices
    local -i i=1 n=0 next dashdash=0
    COMPREPLY=()
    _chatcli_command "$path"
    while (( i < COMP_CWORD )); do
        word=${COMP_WORDS[i]}
        if [[ -n $default_command ]] && ! _chatcli_in "$word" "${commands[@]}" "${own_options[@]}"
        then
            path+=" $default_command"
            _chatcli_command "$path"
            continue
        fi
        if (( dashdash == 0 )) && [[ $word == -- ]]; then
            dashdash=1
        elif (( dashdash == 0 )) && [[ $word == -?* ]]; then
            if _chatcli_option "$path" "$word"; then
                (( next = i + 1 ))
                [[ ${COMP_WORDS[next]} == = ]] && (( next += 1 ))
                if (( next >= COMP_CWORD )); then
                    value_of=$word
                    break
                fi
                (( i = next ))
            fi
        elif _chatcli_in "$word" "${commands[@]}"; then
            path+=" $word"
            _chatcli_command "$path"
        else
            (( n += 1 ))
        fi
        (( i += 1 ))
    done
    if [[ -n $value_of ]]; then
        [[ $cur == = ]] && cur=''
        _chatcli_option "$path" "$value_of"
        _chatcli_reply "$cur" ''
    elif (( dashdash == 0 )) && [[ $cur == --*=* ]]; then
        _chatcli_equals "$cur"
    elif (( dashdash == 0 )) && [[ $cur == -* ]]; then
        kind=choice
        choices=("${options[@]}")
        _chatcli_reply "$cur" ''
    elif (( ${#commands[@]} > 0 )); then
        kind=choice
        choices=("${commands[@]}")
        _chatcli_reply "$cur" ''
    else
        _chatcli_argument "$path" "$n"
        _chatcli_reply "$cur" ''
    fi
    return 0
}

complete -o default -F _chatcli chatcli
"""


def _bash(tree: Spec) -> str:
    how = ("Load it with `source <(chatcli completion bash)`, or copy it to",
           "~/.local/share/bash-completion/completions/chatcli.")
    lines = [*_header("bash", *how), "", *_bash_commands(tree), "", *_bash_options(tree), "",
             *_bash_arguments(tree), *_BASH_HELPERS.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def _bash_array(name: str, words: Iterable[str]) -> list[str]:
    return _wrap(f"            {name}=(", [_sh_word(word) for word in words], ")", " " * 16)


def _bash_commands(tree: Spec) -> list[str]:
    lines = [
        "_chatcli_command() {",
        "    # Sets options (offered after a dash), own_options, commands and default_command",
        "    # for the command path $1.",
        "    options=() own_options=() commands=() default_command=''",
        "    case $1 in",
    ]
    for spec in walk(tree):
        lines.append(f"        {_sh_quote(' '.join(spec.path))})")
        lines += _bash_array("options", _offered_options(spec))
        if spec.default is not None:
            lines += _bash_array("own_options", spec.option_names())
            lines.append(f"            default_command={_sh_word(spec.default)}")
        if spec.commands:
            lines += _bash_array("commands", [child.name for child in spec.commands])
        lines.append("            ;;")
    return [*lines, "    esac", "}"]


def _offered_options(spec: Spec) -> list[str]:
    """The options offered at a dash: the default command's too, since it may follow."""
    names = set(spec.option_names())
    for child in spec.commands:
        if child.name == spec.default:
            names.update(child.option_names())
    return sorted(names)


def _bash_options(tree: Spec) -> list[str]:
    lines = [
        "_chatcli_option() {",
        "    # Sets kind (choice, file, dir or none) and choices for the value of option $2",
        "    # of the command path $1; fails for a flag or an unknown option.",
        "    kind=none choices=()",
        '    case "$1 $2" in',
    ]
    for spec in walk(tree):
        for option in spec.options:
            if option.takes_value:
                patterns = "|".join(_sh_quote(" ".join((*spec.path, name)))
                                    for name in option.names)
                lines += _bash_values(patterns, option.values)
    return [*lines, "        *) return 1 ;;", "    esac", "}"]


def _bash_values(patterns: str, values: Values) -> list[str]:
    if values.kind == "none":
        return [f"        {patterns}) ;;"]
    if not values.choices:
        return [f"        {patterns}) kind={values.kind} ;;"]
    return [f"        {patterns})", f"            kind={values.kind}",
            *_bash_array("choices", values.choices), "            ;;"]


def _bash_arguments(tree: Spec) -> list[str]:
    lines = [
        "_chatcli_argument() {",
        "    # Sets kind and choices for positional argument $2 (from 0) of the command path $1.",
        "    kind=none choices=()",
    ]
    clauses: list[str] = []
    for spec in walk(tree):
        tests = list(_bash_argument_tests(spec.arguments))
        if tests:
            clauses += [f"        {_sh_quote(' '.join(spec.path))})", *tests, "            ;;"]
    if clauses:
        lines += ["    case $1 in", *clauses, "    esac"]
    return [*lines, "    return 0", "}"]


def _bash_argument_tests(arguments: tuple[Argument, ...]) -> Iterator[str]:
    for start, argument in _positions(arguments):
        if argument.values.kind == "none":
            continue
        if argument.nargs < 0:
            test = f"$2 >= {start}"
        elif argument.nargs == 1:
            test = f"$2 == {start}"
        else:
            test = f"$2 >= {start} && $2 < {start + argument.nargs}"
        yield f"            if (( {test} )); then"
        yield f"                kind={argument.values.kind}"
        if argument.values.choices:
            yield from _wrap("                choices=(",
                             [_sh_word(choice) for choice in argument.values.choices],
                             ")", " " * 20)
        yield "            fi"


def _positions(arguments: tuple[Argument, ...]) -> Iterator[tuple[int, Argument]]:
    """Each argument with the index of its first word."""
    start = 0
    for argument in arguments:
        yield start, argument
        start += max(argument.nargs, 1)


# zsh.


def _zsh(tree: Spec) -> str:
    how = ("Save it as _chatcli in a directory on $fpath, or load it with",
           "`source <(chatcli completion zsh)`.")
    lines = ["#compdef chatcli", *_header("zsh", *how)]
    for spec in walk(tree):
        lines += ["", *(_zsh_group(spec) if spec.commands else _zsh_leaf(spec))]
    lines += [
        "",
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then",
        '    _chatcli "$@"',
        "else",
        "    compdef _chatcli chatcli",
        "fi",
    ]
    return "\n".join(lines) + "\n"


def _zsh_function(spec: Spec) -> str:
    return "_" + "_".join(re.sub(r"\W", "_", word) for word in spec.path)


def _zsh_group(spec: Spec) -> list[str]:
    label = " ".join(spec.path)
    lines = [f"{_zsh_function(spec)}() {{", "    local -a commands", "    commands=("]
    lines += [f"        {_sh_quote(_zsh_escape(c.name, ':') + ':' + c.help)}"
              for c in spec.commands]
    lines += [
        "    )",
        "    if (( CURRENT == 2 )) && [[ $PREFIX != -* ]]; then",
        f"        _describe -t commands {_sh_quote(label + ' command')} commands",
        "        return",
        "    fi",
        "    case $words[2] in",
    ]
    for child in spec.commands:
        lines += [
            f"        ({_zsh_escape(child.name, '()|*?[]<>')})",
            "            shift words",
            "            (( CURRENT-- ))",
            f'            curcontext="${{curcontext%:*:*}}:{"-".join(child.path)}:"',
            f"            {_zsh_function(child)}",
            "            ;;",
        ]
    return [*lines, "        (*)", *_zsh_fallback(spec), "            ;;", "    esac", "}"]


def _zsh_fallback(spec: Spec) -> list[str]:
    """What the first word of a group completes to when it names no command."""
    default = next((c for c in spec.commands if c.name == spec.default), None)
    if default is None:
        return _zsh_arguments(spec.options, (), "            ")
    taken = set(default.option_names())
    extra = [option for option in spec.options if not taken.intersection(option.names)]
    call = f"            {_zsh_function(default)}"
    if not extra:
        return [call]
    specs = [f"                    {_sh_quote(s)} \\" for o in extra for s in _zsh_option_specs(o)]
    specs[-1] = specs[-1].removesuffix(" \\")
    return [
        "            if (( CURRENT == 2 )); then",
        f"    {call} \\",
        *specs,
        "            else",
        f"    {call}",
        "            fi",
    ]


def _zsh_leaf(spec: Spec) -> list[str]:
    return [f"{_zsh_function(spec)}() {{",
            *_zsh_arguments(spec.options, spec.arguments, "    ", '"$@" '), "}"]


def _zsh_arguments(options: Iterable[Option], arguments: tuple[Argument, ...], indent: str,
                   extra: str = "") -> list[str]:
    specs = [s for option in options for s in _zsh_option_specs(option)]
    specs += _zsh_argument_specs(arguments)
    lines = [f"{indent}_arguments -s -S {extra}\\"]
    lines += [f"{indent}    {_sh_quote(s)} \\" for s in specs]
    lines[-1] = lines[-1].removesuffix(" \\")
    return lines


def _zsh_option_specs(option: Option) -> list[str]:
    exclusive = "" if option.multiple else "(" + " ".join(option.names) + ")"
    repeat = "*" if option.multiple else ""
    value = ""
    if option.takes_value:
        value = f":{_zsh_escape(option.metavar, ':')}:{_zsh_action(option.values)}"
    specs = []
    for name in option.names:
        form = name
        if option.takes_value:
            form += "=" if name.startswith("--") else "+"
        specs.append(f"{exclusive}{repeat}{form}[{_zsh_escape(option.help, '[]')}]{value}")
    return specs


def _zsh_argument_specs(arguments: tuple[Argument, ...]) -> list[str]:
    specs = []
    for start, argument in _positions(arguments):
        tail = f":{_zsh_escape(argument.metavar, ':')}:{_zsh_action(argument.values)}"
        if argument.nargs < 0:
            specs.append("*" + tail)
        else:
            specs += [f"{start + offset + 1}{tail}" for offset in range(argument.nargs)]
    return specs


def _zsh_action(values: Values) -> str:
    if values.kind == "choice":
        return "(" + " ".join(_zsh_escape(c, _ZSH_SPECIAL) for c in values.choices) + ")"
    return {"file": "_files", "dir": "_files -/"}.get(values.kind, " ")


def _zsh_escape(text: str, special: str) -> str:
    """Backslashes before backslashes and the ``special`` characters."""
    return "".join("\\" + char if char in special or char == "\\" else char for char in text)


# fish.


def _fish(tree: Spec) -> str:
    how = ("Copy it to ~/.config/fish/completions/chatcli.fish, or load it with",
           "`chatcli completion fish | source`.")
    lines = [*_header("fish", *how), "", "complete -c chatcli -f"]
    for spec, condition, skip in _fish_sections(tree):
        lines += ["", f"# {' '.join(spec.path)}"]
        lines += [_fish_line(condition, f"-a {_fish_word(child.name)}", child.help)
                  for child in spec.commands]
        lines += [_fish_option(condition, option) for option in spec.options
                  if not skip.intersection(option.names)]
        lines += [_fish_line(condition, _fish_value(argument.values))
                  for argument in spec.arguments if argument.values.kind != "none"]
    return "\n".join(lines) + "\n"


def _fish_sections(tree: Spec) -> Iterator[tuple[Spec, str, set[str]]]:
    """Each command, the condition for its completions, and the options it leaves out.

    The root leaves out the default command's options, which are offered there anyway.
    """
    default = next((c for c in tree.commands if c.name == tree.default), None)
    yield tree, "__fish_use_subcommand", set(default.option_names()) if default else set()
    yield from _fish_below(tree)


def _fish_below(parent: Spec) -> Iterator[tuple[Spec, str, set[str]]]:
    for spec in parent.commands:
        condition = _fish_seen(parent, spec)
        if spec.commands:
            names = " ".join(_fish_word(child.name) for child in spec.commands)
            condition += f"; and not __fish_seen_subcommand_from {names}"
        yield spec, condition, set()
        yield from _fish_below(spec)


def _fish_seen(parent: Spec, child: Spec) -> str:
    """The condition that ``child`` is the command being completed."""
    parts = [f"__fish_seen_subcommand_from {_fish_word(word)}" for word in parent.path[1:]]
    if child.name == parent.default:
        others = " ".join(_fish_word(c.name) for c in parent.commands if c is not child)
        parts.append(f"not __fish_seen_subcommand_from {others}" if others else "true")
    else:
        parts.append(f"__fish_seen_subcommand_from {_fish_word(child.name)}")
    return "; and ".join(parts)


def _fish_option(condition: str, option: Option) -> str:
    names = []
    for name in option.names:
        if name.startswith("--"):
            names.append(f"-l {_fish_word(name[2:])}")
        elif len(name) == 2:
            names.append(f"-s {_fish_word(name[1:])}")
        else:
            names.append(f"-o {_fish_word(name[1:])}")
    value = _fish_value(option.values, option=True) if option.takes_value else ""
    return _fish_line(condition, " ".join(names), option.help, value)


def _fish_value(values: Values, option: bool = False) -> str:
    if values.kind == "file":
        return "-r -F" if option else "-F"
    words = {"choice": " ".join(_fish_word(c) for c in values.choices),
             "dir": "(__fish_complete_directories)"}.get(values.kind)
    args = f"-a {_fish_quote(words)}" if words else ""
    return f"-x {args}".strip() if option else args


def _fish_line(condition: str, what: str, description: str = "", value: str = "") -> str:
    parts = [f"complete -c chatcli -n {_fish_quote(condition)} {what}"]
    if description:
        parts.append(f"-d {_fish_quote(description)}")
    if value:
        parts.append(value)
    return " ".join(parts)


# Entry points.

_RENDERERS = {"bash": _bash, "zsh": _zsh, "fish": _fish}


def completion_script(shell: str, root: Command | None = None) -> str:
    """The completion script for ``shell`` (one of ``SHELLS``), ending with a newline."""
    return _render(shell, command_tree(root))


def write_all(directory: Path, root: Command | None = None) -> list[Path]:
    """Write every shell's script into ``directory`` under its usual name."""
    tree = command_tree(root)
    written = []
    for shell in SHELLS:
        path = directory / FILE_NAMES[shell]
        path.write_text(_render(shell, tree), encoding="utf-8", newline="\n")
        written.append(path)
    return written


def _render(shell: str, tree: Spec) -> str:
    if shell not in _RENDERERS:
        raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}")
    return _RENDERERS[shell](tree)
