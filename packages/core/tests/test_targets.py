"""The _target_ allow-list: refused before import, aliases included, extendable on purpose."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pegboard.errors import ConfigError
from pegboard.runner.validate import check_node
from pegboard.runtime import plugin_modules, set_plugin_modules
from pegboard.targets import ALLOW_ENV, allowed_roots, check_target, check_targets


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty project folder as working directory, and a known set of pack modules."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    before = plugin_modules()
    set_plugin_modules({"acme_pack"})
    yield
    set_plugin_modules(before)


@pytest.mark.parametrize(
    "target",
    [
        "pytorch_lightning.Trainer",
        "torch.optim.SGD",
        "torch.optim.lr_scheduler.CosineAnnealingLR",
        "pegboard.testing.models.LinearClassifier",
        "lightning.pytorch.Trainer",
        "torchmetrics.Accuracy",
        "acme_pack.models.Net",
    ],
)
def test_pegboard_torch_lightning_and_active_packs_are_allowed(target: str) -> None:
    check_target(target, "model")


@pytest.mark.parametrize(
    "target",
    [
        "os.system",
        "os.popen",
        "os.execv",
        "os.spawnl",
        "os.remove",
        "posix.system",
        "nt.system",
        "subprocess.run",
        "subprocess.Popen",
        "subprocess.check_output",
        "builtins.eval",
        "builtins.exec",
        "builtins.__import__",
        "builtins.open",
        "importlib.import_module",
        "pty.spawn",
        "shutil.rmtree",
        "pickle.loads",
        "runpy.run_path",
        "ctypes.CDLL",
        # Reached through allowed modules, which import os and builtins themselves:
        "torch.os.system",
        "pegboard.runner.train.os.system",
        "torch.__builtins__.eval",
        "pytorch_lightning.Trainer.__init__.__globals__",
        "torch.hub.load",
        "torch.load",
        "acme_pack.helpers.subprocess.run",
    ],
)
def test_code_execution_and_its_aliases_are_refused(target: str, monkeypatch) -> None:
    # Even an explicit allowance does not open these.
    monkeypatch.setenv(ALLOW_ENV, "os,posix,nt,subprocess,builtins,importlib,pty,shutil,pickle")
    with pytest.raises(ConfigError, match=r"model\._target_=.* is refused"):
        check_target(target, "model")


def test_other_modules_are_refused_with_how_to_allow_them(monkeypatch) -> None:
    with pytest.raises(ConfigError) as error:
        check_target("json.JSONDecoder", "data")
    message = str(error.value)
    assert "data._target_='json.JSONDecoder' is refused: module 'json'" in message
    assert f"{ALLOW_ENV}=json" in message
    monkeypatch.setenv(ALLOW_ENV, "collections, json")
    check_target("json.JSONDecoder", "data")


def test_project_modules_in_the_working_directory_are_allowed(tmp_path: Path) -> None:
    (tmp_path / "my_net.py").write_text("")
    (tmp_path / "mylib").mkdir()
    (tmp_path / "mylib" / "__init__.py").write_text("")
    (tmp_path / "notes").mkdir()  # not a package
    assert {"my_net", "mylib"} <= allowed_roots() and "notes" not in allowed_roots()
    check_target("my_net.MyNet", "model")
    check_target("mylib.nets.Net", "model")


def test_refused_before_anything_is_imported(tmp_path: Path, monkeypatch) -> None:
    site = tmp_path / "elsewhere"
    site.mkdir()
    (site / "sneaky.py").write_text("open('imported', 'w').write('yes')\nclass Thing: pass\n")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(ConfigError, match="is refused"):
        check_node({"_target_": "sneaky.Thing"}, "model")
    assert "sneaky" not in sys.modules and not (tmp_path / "imported").exists()


def test_nested_targets_in_mappings_and_lists_are_checked() -> None:
    node = {
        "_target_": "torch.nn.Sequential",
        "_args_": [{"_target_": "torch.nn.ReLU"}, {"_target_": "os.system", "command": "x"}],
    }
    with pytest.raises(ConfigError, match=r"model\._args_\[1\]\._target_='os\.system'"):
        check_targets(node, "model")
    nested = {
        "_target_": "pegboard.testing.models.LinearClassifier",
        "optimizer": {"_target_": "subprocess.Popen", "_partial_": True},
    }
    with pytest.raises(ConfigError, match=r"model\.optimizer\._target_='subprocess\.Popen'"):
        check_node(nested, "model")


def test_a_missing_module_is_named_as_such() -> None:
    with pytest.raises(ConfigError, match="cannot be imported: no module named 'no_such_mod'"):
        check_target("no_such_mod.Thing", "model")


@pytest.mark.parametrize("target", ["", "torch optim.SGD", 3])
def test_malformed_targets_are_refused(target) -> None:
    with pytest.raises(ConfigError, match="is not a dotted name"):
        check_target(target, "model")


def test_without_the_launcher_installed_pack_entry_points_are_allowed(monkeypatch) -> None:
    import pegboard.targets as targets

    set_plugin_modules(None)
    targets._reset_caches()
    monkeypatch.setattr(targets, "_entry_point_roots", lambda: frozenset({"installed_pack"}))
    try:
        check_target("installed_pack.nets.Net", "model")
        with pytest.raises(ConfigError):
            check_target("acme_pack.models.Net", "model")
    finally:
        targets._reset_caches()
