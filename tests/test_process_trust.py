"""Real processes: a closed terminal keeps the partial answer, an early reader gives 141 in
every mode, and whatever the umask, what chatcli creates is private."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from clirun import process_env, run_cli
from fakeapi import SSE, FakeAPI, Gate, chunk, sse_bytes, text_stream
from test_process import read_until


def test_sighup_mid_answer_keeps_the_partial_in_the_history(fakeapi: FakeAPI) -> None:
    gate = fakeapi.add(Gate(first=sse_bytes([chunk(role="assistant", content="Half an ans")],
                                            done=False),
                            rest=sse_bytes([chunk(content="wer."), chunk(finish_reason="stop")])))
    child = subprocess.Popen([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url,
                              "hi"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=process_env())
    assert child.stdout is not None
    read_until(child.stdout.fileno(), b"Half an ans")
    child.send_signal(signal.SIGHUP)
    child.communicate(timeout=30)
    gate.release()
    assert child.returncode == 129
    listed = json.loads(run_cli(["history", "list", "--json"]).stdout)
    shown = json.loads(run_cli(["history", "show", "--json", listed[0]["id"]]).stdout)
    reply = shown["messages"][-1]
    assert (reply["message"]["content"], reply["status"]) == ("Half an ans", "interrupted")


@pytest.mark.parametrize("mode", ["plain", "json", "events"])
@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_a_reader_that_closes_early_gives_141_in_every_mode(fakeapi: FakeAPI, mode: str,
                                                            unbuffered: str) -> None:
    fakeapi.add(SSE(text_stream(["hello world " * 20] * 2000)))  # far more than a pipe holds
    script = (f'"{sys.executable}" -m chatcli --base-url {fakeapi.base_url} -O {mode} hi'
              ' | head -c1; echo " ${PIPESTATUS[0]}"')
    env = process_env({"PYTHONUNBUFFERED": unbuffered})
    if not unbuffered:
        del env["PYTHONUNBUFFERED"]
    done = subprocess.run(["bash", "-c", script], capture_output=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert done.stdout.endswith(b" 141\n"), done
    assert done.stderr == b""
