"""The pack's manifest, read by the pegboard launcher at every start (so: no torch here)."""

from pegboard.plugin import Plugin

plugin = Plugin(
    api=1,
    configs="pegboard_models_vision.conf",
    models={
        "mlp": "pegboard_models_vision.mlp:MLP",
        "cnn": "pegboard_models_vision.cnn:CNN",
    },
)
