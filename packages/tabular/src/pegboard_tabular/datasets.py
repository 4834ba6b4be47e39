"""scikit-learn's bundled tables: iris, wine, breast cancer, diabetes. No download.

Each is read with ``sklearn.datasets.load_*`` (files shipped inside scikit-learn), split
with ``split_seed`` (stratified for the classification sets) and standardized with the
training split's statistics. The feature columns keep scikit-learn's names, so
``pegboard predict input=new.csv`` reads a CSV with those column headers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from pegboard.supervision import CLASSIFICATION, REGRESSION
from pegboard_tabular.base import RawData, TabularDataModule


class SklearnDataModule(TabularDataModule):
    """A dataset bundled with scikit-learn; subclasses name its loader and task.

    Args:
        **kwargs: See ``TabularDataModule`` (``batch_size``, ``val_fraction``...).
    """

    #: The ``sklearn.datasets`` function that loads it.
    loader: ClassVar[str] = ""
    #: Keyword arguments of ``loader``.
    load_options: ClassVar[dict[str, Any]] = {}
    #: ``"classification"`` or ``"regression"``.
    kind: ClassVar[str] = CLASSIFICATION
    #: The target's name (scikit-learn gives none).
    target_name: ClassVar[str] = "target"

    def read(self) -> RawData:
        """The bundled table: float feature columns and the target column."""
        from sklearn import datasets

        bunch = getattr(datasets, self.loader)(**self.load_options)
        data = np.asarray(bunch.data, dtype=np.float64)
        features = {str(name): data[:, i].copy() for i, name in enumerate(bunch.feature_names)}
        source = f"scikit-learn's {self.loader.removeprefix('load_')}"
        if self.kind == REGRESSION:
            target = np.asarray(bunch.target, dtype=np.float64)
            return RawData(features, [target], (self.target_name,), source, task=REGRESSION)
        # scikit-learn's class order (breast cancer: malignant, benign) keeps its indices.
        names = tuple(str(name) for name in bunch.target_names)
        labels = [names[int(index)] for index in bunch.target]
        return RawData(features, [labels], (self.target_name,), source, CLASSIFICATION, names)


class IrisDataModule(SklearnDataModule):
    """Fisher's iris: 150 flowers, 4 measurements (cm), 3 species.

    Args:
        **kwargs: See ``TabularDataModule``.
    """

    loader = "load_iris"
    target_name = "species"


class WineDataModule(SklearnDataModule):
    """UCI wine: 178 wines, 13 chemical measurements, 3 cultivars (``class_0``...).

    Args:
        **kwargs: See ``TabularDataModule``.
    """

    loader = "load_wine"
    target_name = "cultivar"


class BreastCancerDataModule(SklearnDataModule):
    """Wisconsin diagnostic breast cancer: 569 samples, 30 features, malignant or benign.

    Args:
        **kwargs: See ``TabularDataModule``.
    """

    loader = "load_breast_cancer"
    target_name = "diagnosis"


class DiabetesDataModule(SklearnDataModule):
    """Diabetes progression: 442 patients, 10 features in their own units, 1 value.

    The features are read unscaled (``scaled=False``: age in years, sex 1 or 2...) and
    standardized with the training split's statistics like every other table. The
    target, a measure of disease progression one year on (25 to 346), is a regression
    value; its training mean and std go to the model with ``target``.

    Args:
        **kwargs: See ``TabularDataModule``.
    """

    loader = "load_diabetes"
    load_options: ClassVar[dict[str, Any]] = {"scaled": False}
    kind = REGRESSION
    target_name = "progression"


__all__ = [
    "BreastCancerDataModule",
    "DiabetesDataModule",
    "IrisDataModule",
    "SklearnDataModule",
    "WineDataModule",
]
