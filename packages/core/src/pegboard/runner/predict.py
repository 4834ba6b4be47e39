"""``pegboard predict``: one row per input (class, class name and probabilities, or values).

``input=PATH`` predicts on a user's files: a table the checkpoint's datamodule reads
(``predict_inputs``: a CSV, with the training preprocessing), else a folder of images.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from pegboard.errors import ConfigError
from pegboard.loaders import TensorBatchLoader
from pegboard.runner.build import build, check_nodes, write_run_files
from pegboard.runner.data_state import data_class, normalization, saved_data_state
from pegboard.runner.fit_check import check_fits
from pegboard.runner.images import image_files, load_images
from pegboard.runner.lifecycle import Outcome
from pegboard.runner.pack_formats import Offered, check_format, offered_formats, write_with_pack
from pegboard.runner.predictions import class_names_from, prediction_rows, run_predict
from pegboard.runner.signals import lightning_stage
from pegboard.runner.stage import Restored, build_trainer, open_checkpoint, run_stage
from pegboard.runner.tracking import log_run_files
from pegboard.runtime import pack_versions
from pegboard.supervision import target_of

log = logging.getLogger(__name__)

FORMATS = ("csv", "json")
#: The hook through which packs add formats (a pack's format ``NAME`` writes
#: ``predictions.NAME`` from the same rows).
PREDICT_HOOK = "pegboard_predict_formats"


def predict(cfg: DictConfig) -> Path:
    """Predict with the checkpoint ``cfg.ckpt_path`` and write the predictions file.

    Args:
        cfg: A composed ``predict`` config: ``ckpt_path``; ``input`` (a folder of
            images) or ``data`` (the checkpoint's data by default, its predict split);
            ``output_format`` (``csv`` or ``json``); ``batch_size`` for ``input``.

    Returns:
        The predictions file in the run directory.
    """
    fmt = str(cfg.get("output_format", "csv"))
    offered = offered_formats(PREDICT_HOOK, FORMATS)
    check_format("output_format", fmt, FORMATS, offered, PREDICT_HOOK)
    return run_stage(cfg, "predict", functools.partial(_predict, offered=offered))


def _class_names(restored: Restored, datamodule: Any) -> Callable[[int], list[str]]:
    return class_names_from(
        [
            lambda: datamodule.class_names,
            lambda: restored.data_state["class_names"],
        ]
    )


def _value_names(datamodule: Any) -> list[str] | None:
    try:
        target = target_of(datamodule)
    except ConfigError:
        return None
    return list(target.names) if target is not None and target.names else None


def _reading_datamodule(restored: Restored) -> Any:
    """The checkpoint's datamodule, with its saved state, when it reads predict inputs.

    A datamodule class that overrides ``predict_inputs`` (a table's) reads the user's
    file itself, with the preprocessing fitted in training; any other: ``input`` is
    read as images. Its saved state is loaded without ``setup``: the training files
    need not exist where predictions are made.
    """
    from pegboard.datamodule import DataModule

    node = restored.config["data"]
    cls = data_class(str(node.get("_target_", "")))
    if cls is None or getattr(cls, "predict_inputs", None) in (None, DataModule.predict_inputs):
        return None
    check_nodes([("data", node)])
    datamodule = build(node, "data")
    state = saved_data_state(restored.checkpoint, cls)
    if state:
        datamodule.load_state_dict(state)
    return datamodule


def _predict(cfg: DictConfig, run_dir: Path, offered: Offered) -> Outcome[Path]:
    restored = open_checkpoint(cfg, "predict")
    write_run_files(run_dir, restored.config, pack_versions())
    pl.seed_everything(int(restored.config.get("seed") or 0), workers=True, verbose=False)
    trainer = build_trainer(restored, "predict")
    inputs: Sequence[Any] | None = None
    datamodule: Any = None
    if cfg.get("input"):
        source = Path(str(cfg.input))
        datamodule = _reading_datamodule(restored)
        if datamodule is not None:
            given = datamodule.predict_inputs(source)
            tensor, inputs = given.inputs, given.rows or None
        else:
            files = image_files(source)
            stats = normalization(restored.checkpoint, restored.data_state) or {}
            tensor = load_images(files, restored.input_shape, stats.get("mean"), stats.get("std"))
            inputs = [str(path) for path in files]
        loader = TensorBatchLoader(
            tensor, torch.zeros(len(tensor), dtype=torch.long), int(cfg.get("batch_size", 64))
        )
        with lightning_stage():
            batches = run_predict(trainer, restored.model, dataloaders=loader)
    else:
        check_nodes([("data", restored.config["data"])])
        datamodule = build(restored.config["data"], "data")
        check_fits(restored.model, restored.config["data"], datamodule)
        # The Trainer's RestoreDataState gives the datamodule its saved normalization.
        with lightning_stage():
            batches = run_predict(trainer, restored.model, datamodule=datamodule)
    name = type(restored.model).__name__
    rows = prediction_rows(
        batches, _class_names(restored, datamodule), inputs, name, _value_names(datamodule)
    )
    fmt = str(cfg.get("output_format", "csv"))
    path = run_dir / f"predictions.{fmt}"
    if fmt in offered:
        path = write_with_pack("output_format", fmt, offered, rows, path)
    else:
        write_predictions(rows, path)
    log_run_files(trainer.loggers, run_dir, None)  # logger=mlflow: config and predictions
    return Outcome(
        path, {"predictions": float(len(rows))}, (f"Predictions: {path} ({len(rows)} rows)",)
    )


def write_predictions(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Write prediction rows (``pegboard.runner.predictions.prediction_rows``) to a file.

    A ``.json`` file holds ``{"class_names": [...], "predictions": rows}``; any other
    suffix is written as CSV, one column per key of the first row.

    Args:
        rows: One dict per input, every one with the same keys.
        path: The file to write.

    Returns:
        The path written.
    """
    if path.suffix == ".json":
        names = [key.removeprefix("prob_") for key in rows[0] if key.startswith("prob_")]
        path.write_text(json.dumps({"class_names": names, "predictions": list(rows)}, indent=1))
    else:
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path


__all__ = ["FORMATS", "PREDICT_HOOK", "predict", "write_predictions"]
