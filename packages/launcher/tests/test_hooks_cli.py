"""Packs' hooks through the ``pegboard`` command: listed without import, run, isolated."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from launcher_helpers import run_pegboard as pegboard

from pegboard.hooks import pack_hooks
from pegboard.runtime import HOOKS_ENV
from pegboard_launcher.cli import main

COMMANDS = '''\
import sys
from pathlib import Path

from pegboard import hookimpl

# Imported only when a command calls hooks: the tests look for this mark.
Path("hooks-imported.txt").write_text("yes")


def hello(argv):
    """Say hello to each argument."""
    print("hello " + " ".join(argv))
    return len(argv)


def broken(argv):
    raise ValueError("the remote store is down")


@hookimpl
def pegboard_commands():
    return {"acme-hello": hello, "acme-broken": broken, "train": hello}
'''
RIVAL = """\
from pegboard import hookimpl


@hookimpl
def pegboard_commands():
    return {"acme-broken": print}
"""


@pytest.fixture(autouse=True)
def fresh_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test discovers its own packs' hook modules."""
    monkeypatch.delenv(HOOKS_ENV, raising=False)
    pack_hooks.cache_clear()
    yield
    pack_hooks.cache_clear()


def test_help_plugins_and_cfg_list_hooks_without_importing_them(
    working_packs: None, add_pack: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    add_pack("acme-hooks", hooks=COMMANDS)
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "acme-hello   Say hello to each argument. (acme-hooks)" in out
    assert "command 'train' of acme-hooks is refused: pegboard has its own" in out
    assert main(["plugins", "--json"]) == 0
    (pack,) = [p for p in json.loads(capsys.readouterr().out)["packs"] if p["hooks"]]
    assert pack["hooks"]["implements"] == ["pegboard_commands"]
    assert pack["hooks"]["commands"] == ["acme-broken", "acme-hello", "train"]
    assert main(["train", "--help"]) == 0
    assert main(["train", "model=tiny", "data=tiny_images", "--cfg", "job"]) == 0
    assert "acme_hooks.hooks" not in sys.modules
    assert not Path("hooks-imported.txt").exists()


def test_a_pack_command_runs_with_its_arguments_and_status(
    add_pack: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    add_pack("acme-hooks", hooks=COMMANDS)
    assert main(["acme-hello", "world", "again"]) == 2
    assert capsys.readouterr().out == "hello world again\n"
    assert main(["acme-broken"]) == 2
    assert capsys.readouterr().err.strip() == (
        "pegboard: error: command 'acme-broken' of pack acme-hooks failed: "
        "ValueError: the remote store is down"
    )
    assert main(["acme-helo"]) == 2
    assert "Did you mean 'acme-hello'?" in capsys.readouterr().err


def test_a_command_two_packs_offer_is_refused_naming_both(
    add_pack: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    add_pack("acme-hooks", hooks=COMMANDS)
    add_pack("rival-hooks", hooks=RIVAL)
    assert main(["acme-broken"]) == 2
    err = capsys.readouterr().err
    assert "command 'acme-broken' is offered by both acme-hooks and rival-hooks" in err
    assert main(["--help"]) == 0
    assert "'acme-broken' is refused: both acme-hooks and rival-hooks offer it" in (
        capsys.readouterr().out
    )
    assert main(["acme-hello"]) == 0  # the other commands still work


RUN_HOOKS = '''\
import json
import os
import signal
from pathlib import Path

import pytorch_lightning as pl

from pegboard import hookimpl


class StopEarly(pl.Callback):
    """Sends the run SIGTERM on its first batch when HOOK_SIGTERM is set."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if os.environ.get("HOOK_SIGTERM"):
            os.kill(os.getpid(), signal.SIGTERM)


class Marker(pl.Callback):
    def on_train_epoch_end(self, trainer, pl_module):
        pl_module.log("hooked/epochs", float(trainer.current_epoch + 1))


@hookimpl
def pegboard_callbacks(command):
    return [Marker(), StopEarly()] if command == "train" else []


@hookimpl
def pegboard_resolvers():
    return {"good_double": lambda value: 2 * int(value)}


@hookimpl
def pegboard_export_formats():
    return {"good_txt": lambda model, example_input, path: path.write_text("w") and path}


@hookimpl
def pegboard_run_finished(run_dir, metrics, status):
    with open(Path(run_dir).parents[2] / "finished.jsonl", "a") as file:
        file.write(json.dumps({"status": status, "metrics": metrics}) + "\\n")
'''
FAILING_HOOKS = """\
from pegboard import hookimpl


@hookimpl
def pegboard_callbacks(cfg, command):
    raise RuntimeError("callbacks unavailable")


@hookimpl
def pegboard_export_formats():
    raise RuntimeError("formats unavailable")
"""


@pytest.mark.heavy
def test_runs_get_the_packs_callbacks_resolvers_and_end_notices(
    working_packs: None, add_pack: Callable[..., str], tmp_path: Path
) -> None:
    add_pack("good-hooks", hooks=RUN_HOOKS)
    add_pack("bad-hooks", hooks=FAILING_HOOKS)
    train = ("train", "model=tiny", "data=tiny_images", "trainer.enable_progress_bar=false")
    done = pegboard(*train, "trainer.max_epochs=${good_double:1}", "~callbacks.progress_bar")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (
        "pegboard: warning: pack bad-hooks: pegboard_callbacks failed: "
        "RuntimeError: callbacks unavailable" in done.stderr
    )
    failed = pegboard(*train)  # the progress-bar callback contradicts the trainer: fails
    assert failed.returncode == 2
    stopped = pegboard(*train, "~callbacks.progress_bar", env={"HOOK_SIGTERM": "1"})
    assert stopped.returncode == 143, stopped.stderr[-2000:]
    notices = [json.loads(line) for line in (tmp_path / "logs" / "finished.jsonl").open()]
    assert [notice["status"] for notice in notices] == ["completed", "failed", "interrupted"]
    assert notices[0]["metrics"]["hooked/epochs"] == 2.0  # 2 epochs: the resolver's 2 * 1
    unknown = pegboard("export", "ckpt_path=best", "format=nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().endswith(
        "choose one of: torchscript, onnx, safetensors, good_txt (good-hooks) "
        "(pack bad-hooks: pegboard_export_formats failed: RuntimeError: formats unavailable)"
    )


def test_an_unknown_resolver_is_named_before_any_run_folder(
    working_packs: None, add_pack: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    add_pack("res-hooks", hooks=RESOLVER_HOOKS)
    add_pack("bad-res-hooks", hooks=FAILING_RESOLVERS)
    args = ["train", "model=tiny", "data=tiny_images", "trainer.max_epochs=${nope:1}"]
    assert main(args) == 2
    warning, error = capsys.readouterr().err.splitlines()
    assert (
        warning
        == "pegboard: warning: pack bad-res-hooks: pegboard_resolvers failed: KeyError: 'token'"
    )
    assert error.startswith(
        "pegboard: error: ${nope:...} in trainer.max_epochs calls a resolver that is not "
        "registered; resolvers of the installed packs: res_triple (res-hooks);"
    )
    assert error.endswith("(pack bad-res-hooks: pegboard_resolvers failed: KeyError: 'token')")
    assert not Path("logs").exists()


RESOLVER_HOOKS = """\
from pegboard import hookimpl


@hookimpl
def pegboard_resolvers():
    return {"res_triple": lambda value: 3 * int(value)}
"""
FAILING_RESOLVERS = """\
import os

from pegboard import hookimpl


@hookimpl
def pegboard_resolvers():
    return {"secret": os.environ["token"]}
"""
