"""``pegboard predict``: class, class name and probabilities for every input, in a file."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from omegaconf import DictConfig

from pegboard.errors import ConfigError
from pegboard.runner.build import build, check_nodes, echo, write_run_files
from pegboard.runner.checkpoint import data_state, normalization
from pegboard.runner.fit_check import check_fits
from pegboard.runner.signals import lightning_stage
from pegboard.runner.stage import Restored, build_trainer, open_checkpoint, run_stage
from pegboard.runtime import pack_versions

log = logging.getLogger(__name__)

FORMATS = ("csv", "json")


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
    if fmt not in FORMATS:
        raise ConfigError(f"output_format={fmt!r} is not one of: {', '.join(FORMATS)}")
    return run_stage(cfg, "predict", _predict)


def _class_names(restored: Restored, datamodule: Any, count: int) -> list[str]:
    for source in (
        lambda: datamodule.class_names,
        lambda: data_state(restored.checkpoint)["class_names"],
    ):
        try:
            names = [str(name) for name in source()]
        except (AttributeError, KeyError, RuntimeError, NotImplementedError, TypeError):
            continue
        if len(names) == count:
            return names
    return [str(index) for index in range(count)]


def _predict(cfg: DictConfig, run_dir: Path) -> tuple[Path, dict[str, Any]]:
    restored = open_checkpoint(cfg, "predict")
    write_run_files(run_dir, restored.config, pack_versions())
    pl.seed_everything(int(restored.config.get("seed") or 0), workers=True, verbose=False)
    trainer = build_trainer(restored)
    paths: list[str] | None = None
    datamodule: Any = None
    if cfg.get("input"):
        from pegboard.loaders import TensorBatchLoader
        from pegboard.runner.images import image_files, load_images

        files = image_files(Path(str(cfg.input)))
        stats = normalization(restored.checkpoint) or {}
        inputs = load_images(files, restored.input_shape, stats.get("mean"), stats.get("std"))
        loader = TensorBatchLoader(
            inputs, torch.zeros(len(inputs), dtype=torch.long), int(cfg.get("batch_size", 64))
        )
        paths = [str(path) for path in files]
        with lightning_stage():
            batches = trainer.predict(restored.model, dataloaders=loader)
    else:
        check_nodes([("data", restored.config["data"])])
        datamodule = build(restored.config["data"], "data")
        check_fits(restored.model, restored.config["data"], datamodule)
        # ckpt_path restores the datamodule's normalization statistics as well.
        with lightning_stage():
            batches = trainer.predict(
                restored.model,
                datamodule=datamodule,
                ckpt_path=str(restored.path),
                weights_only=True,
            )
    outputs = [batch for batch in batches or [] if isinstance(batch, dict)]
    if not outputs:
        raise ConfigError(f"{type(restored.model).__name__}.predict_step returned no predictions")
    probabilities = torch.cat([batch["probabilities"] for batch in outputs]).float().cpu()
    predictions = torch.cat([batch["prediction"] for batch in outputs]).cpu()
    names = _class_names(restored, datamodule, probabilities.shape[1])
    path = run_dir / f"predictions.{cfg.get('output_format', 'csv')}"
    write_predictions(path, predictions.tolist(), probabilities.tolist(), names, paths)
    echo(f"Predictions: {path} ({len(predictions)} rows)")
    return path, {"predictions": float(len(predictions))}


def write_predictions(
    path: Path,
    predictions: Sequence[int],
    probabilities: Sequence[Sequence[float]],
    class_names: Sequence[str],
    inputs: Sequence[str] | None = None,
) -> Path:
    """Write one row per input: index, (input file), prediction, class name, probabilities.

    Args:
        path: ``.csv`` or ``.json`` file.
        predictions: Predicted class per input.
        probabilities: Class probabilities per input.
        class_names: Name of each class.
        inputs: The input file of each row, when predicting on files.
    """
    rows = []
    for index, (predicted, probs) in enumerate(zip(predictions, probabilities, strict=True)):
        row: dict[str, Any] = {"index": index}
        if inputs is not None:
            row["input"] = inputs[index]
        row["prediction"] = int(predicted)
        row["class_name"] = class_names[int(predicted)]
        row.update(
            {f"prob_{name}": round(float(p), 6) for name, p in zip(class_names, probs, strict=True)}
        )
        rows.append(row)
    if path.suffix == ".json":
        path.write_text(
            json.dumps({"class_names": list(class_names), "predictions": rows}, indent=1)
        )
    else:
        with path.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path
