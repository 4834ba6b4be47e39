"""A test suite a pack subclasses with one attribute to run the whole conformance kit.

In the pack's ``tests/test_pack.py``::

    from pegboard.testing.suite import PackTestSuite

    class TestAcmePack(PackTestSuite):
        plugin = "acme_pegboard._plugin:plugin"

pytest then runs the manifest check, the compose check, and one test per model option
(train, reload, hyper-parameters; export) and per data option (batches match the
declaration). Like Hydra's ``LauncherTestSuite``, this is a plain class: nothing is
registered with pytest, so environments with pegboard-core installed pay nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pegboard.testing import checks
from pegboard.testing.export_check import CheckSkipped, check_export
from pegboard.testing.hooks_check import check_hooks


class PackTestSuite:
    """Conformance tests of one pack; set ``plugin`` in a ``Test*`` subclass.

    Attributes:
        plugin: The manifest's ``"module:attr"`` path (the entry point's value).
        input_shape: Image shape the model checks build and train the models for.
        num_classes: Number of classes of the model checks.
        model_overrides: Extra Hydra overrides of the model checks.
        data_overrides: Extra Hydra overrides of the datamodule checks.
    """

    plugin: ClassVar[str] = ""
    input_shape: ClassVar[Sequence[int]] = (1, 8, 8)
    num_classes: ClassVar[int] = 10
    model_overrides: ClassVar[Sequence[str]] = ()
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
        checks.check_configs_compose(self.plugin, tmp_path)

    def test_model(self, model_option: str, tmp_path: Path) -> None:
        """The model trains a step, predicts, and reloads from its checkpoint identically."""
        checks.check_model(
            self.plugin,
            model_option,
            tmp_path,
            self.input_shape,
            self.num_classes,
            self.model_overrides,
        )

    def test_export(self, model_option: str, tmp_path: Path) -> None:
        """The model exports to TorchScript (and ONNX when installed) with the same outputs."""
        try:
            check_export(
                self.plugin,
                model_option,
                tmp_path,
                self.input_shape,
                self.num_classes,
                self.model_overrides,
            )
        except CheckSkipped as skipped:
            pytest.skip(skipped.reason)

    def test_datamodule(self, data_option: str, tmp_path: Path) -> None:
        """Batches of every split match the shape and classes the data config declares."""
        checks.check_datamodule(self.plugin, data_option, tmp_path, self.data_overrides)
