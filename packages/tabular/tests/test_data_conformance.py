"""The pack's data configs keep the plugin contract: the core kit, as third parties run it.

The model options are checked in ``test_model_conformance.py``; this suite runs the
manifest, compose and datamodule checks, the last once per data option.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tabular_tables import HOUSE_COLUMNS, PLUGIN, houses_rows, write_csv

from pegboard import testing as kit
from pegboard.testing.suite import PackTestSuite

OPTIONS = ["breast_cancer", "csv", "diabetes", "iris", "wine"]


class TestTabularData(PackTestSuite):
    """Manifest, compose, and per data option: batches of every split match the declaration."""

    plugin = PLUGIN
    # The models are the other half of the pack; their contract is tested on its own.
    test_model = None  # type: ignore[assignment]
    test_export = None  # type: ignore[assignment]

    def data_option_overrides(self, option: str, tmp_path: Path) -> Sequence[str]:
        if option != "csv":
            return []
        path = write_csv(tmp_path / "houses.csv", HOUSE_COLUMNS, houses_rows())
        return [f"data.path={path}", "data.target=label", "data.drop=[id]"]


def test_every_dataset_has_a_config() -> None:
    assert kit.config_options(PLUGIN, "data") == OPTIONS
    assert sorted(kit.load_plugin(PLUGIN).datamodules) == OPTIONS
