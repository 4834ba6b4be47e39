"""The _target_ allow-list: exact names only, decided before anything is imported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pegboard.errors import ConfigError
from pegboard.runner.validate import check_node
from pegboard.runtime import plugin_classes, set_plugin_classes
from pegboard.targets import ALLOW_ENV, advertised, check_target, check_targets, is_allowed


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty project folder as working directory, and a known set of pack classes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    before = plugin_classes()
    set_plugin_classes({"acme_pack.models.Net"})
    yield
    set_plugin_classes(before)


@pytest.mark.parametrize(
    "target",
    [
        "pytorch_lightning.Trainer",
        "pytorch_lightning.trainer.trainer.Trainer",
        "torch.optim.SGD",
        "torch.optim.adamw.AdamW",
        "torch.optim.lr_scheduler.CosineAnnealingLR",
        "torch.optim.lr_scheduler.ReduceLROnPlateau",
        "torch.nn.Linear",
        "pytorch_lightning.callbacks.ModelCheckpoint",
        "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
        "pytorch_lightning.loggers.CSVLogger",
        "pytorch_lightning.loggers.MLFlowLogger",
        "pytorch_lightning.strategies.DDPStrategy",
        "pytorch_lightning.plugins.precision.MixedPrecision",
        "pytorch_lightning.profilers.SimpleProfiler",
        "torchmetrics.Accuracy",
        "pegboard.testing.models.LinearClassifier",
        "pegboard.runner.rundir.UniqueRunDir",
        "acme_pack.models.Net",
    ],
)
def test_configurable_classes_pegboard_and_active_packs_are_allowed(target: str) -> None:
    check_target(target, "model")


#: The five causes of the audit, and more of their kind.
ATTACKS = [
    "torch.fx.graph_module._exec_with_source",
    "torch.fx.graph_module._forward_from_src",
    "torch._inductor.cpp_builder.run_compile_cmd",
    "torch.ops.load_library",
    "torch.save",
    "torch.load",
    "torch.hub.load",
    "torch.jit.load",
    "torch.utils.cpp_extension.load_inline",
    "torch.package.PackageImporter",
    "torch.os.system",
    "torch.optim.os.system",
    "torch.nn.functional.F",
    "torch.nn.Module.__init__",
    "torch.optim.SGD.__init__.__globals__",
    "pytorch_lightning.Trainer.__init__.__globals__",
    "pytorch_lightning.LightningModule",
    "pytorch_lightning.seed_everything",
    "pytorch_lightning.callbacks.LambdaCallback.__call__",
    "pegboard.runner.train.os.system",
    "pegboard.runner.build.write_json",
    "pegboard.runner.train.train",
    "acme_pack.models.subprocess.run",
    "acme_pack.models.Net.__init__",
    "acme_pack.models",
    "os.system",
    "posix.system",
    "subprocess.Popen",
    "builtins.eval",
    "builtins.__import__",
    "importlib.import_module",
    "pickle.loads",
    "shutil.rmtree",
    "runpy.run_path",
    "ctypes.CDLL",
    "test.support.script_helper.run_python_until_end",
]


@pytest.mark.parametrize("target", ATTACKS)
def test_code_execution_and_file_writes_are_refused(target: str) -> None:
    with pytest.raises(ConfigError, match=r"model\._target_=.* is refused: .* To allow it"):
        check_target(target, "model")


def test_a_refusal_is_one_line_naming_node_target_reason_and_fix() -> None:
    with pytest.raises(ConfigError) as error:
        check_target("torch.save", "callbacks.x")
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("callbacks.x._target_='torch.save' is refused: configs may build")
    assert message.endswith(f"To allow it on purpose, set {ALLOW_ENV}=torch.save")


def test_a_near_miss_in_a_namespace_suggests_the_class() -> None:
    with pytest.raises(ConfigError, match=r"torch\.optim\. Did you mean 'torch\.optim\.AdamW'"):
        check_target("torch.optim.AdamWW", "model.optimizer")


def test_the_environment_allows_an_exact_name_or_a_whole_module(monkeypatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "json.JSONDecoder, collections")
    check_target("json.JSONDecoder", "data")
    check_target("collections.OrderedDict", "data")
    with pytest.raises(ConfigError):
        check_target("json.loads", "data")


def test_project_classes_are_allowed_only_when_defined_in_a_project_file(tmp_path) -> None:
    (tmp_path / "my_net.py").write_text(
        "import os\nfrom subprocess import run\nclass MyNet:\n    pass\ndef helper():\n    pass\n"
    )
    (tmp_path / "mylib").mkdir()
    (tmp_path / "mylib" / "__init__.py").write_text("")
    (tmp_path / "mylib" / "nets.py").write_text("class Net:\n    pass\n")
    (tmp_path / "notes").mkdir()  # not a package
    (tmp_path / "notes" / "nets.py").write_text("class Net:\n    pass\n")
    check_target("my_net.MyNet", "model")
    check_target("mylib.nets.Net", "model")
    assert advertised("my_net.MyNet")
    refused_names = ["my_net.os", "my_net.run", "my_net.helper", "my_net.os.system"]
    refused_names.append("notes.nets.Net")
    for refused in refused_names:
        with pytest.raises(ConfigError, match="is refused"):
            check_target(refused, "model")


@pytest.mark.parametrize("name", ["test", "json", "os", "pytest"])
def test_a_project_file_never_unlocks_a_module_it_shadows(tmp_path, name) -> None:
    # An empty test.py used to unlock the stdlib's test package (test.support...).
    (tmp_path / f"{name}.py").write_text("class Thing:\n    pass\n")
    with pytest.raises(ConfigError, match="is refused"):
        check_target(f"{name}.Thing", "model")


def test_a_symlink_out_of_the_project_does_not_count(tmp_path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}_outside.py"
    outside.write_text("class Thing:\n    pass\n")
    (tmp_path / "linked.py").symlink_to(outside)
    with pytest.raises(ConfigError, match="is refused"):
        check_target("linked.Thing", "model")


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
        "optimizer": {"_target_": "torch.save", "_partial_": True},
    }
    with pytest.raises(ConfigError, match=r"model\.optimizer\._target_='torch\.save'"):
        check_node(nested, "model")


def test_a_missing_module_is_named_as_such() -> None:
    with pytest.raises(ConfigError, match="cannot be imported: no module named 'no_such_mod'"):
        check_target("no_such_mod.Thing", "model")


@pytest.mark.parametrize("target", ["", "torch optim.SGD", 3, "torch", "${oc.env:X}", "a.b:C"])
def test_malformed_and_interpolated_targets_are_refused(target) -> None:
    with pytest.raises(ConfigError, match="is not a dotted name"):
        check_target(target, "model")


def test_hydra_plugins_are_allowed_only_as_sweeper_or_launcher() -> None:
    launcher = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"
    check_target(launcher, "hydra.launcher")
    with pytest.raises(ConfigError):
        check_target(launcher, "model")


def test_checkpoint_classes_must_be_advertised() -> None:
    assert advertised("acme_pack.models.Net")
    assert advertised("pegboard.testing.models.LinearClassifier")
    assert not advertised("torch.nn.Linear")  # allowed in a config, never as a whole model


def test_without_the_launcher_installed_manifests_are_allowed(monkeypatch) -> None:
    import pegboard.targets as targets

    set_plugin_classes(None)
    targets._reset_caches()
    monkeypatch.setattr(
        targets, "_installed_manifest_targets", lambda: frozenset({"installed_pack.nets.Net"})
    )
    try:
        check_target("installed_pack.nets.Net", "model")
        assert not is_allowed("installed_pack.nets.Other")
        with pytest.raises(ConfigError):
            check_target("acme_pack.models.Net", "model")
    finally:
        targets._reset_caches()
