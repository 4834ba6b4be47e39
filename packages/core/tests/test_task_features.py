"""The generic training features of ClassificationModel: EMA, channels-last, compile, bf16."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard.tasks.ema import WeightEMA
from pegboard.testing import quiet_trainer
from pegboard.testing.datamodule import RandomImageDataModule


class TinyConvNet(ClassificationModel):
    """A conv + BatchNorm net: enough to exercise memory formats and buffers."""

    def __init__(
        self,
        num_classes: int = 4,
        ema_decay: float | None = None,
        channels_last: bool = False,
        compile: bool = False,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(
            num_classes,
            label_smoothing,
            ema_decay=ema_decay,
            channels_last=channels_last,
            compile=compile,
        )
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Conv2d(2, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, num_classes),
        )


def _data() -> RandomImageDataModule:
    # Two channels: with one, NCHW and NHWC layouts coincide and tell nothing apart.
    return RandomImageDataModule((2, 8, 8), 4, num_samples=32, batch_size=16, seed=0)


def _trainer(tmp_path: Path, **kwargs: Any) -> pl.Trainer:
    options: dict[str, Any] = {"max_steps": 4, "limit_val_batches": 1}
    options.update(kwargs)
    return quiet_trainer(tmp_path, **options)


def test_ema_follows_the_weights_and_answers_in_eval(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = TinyConvNet(ema_decay=0.9)
    trainer = _trainer(tmp_path)
    trainer.fit(model, datamodule=_data())
    assert model.ema is not None and int(model.ema.num_updates) == 4
    live = dict(model.net.named_parameters())
    averaged = dict(model.ema.module.named_parameters())
    assert any(not torch.equal(live[n], averaged[n]) for n in live), "EMA equals live weights"
    assert not any(p.requires_grad for p in averaged.values())
    inputs = torch.randn(5, 2, 8, 8)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs), model.ema.module(inputs))
        assert not torch.equal(model(inputs), model.net(inputs))
    assert model.inference_network() is model.ema.module


def test_ema_is_saved_and_restored(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = TinyConvNet(ema_decay=0.9)
    trainer = _trainer(tmp_path)
    trainer.fit(model, datamodule=_data())
    path = tmp_path / "ema.ckpt"
    trainer.save_checkpoint(path)
    assert any(k.startswith("ema.") for k in torch.load(path, weights_only=True)["state_dict"])
    restored = TinyConvNet.load_from_checkpoint(path, weights_only=True)
    assert restored.ema is not None and int(restored.ema.num_updates) == 4
    inputs = torch.randn(5, 2, 8, 8)
    model.eval()
    restored.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs), restored(inputs))


def test_ema_update_rule_with_warmup() -> None:
    net = nn.Linear(2, 1)
    ema = WeightEMA(net, decay=0.99)
    start = ema.module.weight.detach().clone()
    with torch.no_grad():
        net.weight.add_(1.0)
    ema.update(net)
    # First update: the warm-up cap (1 + 1) / (10 + 1) is below 0.99.
    decay = 2 / 11
    expected = decay * start + (1 - decay) * net.weight.detach()
    torch.testing.assert_close(ema.module.weight, expected)
    for _ in range(2000):
        ema.update(net)
    assert math.isclose(ema.current_decay(), 0.99)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5])
def test_ema_decay_out_of_range_is_refused(decay: float) -> None:
    with pytest.raises(ValueError, match="ema_decay"):
        TinyConvNet(ema_decay=decay)


def test_without_ema_nothing_is_averaged(tmp_path: Path) -> None:
    model = TinyConvNet()
    _trainer(tmp_path, max_steps=1).fit(model, datamodule=_data())
    assert model.ema is None
    assert not any(k.startswith("ema.") for k in model.state_dict())


def test_channels_last_converts_weights_and_inputs(tmp_path: Path) -> None:
    model = TinyConvNet(channels_last=True)
    seen: list[torch.Tensor] = []
    model.net[0].register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    _trainer(tmp_path, max_steps=1, limit_val_batches=0).fit(model, datamodule=_data())
    conv = model.net[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert seen and seen[0].is_contiguous(memory_format=torch.channels_last)
    plain = TinyConvNet()
    plain_seen: list[torch.Tensor] = []
    plain.net[0].register_forward_pre_hook(lambda module, args: plain_seen.append(args[0]))
    _trainer(tmp_path, max_steps=1, limit_val_batches=0).fit(plain, datamodule=_data())
    assert not plain.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain_seen[0].is_contiguous(memory_format=torch.channels_last)


def test_bf16_mixed_precision_trains(tmp_path: Path) -> None:
    model = TinyConvNet()
    trainer = _trainer(tmp_path, max_steps=2, precision="bf16-mixed")
    trainer.fit(model, datamodule=_data())
    assert math.isfinite(float(trainer.callback_metrics["train/loss"]))
    assert model.net[0].weight.dtype == torch.float32  # master weights stay fp32


def test_label_smoothing_applies_to_training_loss_only() -> None:
    torch.manual_seed(0)
    batch = (torch.randn(8, 2, 8, 8), torch.arange(8) % 4)
    plain, smooth = TinyConvNet(), TinyConvNet(label_smoothing=0.3)
    smooth.load_state_dict(plain.state_dict())
    for model in (plain, smooth):
        model.log = lambda *args, **kwargs: None  # type: ignore[method-assign]
    assert not torch.isclose(plain.training_step(batch, 0), smooth.training_step(batch, 0))
    plain.eval()
    smooth.eval()
    with torch.no_grad():
        assert torch.isclose(
            plain._scored_step(batch, "val")[0], smooth._scored_step(batch, "val")[0]
        )


def test_compile_switch_runs_the_compiled_forward(tmp_path: Path) -> None:
    import torch._dynamo

    torch._dynamo.reset()
    model = TinyConvNet(compile=True)
    try:
        _trainer(tmp_path, max_steps=2, limit_val_batches=0).fit(model, datamodule=_data())
    except Exception as error:  # the toolchain, not the switch, is what can be missing
        if "compil" in str(error).lower() or "inductor" in type(error).__module__:
            pytest.skip(f"torch.compile cannot build kernels on this machine: {error}")
        raise
    assert isinstance(model._compiled_net, torch._dynamo.eval_frame.OptimizedModule)
    assert model._compiled_net._orig_mod is model.net
    frames = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    assert frames >= 1, "torch.compile was switched on but no graph was compiled"
    # The compiled wrapper adds nothing to the checkpoint.
    assert set(model.state_dict()) == set(TinyConvNet().state_dict())


def test_compile_is_off_by_default(tmp_path: Path) -> None:
    model = TinyConvNet()
    _trainer(tmp_path, max_steps=1, limit_val_batches=0).fit(model, datamodule=_data())
    assert model._compiled_net is None
