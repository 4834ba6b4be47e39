"""The pack's manifest: one plain LightningModule, two configs. Imports no torch."""

from pegboard.plugin import Plugin

plugin = Plugin(
    api=1,
    configs="pegboard_lit_port.conf",
    models={"lit_port": "pegboard_lit_port.lit_module:LitClassifier"},
)
