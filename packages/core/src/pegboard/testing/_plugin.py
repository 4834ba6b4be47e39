"""The kit's own manifest: its stand-in model and data, checked like any pack's.

It is not registered as an entry point; core's tests use it to check the kit itself.
"""

from pegboard.plugin import Plugin

plugin = Plugin(
    api=1,
    configs="pegboard.testing.conf",
    models={
        "kit_linear": "pegboard.testing.models:LinearClassifier",
        "kit_regressor": "pegboard.testing.models:LinearRegressor",
    },
    datamodules={
        "kit_images": "pegboard.testing.datamodule:RandomImageDataModule",
        "kit_values": "pegboard.testing.datamodule:RandomValuesDataModule",
    },
)


__all__ = ["plugin"]
