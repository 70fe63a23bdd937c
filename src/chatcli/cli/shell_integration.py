"""The snippets ``chatcli shell-integration SHELL`` prints: a key (Alt-E) that turns the
description on the command line into a command, left there to edit and run.

Each calls ``chatcli cmd --shell SHELL --no-interaction`` with the line, shows a message while it
waits, and puts the line back as it was when chatcli fails or is interrupted. The key
is a variable at the top of each snippet.
"""

from __future__ import annotations

BASH = r'''# chatcli: Alt-E turns the description on the command line into a command.
# In ~/.bashrc: eval "$(chatcli shell-integration bash)"
# Another key: set CHATCLI_CMD_KEY (readline syntax, e.g. '\C-xe') before the eval.
_chatcli_cmd() {
    local description=$READLINE_LINE made user_trap
    [[ -n ${description//[[:space:]]/} ]] || return 0
    user_trap=$(trap -p INT)
    printf '\r\033[K\033[2m%s\033[0m' "chatcli: making a command…" >/dev/tty
    trap : INT  # Ctrl-C ends chatcli, not the line being edited
    if made=$(chatcli cmd --shell bash --no-interaction -- "$description" </dev/null 2>/dev/null) \
            && [[ -n $made ]]; then
        READLINE_LINE=$made
        READLINE_POINT=${#made}
    fi
    eval "${user_trap:-trap - INT}"
    printf '\r\033[K' >/dev/tty
}
bind -x "\"${CHATCLI_CMD_KEY:-\\ee}\": _chatcli_cmd"
'''

ZSH = r'''# chatcli: Alt-E turns the description on the command line into a command.
# In ~/.zshrc: eval "$(chatcli shell-integration zsh)"
# Another key: set CHATCLI_CMD_KEY (bindkey syntax, e.g. '^Xe') before the eval.
_chatcli_cmd() {
    setopt localoptions localtraps
    local description=$BUFFER made
    [[ -n ${description//[[:space:]]/} ]] || return 0
    zle -M "chatcli: making a command…"
    zle -R
    trap : INT  # Ctrl-C ends chatcli, not the line being edited (local to the widget)
    if made=$(chatcli cmd --shell zsh --no-interaction -- "$description" </dev/null 2>/dev/null) \
            && [[ -n $made ]]; then
        BUFFER=$made
        CURSOR=${#BUFFER}
    fi
    zle -M ""
    zle -R
}
zle -N _chatcli_cmd
bindkey "${CHATCLI_CMD_KEY:-\ee}" _chatcli_cmd
'''

FISH = r'''# chatcli: Alt-E turns the description on the command line into a command.
# In ~/.config/fish/config.fish: chatcli shell-integration fish | source
# Another key: set CHATCLI_CMD_KEY (bind syntax, e.g. \cxe) before sourcing.
function _chatcli_cmd
    set -l description (commandline)
    string length -q -- (string trim -- "$description"); or return 0
    printf '\r\033[K\033[2m%s\033[0m' "chatcli: making a command…" >/dev/tty
    set -l made (chatcli cmd --shell fish --no-interaction -- "$description" \
        </dev/null 2>/dev/null | string collect)
    if test $pipestatus[1] -eq 0 -a -n "$made"
        commandline -r -- $made
    else
        commandline -r -- $description
    end
    commandline -f repaint
end
set -g __chatcli_cmd_key \ee
set -q CHATCLI_CMD_KEY; and set -g __chatcli_cmd_key $CHATCLI_CMD_KEY
bind $__chatcli_cmd_key _chatcli_cmd
# fish sets its key bindings again before the first prompt: bind once more then.
function __chatcli_cmd_bind --on-event fish_prompt
    bind $__chatcli_cmd_key _chatcli_cmd
    functions -e __chatcli_cmd_bind
end
'''

SNIPPETS = {"bash": BASH, "zsh": ZSH, "fish": FISH}


def snippet(shell: str) -> str:
    return SNIPPETS[shell]
