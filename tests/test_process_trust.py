"""Real processes: a closed terminal keeps the partial answer, an early reader gives 141 in
every mode, and whatever the umask, what chatcli creates is private."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from clirun import process_env, run_cli, wait_until_polling
from fakeapi import JSON, SSE, FakeAPI, Gate, chunk, sse_bytes, text_stream
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
    wait_until_polling(child.pid)
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


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_under_umask_000_every_file_and_directory_is_private(fakeapi: FakeAPI,
                                                             tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"  # the parent does not exist either
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    fakeapi.add(JSON({"modalities": {"input": ["text", "image"]}}),
                path="/v1/model-catalog/gpt-4o-mini")
    fakeapi.add(JSON({"error": {"message": "Unsupported parameter: 'seed'", "param": "seed"}},
                     status=400))
    fakeapi.add(SSE(text_stream(["ok"])))
    done = subprocess.run([sys.executable, "-m", "chatcli", "--base-url", fakeapi.base_url,
                           "-i", str(image), "--seed", "1", "hi"], capture_output=True,
                          stdin=subprocess.DEVNULL, timeout=60, check=False,
                          env=process_env({"CHATCLI_DATA_DIR": str(data)}),
                          preexec_fn=lambda: os.umask(0))
    assert done.returncode == 0, done.stderr
    made = [tmp_path / "deep", data, *data.rglob("*")]
    assert {p.name for p in made} >= {"deep", "data", "models.json", "param_drops.json",
                                      "history.db"}
    for path in made:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"
