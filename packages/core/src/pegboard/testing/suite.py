"""A test suite a pack subclasses with one attribute to run the whole conformance kit.

In the pack's ``tests/test_pack.py``::

    from pegboard.testing.suite import PackTestSuite

    class TestAcmePack(PackTestSuite):
        plugin = "acme_pegboard._plugin:plugin"

pytest then runs the manifest check, the compose check, and one test per model option
(the model contract: train, predict, reload, hyper-parameters; export) and per data
option (batches match the declaration). Like Hydra's ``LauncherTestSuite``, this is a
plain class: nothing is registered with pytest, so environments with pegboard-core
installed pay nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pegboard.testing import checks
from pegboard.testing.export_check import CheckSkipped, check_export
from pegboard.testing.hooks_check import check_hooks


class PackTestSuite:
    """Conformance tests of one pack; set ``plugin`` in a ``Test*`` subclass.

    A model config may declare the inputs it is tested on under the reserved key
    ``_kit_`` (``_kit_: {input_shape: [1, 28, 28], num_classes: 10}``), which wins over
    ``input_shape`` and ``num_classes`` here; ``pegboard plugins check`` reads it too.

    Attributes:
        plugin: The manifest's ``"module:attr"`` path (the entry point's value).
        input_shape: Input shape of the model checks, for configs that declare none.
        num_classes: Number of classes of the model checks, for configs that declare none.
        model_overrides: Extra Hydra overrides of the model checks.
        option_overrides: More overrides for one model option (``{"big_net":
            ["model.width=8"]}``: a slimmer variant trains and exports faster).
        compose_overrides: Extra Hydra overrides of the compose check (values that an
            option leaves for the user, such as ``data.num_classes=3``).
        data_overrides: Extra Hydra overrides of the datamodule checks; see also
            ``data_option_overrides``.
    """

    plugin: ClassVar[str] = ""
    input_shape: ClassVar[Sequence[int]] = (1, 8, 8)
    num_classes: ClassVar[int] = 10
    model_overrides: ClassVar[Sequence[str]] = ()
    option_overrides: ClassVar[Mapping[str, Sequence[str]]] = {}
    compose_overrides: ClassVar[Sequence[str]] = ()
    data_overrides: ClassVar[Sequence[str]] = ()

    def pytest_generate_tests(self, metafunc: Any) -> None:
        """Parametrize the option tests with the options the pack ships (pytest hook).

        Args:
            metafunc: pytest's ``Metafunc`` of the test being collected.
        """
        if not self.plugin:
            raise TypeError(f"{type(self).__name__} must set plugin = 'module:attr'")
        for fixture, group in (("model_option", "model"), ("data_option", "data")):
            if fixture in metafunc.fixturenames:
                metafunc.parametrize(fixture, checks.config_options(self.plugin, group))

    def test_manifest(self) -> None:
        """The manifest loads, declares a supported API and names the right base classes."""
        checks.check_manifest(self.plugin)

    def test_hooks(self) -> None:
        """The hook module (API 2) fits the hook specs; nothing to check without one."""
        check_hooks(self.plugin)

    def test_configs_compose(self, tmp_path: Path) -> None:
        """Every option of every group composes with pegboard's base configs."""
        checks.check_configs_compose(self.plugin, tmp_path, self.compose_overrides)

    def _model_args(self, option: str, tmp_path: Path) -> tuple[Any, ...]:
        overrides = [*self.model_overrides, *self.option_overrides.get(option, ())]
        return (self.plugin, option, tmp_path, self.input_shape, self.num_classes, overrides)

    def test_model(self, model_option: str, tmp_path: Path) -> None:
        """The model trains a step, predicts, and reloads from its checkpoint identically."""
        _skipping(checks.check_model, *self._model_args(model_option, tmp_path))

    def test_export(self, model_option: str, tmp_path: Path) -> None:
        """The model exports as ``pegboard export`` does (TorchScript, ONNX, safetensors)."""
        _skipping(check_export, *self._model_args(model_option, tmp_path))

    def data_option_overrides(self, option: str, tmp_path: Path) -> Sequence[str]:
        """Overrides of the datamodule check of ``data=<option>``; ``data_overrides`` here.

        A pack overrides this to prepare what one option needs, such as small files in
        the dataset's real format under ``tmp_path``, and to point the option at them.

        Args:
            option: The data option.
            tmp_path: The test's scratch folder.
        """
        return list(self.data_overrides)

    def test_datamodule(self, data_option: str, tmp_path: Path) -> None:
        """Batches of every split match the shape and classes the data config declares."""
        overrides = self.data_option_overrides(data_option, tmp_path)
        _skipping(checks.check_datamodule, self.plugin, data_option, tmp_path, overrides)


def _skipping(check: Any, *args: Any) -> Any:
    """Run ``check``; what ``pegboard plugins check`` reports as a skip is a pytest skip."""
    from pegboard.errors import DataNotFound

    try:
        return check(*args)
    except CheckSkipped as skipped:  # not exportable, an optional extra not installed
        pytest.skip(skipped.reason)
    except DataNotFound as absent:  # a dataset's files are not here, nor downloadable
        pytest.skip(f"its files are not on this machine: {absent}")


__all__ = ["PackTestSuite"]
