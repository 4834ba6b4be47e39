"""The pack's manifest, read by the pegboard launcher at every start (so: no torch here)."""

from pegboard.plugin import Plugin

plugin = Plugin(
    api=1,
    configs="pegboard_tabular.conf",
    models={
        "tabular_mlp": "pegboard_tabular.mlp:TabularMLP",
        "tabular_resmlp": "pegboard_tabular.resmlp:TabularResMLP",
        "ft_transformer": "pegboard_tabular.ft_transformer:FTTransformer",
    },
    datamodules={
        "iris": "pegboard_tabular.datasets:IrisDataModule",
        "wine": "pegboard_tabular.datasets:WineDataModule",
        "breast_cancer": "pegboard_tabular.datasets:BreastCancerDataModule",
        "diabetes": "pegboard_tabular.datasets:DiabetesDataModule",
        "csv": "pegboard_tabular.csv_data:CsvDataModule",
    },
)


__all__ = ["plugin"]
