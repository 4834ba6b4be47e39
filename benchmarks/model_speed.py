"""Training speed of each vision model: pegboard's Lightning task vs a hand-written loop.

For every model config, both sides train the same network (the config's ``net``; the
hand loop gets a copy) with the config's optimizer on one fixed batch of 32x32 RGB
images, on CPU. Steps per second are timed after warm-up steps, best of ``--repeats``
interleaved runs; the ratio ``hand / pegboard`` is what pegboard's task, logging and
Lightning's loop cost (target: at most 1.10).

    python benchmarks/model_speed.py                       # every model
    python benchmarks/model_speed.py --models cnn resnet20 --steps 20

Needs pegboard-core and pegboard-models-vision installed. Not a test: timings depend on
the machine and what else runs on it.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import OmegaConf

from pegboard.loaders import TensorBatchLoader
from pegboard.testing.compose import KIT_CONFIGS, compose_config

PACK_CONFIGS = "pegboard_models_vision.conf"
DEFAULT_MODELS = [
    "mlp",
    "lenet",
    "cnn",
    "resnet20",
    "resnet56",
    "resnet18",
    "resnet34",
    "resnet50",
    "wide_resnet",
    "mobilenet_v2",
    "vit",
    "vit_tiny",
    "convnext",
]


def model_config(option: str, input_shape: list[int], num_classes: int) -> dict[str, Any]:
    """The resolved config of ``model=option`` for the given data shape."""
    shape = "[" + ",".join(map(str, input_shape)) + "]"
    with (
        tempfile.TemporaryDirectory() as scratch,
        compose_config(
            [
                f"model={option}",
                "data=kit_images",
                f"data.input_shape={shape}",
                f"data.num_classes={num_classes}",
            ],
            [PACK_CONFIGS, KIT_CONFIGS],
            scratch,
        ) as cfg,
    ):
        node = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(node, dict)
    return node


class StepTimer(pl.Callback):
    """Times the training steps after ``warmup``, hooks and logging included."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start = 0.0
        self.end = 0.0
        self.steps = 0

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        self.end = time.perf_counter()
        self.steps = trainer.global_step - self.warmup


def pegboard_speed(
    node: dict[str, Any], x: torch.Tensor, y: torch.Tensor, warmup: int, steps: int
) -> float:
    """Steps per second of the pegboard model under a plain Lightning Trainer."""
    torch.manual_seed(0)
    model = instantiate(node, _convert_="all")
    total = warmup + steps
    loader = TensorBatchLoader(x.repeat(total, 1, 1, 1), y.repeat(total), len(x))
    timer = StepTimer(warmup)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=total,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[timer],
    )
    trainer.fit(model, train_dataloaders=loader)
    return timer.steps / (timer.end - timer.start)


def hand_speed(
    node: dict[str, Any], x: torch.Tensor, y: torch.Tensor, warmup: int, steps: int
) -> float:
    """Steps per second of the same network in the shortest correct PyTorch loop."""
    torch.manual_seed(0)
    net = copy.deepcopy(instantiate(node, _convert_="all").net).train()
    optimizer_node = dict(node["optimizer"])
    optimizer = instantiate(optimizer_node)(net.parameters())
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    shape = [3, args.image_size, args.image_size]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch_size, *shape, generator=generator)
    y = torch.randint(0, 10, (args.batch_size,), generator=generator)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch "
        f"{args.batch_size}x{'x'.join(map(str, shape))}, {args.steps} timed steps, "
        f"best of {args.repeats}"
    )
    print(f"{'model':<14}{'hand steps/s':>14}{'pegboard steps/s':>18}{'ratio':>8}")
    for option in args.models:
        node = model_config(option, shape, 10)
        hand, ours = 0.0, 0.0
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits both
            hand = max(hand, hand_speed(node, x, y, args.warmup, args.steps))
            ours = max(ours, pegboard_speed(node, x, y, args.warmup, args.steps))
        print(f"{option:<14}{hand:>14.2f}{ours:>18.2f}{hand / ours:>8.3f}", flush=True)


if __name__ == "__main__":
    import logging
    import warnings

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    main()
