"""The conformance kit: checks that a pack keeps the pegboard plugin contract.

A pack's own tests call these functions, one test per manifest and per config option::

    import pytest
    from pegboard import testing as kit

    PLUGIN = "acme_pegboard._plugin:plugin"

    def test_manifest():
        kit.check_manifest(PLUGIN)

    @pytest.mark.parametrize("option", kit.config_options(PLUGIN, "model"))
    def test_model(option, tmp_path):
        kit.check_model(PLUGIN, option, tmp_path)

Each check raises ``AssertionError`` with a message that says what broke.

Or subclass the whole suite with one attribute (see ``pegboard.testing.suite``)::

    from pegboard.testing.suite import PackTestSuite

    class TestAcmePack(PackTestSuite):
        plugin = "acme_pegboard._plugin:plugin"

``python -m pegboard.testing.report MODULE:ATTR`` runs every check and prints the results.
"""

from pegboard.testing.checks import (
    check_configs_compose,
    check_datamodule,
    check_manifest,
    check_model,
    config_options,
    load_plugin,
    model_configs,
)
from pegboard.testing.export_check import CheckSkipped, check_export, check_hparams
from pegboard.testing.hooks_check import check_hooks
from pegboard.testing.shipping import check_configs_shipped
from pegboard.testing.trainer import quiet_trainer

__all__ = [
    "CheckSkipped",
    "check_configs_compose",
    "check_configs_shipped",
    "check_datamodule",
    "check_export",
    "check_hooks",
    "check_hparams",
    "check_manifest",
    "check_model",
    "config_options",
    "load_plugin",
    "model_configs",
    "quiet_trainer",
]
