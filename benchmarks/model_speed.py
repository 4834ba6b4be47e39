"""Training speed of each vision model: pegboard's Lightning task vs a hand-written loop.

For every model config, both sides train the same network (the config's ``net``; the
hand loop gets a copy) with the config's optimizer on one fixed batch of 32x32 RGB
images, on CPU. Each trial times steps after warm-up until ``--seconds`` have passed;
trials of the two sides alternate and each side keeps its best. The ratio
``hand / pegboard`` is what pegboard's task, its metrics and Lightning's loop cost
(target: at most 1.10).

The default batch of 256 is what the pack's 32x32 datasets train with (CIFAR-10/100,
SVHN). Lightning's loop costs a fixed ~0.6 ms per step on a 2-core CPU, so networks
whose step takes only a few milliseconds (``--batch-size 32`` for mlp and lenet) show
that as a larger ratio.

    python benchmarks/model_speed.py                       # every model
    python benchmarks/model_speed.py --models cnn lenet --batch-size 32

Needs pegboard-core and pegboard-models-vision installed. Not a test: timings depend on
the machine and what else runs on it (large temporaries make glibc page-fault at
random, so small models need several trials).
"""

from __future__ import annotations

import argparse
import copy
import itertools
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from pegboard.testing import model_configs

PLUGIN = "pegboard_models_vision._plugin:plugin"
# More steps than any trial takes: trials end on their time budget.
MAX_STEPS = 1_000_000
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
    with tempfile.TemporaryDirectory() as scratch:
        node, _ = model_configs(PLUGIN, option, Path(scratch), input_shape, num_classes)
    assert isinstance(node, dict)
    return node


class FixedBatch:
    """Serves one batch ``steps`` times: the very batch the hand loop reuses, so both
    sides time the same work (the data pipeline has its own benchmark)."""

    def __init__(self, batch: tuple[torch.Tensor, torch.Tensor], steps: int) -> None:
        self.batch, self.steps = batch, steps

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return itertools.repeat(self.batch, self.steps)


class Budget:
    """Counts timed steps after ``warmup`` and says when ``seconds`` have passed."""

    def __init__(self, warmup: int, seconds: float) -> None:
        self.warmup, self.seconds = warmup, seconds
        self.start, self.end, self.steps = time.perf_counter(), 0.0, 0

    def step_done(self, step: int) -> bool:
        """Record that ``step`` (0-based) finished; True once the budget is spent."""
        now = time.perf_counter()
        if step + 1 == self.warmup:
            self.start = now
        elif step + 1 > self.warmup:
            self.end, self.steps = now, step + 1 - self.warmup
        return self.steps > 0 and self.end - self.start >= self.seconds

    @property
    def speed(self) -> float:
        return self.steps / (self.end - self.start)


class StopOnBudget(pl.Callback):
    """Ends ``fit`` once the budget is spent; hooks and metrics are inside the timing."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def on_train_batch_end(self, trainer: pl.Trainer, *args: Any) -> None:
        if self.budget.step_done(trainer.global_step - 1):
            trainer.should_stop = True


def pegboard_speed(
    node: dict[str, Any], x: torch.Tensor, y: torch.Tensor, warmup: int, seconds: float
) -> float:
    """Steps per second of the pegboard model under a plain Lightning Trainer."""
    torch.manual_seed(0)
    model = instantiate(node, _convert_="all")
    budget = Budget(warmup, seconds)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        callbacks=[StopOnBudget(budget)],
    )
    trainer.fit(model, train_dataloaders=FixedBatch((x, y), MAX_STEPS))
    return budget.speed


def hand_speed(
    node: dict[str, Any], x: torch.Tensor, y: torch.Tensor, warmup: int, seconds: float
) -> float:
    """Steps per second of the same network in the shortest correct PyTorch loop."""
    torch.manual_seed(0)
    net = copy.deepcopy(instantiate(node, _convert_="all").net).train()
    optimizer = instantiate(dict(node["optimizer"]))(net.parameters())
    budget = Budget(warmup, seconds)
    for step in range(MAX_STEPS):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        if budget.step_done(step):
            break
    return budget.speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per trial")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="trials per side")
    args = parser.parse_args()

    shape = [3, args.image_size, args.image_size]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch_size, *shape, generator=generator)
    y = torch.randint(0, 10, (args.batch_size,), generator=generator)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch "
        f"{args.batch_size}x{'x'.join(map(str, shape))}, best of {args.repeats} trials "
        f"of {args.seconds:g} s"
    )
    print(f"{'model':<14}{'hand steps/s':>14}{'pegboard steps/s':>18}{'ratio':>8}")
    for option in args.models:
        node = model_config(option, shape, 10)
        hand, ours = 0.0, 0.0
        for _ in range(args.repeats):  # interleaved, so drift in machine load hits both
            hand = max(hand, hand_speed(node, x, y, args.warmup, args.seconds))
            ours = max(ours, pegboard_speed(node, x, y, args.warmup, args.seconds))
        print(f"{option:<14}{hand:>14.3g}{ours:>18.3g}{hand / ours:>8.3f}", flush=True)


if __name__ == "__main__":
    import logging
    import warnings

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    main()
