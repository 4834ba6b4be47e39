"""The kit as a test suite (PackTestSuite), the hyper-parameter, export and wheel checks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pegboard import testing as kit
from pegboard.testing.packs import write_pack
from pegboard.testing.report import _run
from pegboard.testing.suite import PackTestSuite


class TestKitPack(PackTestSuite):
    """The whole suite against the kit's own stand-in pack, as a third-party pack runs it."""

    plugin = "pegboard.testing._plugin:plugin"
    input_shape = (3, 4, 4)
    num_classes = 3


NO_EXPORT = """\
from pegboard.testing.models import LinearClassifier


class NoExport(LinearClassifier):
    export_unsupported = "its forward calls a C extension"


class HeldConfig(LinearClassifier):
    def __init__(self, input_shape, num_classes, optimizer=None, scheduler=None):
        super().__init__(input_shape, num_classes, optimizer, scheduler)
        import torch
        self.save_hyperparameters({"scale": torch.tensor(2.0)})
"""
MODEL = """\
_target_: {target}
input_shape: ${{data.input_shape}}
num_classes: ${{data.num_classes}}
"""


@pytest.fixture
def odd_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A pack with a model that declares itself not exportable and one with a tensor hparam."""
    site = tmp_path / "site"
    site.mkdir()
    configs = {
        "model/no_export.yaml": MODEL.format(target="odd_pack.nets.NoExport"),
        "model/held_config.yaml": MODEL.format(target="odd_pack.nets.HeldConfig"),
    }
    models = {"no_export": "odd_pack.nets:NoExport", "held_config": "odd_pack.nets:HeldConfig"}
    module = write_pack(site, "odd-pack", configs=configs, models=models)
    (site / module / "nets.py").write_text(NO_EXPORT)
    monkeypatch.syspath_prepend(str(site))
    yield f"{module}._plugin:plugin"
    for name in [name for name in sys.modules if name.startswith(module)]:
        del sys.modules[name]


def test_not_exportable_model_is_skipped_with_its_reason(odd_pack: str, tmp_path: Path) -> None:
    with pytest.raises(kit.CheckSkipped, match="NoExport is not exportable: its forward calls"):
        kit.check_export(odd_pack, "no_export", tmp_path)
    result = _run("export", lambda: kit.check_export(odd_pack, "no_export", tmp_path))
    assert (result.status, result.reason) == (
        "skip",
        "NoExport is not exportable: its forward calls a C extension",
    )


def test_hyperparameters_that_are_not_plain_values_fail(odd_pack: str, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=r"hyper-parameter scale is a torch\.Tensor"):
        kit.check_model(odd_pack, "held_config", tmp_path)


@pytest.mark.parametrize(
    ("hparams", "bad"),
    [
        ({"a": 1, "b": [1, 2.0, "x", None, True], "c": {"d": [{"e": 1}]}}, None),
        ({"layers": [1, object()]}, r"layers\[1\] is a builtins\.object"),
        ({"c": {1: 2}}, "c.1 is a non-string key"),
    ],
)
def test_check_hparams(hparams: dict, bad: str | None) -> None:
    if bad is None:
        kit.check_hparams(hparams)
    else:
        with pytest.raises(AssertionError, match=bad):
            kit.check_hparams(hparams)


def test_configs_missing_from_the_installed_wheel_fail(tmp_path: Path, monkeypatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    configs = {"model/a.yaml": "a: 1\n", "model/b.yaml": "b: 1\n"}
    module = write_pack(site, "wheel-pack", configs=configs)
    record = site / f"{module}-1.0.0.dist-info" / "RECORD"
    listed = [f"{module}/__init__.py", f"{module}/conf/__init__.py", f"{module}/conf/model/a.yaml"]
    record.write_text("".join(f"{path},,\n" for path in listed))
    monkeypatch.syspath_prepend(str(site))
    try:
        with pytest.raises(AssertionError, match=r"not in the installed .*: model/b\.yaml"):
            kit.check_configs_shipped(f"{module}.conf")
        record.write_text(record.read_text() + f"{module}/conf/model/b.yaml,,\n")
        assert "all 2 config files" in kit.check_configs_shipped(f"{module}.conf")
    finally:
        for name in [name for name in sys.modules if name.startswith(module)]:
            del sys.modules[name]


def test_report_skips_a_model_whose_optional_dependency_is_missing() -> None:
    def build() -> None:
        try:
            raise ModuleNotFoundError("No module named 'timm'")
        except ImportError as error:
            raise RuntimeError("Error in call to target") from error

    result = _run("model=timm", build, build_step=True)
    assert result.status == "skip" and "timm" in result.reason
    failed = _run("manifest", build)
    assert failed.status == "fail" and failed.reason == "RuntimeError: Error in call to target"


def test_report_skips_a_config_that_needs_a_value_from_the_user() -> None:
    from omegaconf import OmegaConf

    def compose() -> None:
        cfg = OmegaConf.create({"data": {"root": "???"}})
        try:
            OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
        except Exception as error:
            raise AssertionError("data=image_folder does not compose") from error

    result = _run("configs compose", compose)
    assert result.status == "skip" and "data=image_folder does not compose" in result.reason
