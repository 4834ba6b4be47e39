"""The pack's manifest, read by the pegboard launcher at every start (so: no torch here)."""

from pegboard.plugin import Plugin

plugin = Plugin(
    api=1,
    configs="pegboard_data_vision.conf",
    datamodules={"digits": "pegboard_data_vision.digits:DigitsDataModule"},
)
