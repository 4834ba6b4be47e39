"""``TabularDataModule``: a table's rows, split, preprocessed once, served as tensor batches.

A subclass implements ``read``: the feature columns and target columns of every row.
The base does the rest, the same for every table:

1. drop the rows whose target is missing (logged with a count);
2. fix the task and classes from every row (``targets``), plan the seeded split,
   stratified by class (``splits``);
3. fit the feature transform and the target statistics on the training split only
   (``preprocess``), and transform every split;
4. serve each split from memory as ``TensorBatchLoader`` batches, and a user's file to
   ``pegboard predict`` (``predict_inputs``) with the same transform.

All of it runs on first need, cached: the runner asks ``input_shape`` and ``target`` before
``setup`` (to fill the data config keys left ``null``), and ``setup`` reuses it. The fitted
transform and target encoding are the datamodule's ``state_dict``, saved in every
checkpoint; loaded, they win over anything fitted here, so ``eval`` and ``predict`` see
the data as the model was trained on it, even where the training file is gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pegboard.datamodule import DataModule, PredictInputs
from pegboard.errors import ConfigError
from pegboard.loaders import TensorBatchLoader
from pegboard.supervision import (
    CLASSIFICATION,
    DESCRIBED_KEYS,
    TargetSpec,
    check_task,
    config_task,
)
from pegboard_tabular.preprocess import FeatureTransform
from pegboard_tabular.raw import RawData, drop_unlabelled
from pegboard_tabular.splits import plan_split
from pegboard_tabular.table_io import read_table
from pegboard_tabular.targets import TargetEncoding

#: ``format`` of the state this version saves.
STATE_FORMAT = "pegboard_tabular/1"


class TabularDataModule(DataModule):
    """Base of the pack's table datamodules; subclasses implement ``read``.

    The description keys (``input_shape``, ``task``, ``num_classes``, ``num_outputs``)
    are the config's declaration: ``null`` takes them from the data; given, they are
    checked against it in ``setup``. A declared task is used when the data does not fix
    one (a CSV's, whose task is otherwise inferred).

    Args:
        batch_size: Samples per batch, for every split.
        val_fraction: Fraction of the rows held out for validation.
        test_fraction: Fraction of the rows held out for testing (and ``predict``).
        split_seed: Seeds the split (independent of the training seed).
        seed: Seeds batch shuffling.
        input_shape: The input shape the config declares, or ``None``.
        task: ``"classification"``, ``"regression"``, or ``None`` for the data's.
        num_classes: The class count the config declares, or ``None``.
        num_outputs: The values per sample the config declares, or ``None``.
    """

    def __init__(
        self,
        batch_size: int = 64,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        split_seed: int = 0,
        seed: int = 0,
        input_shape: Sequence[int] | None = None,
        task: str | None = None,
        num_classes: int | None = None,
        num_outputs: int | None = None,
    ) -> None:
        super().__init__()
        # The description keys are left out: a config may leave them null for the runner
        # to fill in, and Lightning refuses to log a datamodule hparam whose value differs
        # from the model's (which gets the filled-in one).
        self.save_hyperparameters(ignore=list(DESCRIBED_KEYS))
        if batch_size < 1:
            raise ConfigError(f"data.batch_size={batch_size}: must be at least 1")
        for key, fraction in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
            if not 0.0 <= fraction < 1.0:
                raise ConfigError(f"data.{key}={fraction}: must be in [0, 1)")
        if val_fraction + test_fraction >= 1.0:
            raise ConfigError(
                f"data.val_fraction={val_fraction} and data.test_fraction={test_fraction} "
                "leave no rows for training: their sum must be below 1"
            )
        if task is not None:
            try:
                check_task(task, "data.task")
            except ValueError as error:
                raise ConfigError(str(error)) from None
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.split_seed = split_seed
        self.seed = seed
        self.declared = (input_shape, num_classes, num_outputs)
        described = {"task": task, "num_classes": num_classes, "num_outputs": num_outputs}
        #: The task the config asks for (``task``, else implied by its class or value count).
        self.declared_task = config_task(described)
        self._raw: RawData | None = None
        self._fitted: tuple[FeatureTransform, TargetEncoding] | None = None
        self._splits: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None
        #: Row indices of each split, into the rows kept (those with a target), once read.
        self.split_rows: dict[str, np.ndarray] = {}

    # -- what a subclass provides ---------------------------------------------------------

    def read(self) -> RawData:
        """Read every row of the table. Subclasses implement it.

        Contract: raise ``ConfigError`` (one line) for anything wrong with the data or
        its config; called at most once per datamodule.
        """
        raise NotImplementedError

    # -- the data, fitted on first need ---------------------------------------------------

    def _data(self) -> RawData:
        """The subclass's rows without those whose target is missing (read once)."""
        if self._raw is None:
            self._raw = drop_unlabelled(self.read())
        return self._raw

    def _plan(self, targets: np.ndarray, encoding: TargetEncoding) -> dict[str, np.ndarray]:
        stratify = targets if encoding.task == CLASSIFICATION else None
        return plan_split(
            len(targets),
            self.val_fraction,
            self.test_fraction,
            self.split_seed,
            stratify,
            self._data().source,
        )

    def _prepare(self) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Every split as ``(inputs, targets)`` tensors; fits first unless a state was loaded."""
        if self._splits is not None:
            return self._splits
        raw = self._data()
        if self._fitted is None:
            if raw.task and self.declared_task and raw.task != self.declared_task:
                raise ConfigError(
                    f"data.task={self.declared_task} but {type(self).__name__} is a "
                    f"{raw.task} dataset; set data.task={raw.task}"
                )
            task = raw.task or self.declared_task
            encoding = TargetEncoding.fit(
                raw.targets, raw.target_names, task, raw.source, raw.classes
            )
            targets = encoding.encode(raw.targets, raw.source)
            plan = self._plan(targets, encoding)
            transform, inputs = FeatureTransform.fit_transform(
                raw.features, plan["train"], raw.categorical, raw.max_categories, raw.source
            )
            self._fitted = (transform, encoding.with_stats(targets[plan["train"]]))
        else:  # a checkpoint's state: its transform and classes win
            transform, encoding = self._fitted
            targets = encoding.encode(raw.targets, raw.source)
            plan = self._plan(targets, encoding)
            inputs = transform.transform(raw.features, raw.source)
        self.split_rows = plan
        self._splits = {
            name: (torch.from_numpy(inputs[rows]), torch.from_numpy(targets[rows]))
            for name, rows in plan.items()
        }
        return self._splits

    def _fit(self) -> tuple[FeatureTransform, TargetEncoding]:
        if self._fitted is None:
            self._prepare()
        assert self._fitted is not None
        return self._fitted

    # -- the description ------------------------------------------------------------------

    @property
    def input_shape(self) -> tuple[int, ...]:
        """``(features,)``: one column per number, one per category of each categorical."""
        return (self._fit()[0].width,)

    @property
    def target(self) -> TargetSpec:
        """``Classes`` with their names, or ``Values`` with the training mean and std."""
        return self._fit()[1].spec

    @property
    def feature_names(self) -> list[str]:
        """Name of every input column (``age``, ``color=red``), in order."""
        return self._fit()[0].feature_names

    # -- Lightning hooks ------------------------------------------------------------------

    def setup(self, stage: str | None = None) -> None:
        """Read, split and fit (once), then check the config's declaration.

        Args:
            stage: Lightning's stage; every stage needs the same data, prepared once.
        """
        self._prepare()
        self.check_declared(*self.declared)

    def dataloader(self, split: str, shuffle: bool) -> TensorBatchLoader:
        """Serve one split as ``(inputs, targets)`` batches straight from memory.

        Args:
            split: ``"train"``, ``"val"`` or ``"test"``.
            shuffle: Draw a new order every epoch (training only).
        """
        inputs, targets = self._prepare()[split]
        rank, world_size = self._rank()
        return TensorBatchLoader(
            inputs,
            targets,
            self.batch_size,
            shuffle=shuffle,
            seed=self.seed,
            rank=rank,
            world_size=world_size,
            # Evaluation sees each sample once: summed over the processes, its metrics
            # are those of one process over the whole split.
            pad=split == "train",
        )

    def train_dataloader(self) -> TensorBatchLoader:
        return self.dataloader("train", shuffle=True)

    def val_dataloader(self) -> TensorBatchLoader:
        return self.dataloader("val", shuffle=False)

    def test_dataloader(self) -> TensorBatchLoader:
        return self.dataloader("test", shuffle=False)

    def predict_dataloader(self) -> TensorBatchLoader:
        return self.dataloader("test", shuffle=False)

    def state_dict(self) -> dict[str, Any]:
        """The fitted transform and target encoding, as plain Python (empty before fitting).

        Keys: ``format``; ``task``, ``target_names``; ``class_names`` and
        ``numeric_classes`` (classification) or ``target_mean`` and ``target_std``
        (regression); ``features``: ``{"columns": [...]}`` (``FeatureTransform.to_dict``).
        """
        if self._fitted is None:
            return {}
        transform, encoding = self._fitted
        return {"format": STATE_FORMAT, **encoding.to_dict(), "features": transform.to_dict()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Use the checkpoint's transform and classes from now on, over any fitted here.

        Args:
            state_dict: What ``state_dict`` saved.
        """
        if not state_dict:
            return
        if not isinstance(state_dict.get("features"), Mapping):
            raise ConfigError("the saved tabular data state is malformed: it has no 'features'")
        fitted = (
            FeatureTransform.from_dict(state_dict["features"]),
            TargetEncoding.from_dict(state_dict),
        )
        self._fitted = fitted
        self._splits = None  # transformed again, with the saved fit, when next served

    def predict_inputs(self, path: Path) -> PredictInputs:
        """Read a CSV or Parquet file with the training feature columns, for ``predict``.

        The target column may be there or not; other columns are ignored. The rows
        returned are the file's own, cell values as read.

        Args:
            path: The file.
        """
        transform, _ = self._fit()
        table = read_table(path)
        inputs = transform.transform(table.columns, table.name)
        return PredictInputs(torch.from_numpy(inputs), table.rows())

    def _rank(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer else (0, 1)


# RawData is imported from here by subclasses: it is what their ``read`` returns.
__all__ = ["STATE_FORMAT", "RawData", "TabularDataModule"]
