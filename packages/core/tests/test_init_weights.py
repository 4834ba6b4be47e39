"""Fine-tuning: model.init_from (sources, matching, the report), model.freeze, resuming."""

from __future__ import annotations

import hashlib
import io
import logging
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf
from torch import nn

from pegboard.errors import ConfigError
from pegboard.runner.finetune import FineTune, split_finetune, start_finetuning
from pegboard.runner.freeze import KeepFrozen, freeze
from pegboard.runner.init_weights import init_weights, match_names
from pegboard.runner.metadata import CHECKPOINT_KEY
from pegboard.runner.train import train
from pegboard.runner.validate import check_node
from pegboard.tasks import ClassificationModel
from pegboard.testing.compose import KIT_CONFIGS, compose_config
from pegboard.testing.datamodule import RandomImageDataModule
from pegboard.testing.http_server import RangeServer


class SmallConvNet(ClassificationModel):
    """Conv, BatchNorm, Dropout, then a linear head: ``features`` and ``head`` parts.

    Args:
        num_classes: Number of classes.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__(num_classes)
        self.net = nn.Sequential()
        self.net.add_module(
            "features",
            nn.Sequential(
                nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5)
            ),
        )
        self.net.add_module("pool", nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten()))
        self.net.add_module("head", nn.Linear(16, num_classes))


def _saved(tmp_path: Path, name: str, payload: Any) -> Path:
    path = tmp_path / name
    torch.save(payload, path)
    return path


def _checkpoint(tmp_path: Path, model: nn.Module) -> Path:
    """What a Lightning checkpoint holds that matters here: tensors under state_dict."""
    return _saved(tmp_path, "source.ckpt", {"state_dict": model.state_dict(), "epoch": 3})


def test_every_train_config_has_the_keys_and_a_model_config_may_set_them(tmp_path: Path) -> None:
    with compose_config(["model=kit_linear", "data=kit_images"], [KIT_CONFIGS], tmp_path) as cfg:
        assert cfg.model.init_from is None and list(cfg.model.freeze) == []
        assert cfg.model._target_.endswith("LinearClassifier")
    own = tmp_path / "configs" / "model"
    own.mkdir(parents=True)
    (own / "pretrained.yaml").write_text(
        "defaults:\n  - kit_linear\n  - _self_\ninit_from: https://example.org/w.pt\n"
        f"init_sha256: {'a' * 64}\nfreeze: net.1.bias\n"
    )
    from hydra import compose, initialize_config_module

    searchpath = f"hydra.searchpath=[pkg://{KIT_CONFIGS},file://{tmp_path / 'configs'}]"
    with initialize_config_module("pegboard.conf", version_base="1.3"):
        cfg = compose(
            "train",
            [searchpath, "model=pretrained", "data=kit_images", "model.init_from=/a/b.ckpt"],
        )
        node = OmegaConf.to_container(cfg.model, resolve=True)
    assert isinstance(node, dict)
    built, settings = split_finetune(node)
    # The command line wins over the model config, which wins over the defaults.
    assert settings == FineTune("/a/b.ckpt", "a" * 64, ("net.1.bias",))
    assert not {"init_from", "init_sha256", "freeze"} & set(built)
    check_node(node, "model")  # the keys are the runner's: never refused as arguments


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"init_from": "https://example.org/w.pt"}, r"is a download: give its SHA-256 too"),
        ({"init_from": "w.pt", "init_sha256": "abc"}, r"init_sha256='abc' must be the 64-hex"),
        ({"freeze": [1]}, r"model.freeze=\[1\] must be a list of part names"),
        ({"init_from": 3}, r"model.init_from=3 must be a checkpoint"),
    ],
)
def test_malformed_settings_are_refused_in_one_line(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        split_finetune({"_target_": "x.Net", **values})
    assert "\n" not in str(caught.value)


def test_matching_tensors_load_and_a_head_of_another_shape_is_reinitialized(
    tmp_path: Path,
) -> None:
    source = SmallConvNet(10)
    path = _checkpoint(tmp_path, source)
    model = SmallConvNet(3)
    fresh_head = model.net.head.weight.detach().clone()
    line = init_weights(model, str(path)).line
    assert line == (
        f"model.init_from={path}: loaded 7 of 9 tensors; re-initialized 2 whose shape "
        "changed: net.head.weight [10, 16] -> [3, 16], net.head.bias [10] -> [3]"
    )
    for name, tensor in source.state_dict().items():
        if not name.startswith("net.head"):
            assert torch.equal(model.state_dict()[name], tensor), name
    assert torch.equal(model.net.head.weight, fresh_head)


def test_a_bare_network_state_dict_gets_the_model_prefix(tmp_path: Path) -> None:
    source = SmallConvNet(10)
    path = _saved(tmp_path, "bare.pth", source.net.state_dict())  # features.0.weight...
    model = SmallConvNet(10)
    line = init_weights(model, str(path)).line
    assert (
        line == f"model.init_from={path}: loaded 9 of 9 tensors; the file's names with 'net.' added"
    )
    assert torch.equal(model.net.features[0].weight, source.net.features[0].weight)
    # A wrapper's prefix (DataParallel's module.) is taken off, and the model's put on.
    wrapped = {f"module.{name}": t for name, t in source.net.state_dict().items()}
    matching = match_names(
        {name: tuple(t.shape) for name, t in model.state_dict().items()},
        {name: tuple(t.shape) for name, t in wrapped.items()},
    )
    assert (matching.strip, matching.add, len(matching.loaded)) == ("module.", "net.", 9)


def test_missing_and_extra_names_are_listed_briefly(tmp_path: Path) -> None:
    state = SmallConvNet(10).state_dict()
    del state["net.features.1.running_var"]
    state["ema.module.head.weight"] = torch.zeros(10, 16)
    line = init_weights(SmallConvNet(10), str(_saved(tmp_path, "partial.pt", state))).line
    assert line.endswith(
        "loaded 8 of 9 tensors; 1 not in the file keep their initialization "
        "(net.features.1.running_var); 1 of the file's are not in the model "
        "(ema.module.head.weight)"
    )


def test_weights_of_an_unrelated_architecture_are_refused_before_training(tmp_path: Path) -> None:
    path = _saved(tmp_path, "lstm.pt", nn.LSTM(4, 8).state_dict())
    model = SmallConvNet(3)
    before = {name: t.clone() for name, t in model.state_dict().items()}
    with pytest.raises(ConfigError) as caught:
        init_weights(model, str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert f"model.init_from={path}: no parameter of the model matches" in message
    assert "(no name matches)" in message
    assert "The file holds 4 tensors (weight_ih_l0 [32, 4], weight_hh_l0 [32, 8]" in message
    assert "the model 9 (net.features.0.weight [4, 1, 3, 3]" in message
    assert all(torch.equal(model.state_dict()[n], t) for n, t in before.items())


def test_file_sources_are_checked(tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, SmallConvNet(10))
    with pytest.raises(ConfigError, match=r"model.init_from=.*nothing.pt: no such file"):
        init_weights(SmallConvNet(10), str(tmp_path / "nothing.pt"))
    with pytest.raises(ConfigError, match=r"give a checkpoint or weights file, an http"):
        init_weights(SmallConvNet(10), "s3://bucket/w.pt")
    with pytest.raises(ConfigError, match=r"has SHA-256 [0-9a-f]{64}, not model.init_sha256="):
        init_weights(SmallConvNet(10), str(path), "0" * 64)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert "loaded 9 of 9" in init_weights(SmallConvNet(10), f"file://{path}", digest).line


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RangeServer]:
    """A local HTTP server, as the kit gives packs to test their downloads."""
    with RangeServer(tmp_path / "www") as server:
        yield server


def test_a_url_is_downloaded_once_verified_and_loaded(
    server: RangeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEGBOARD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    source = SmallConvNet(10)
    data = io.BytesIO()
    torch.save(source.state_dict(), data)
    url = server.put("w.pt", data.getvalue())
    digest = hashlib.sha256(data.getvalue()).hexdigest()
    with pytest.raises(ConfigError) as caught:  # a wrong digest: refused in one line
        init_weights(SmallConvNet(3), url, "f" * 64)
    assert str(caught.value) == (
        f"model.init_from={url}: the file there has SHA-256 {digest}, not "
        f"model.init_sha256={'f' * 64}; nothing was loaded"
    )
    model = SmallConvNet(3)
    assert "loaded 7 of 9 tensors" in init_weights(model, url, digest).line
    assert torch.equal(model.net.features[0].weight, source.net.features[0].weight)
    requests = len(server.requests)
    assert "loaded 7 of 9" in init_weights(SmallConvNet(3), url, digest).line
    assert len(server.requests) == requests  # the verified copy in the cache answered


def test_a_registered_model_is_fetched_from_the_tracking_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _checkpoint(tmp_path, SmallConvNet(10))
    calls = []

    def registered_checkpoint(uri: str, tracking_uri: str) -> Path:
        calls.append((uri, tracking_uri))
        return path

    registry = types.ModuleType("pegboard.runner.registry")
    registry.registered_checkpoint = registered_checkpoint  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pegboard.runner.registry", registry)
    settings = FineTune("models:/digits/2")
    start_finetuning(SmallConvNet(3), settings, {"paths": {"tracking_uri": "sqlite:///m.db"}})
    assert calls == [("models:/digits/2", "sqlite:///m.db")]
    with pytest.raises(ConfigError, match=r"needs paths\.tracking_uri"):
        start_finetuning(SmallConvNet(3), settings, {"paths": {}})


def test_freeze_names_that_match_nothing_list_the_model_parts() -> None:
    with pytest.raises(ConfigError) as caught:
        freeze(SmallConvNet(3), ["net.featurs"])
    assert str(caught.value) == (
        "model.freeze=[net.featurs]: 'net.featurs' names no part of SmallConvNet; its parts: "
        "net (net.features, net.pool, net.head). Did you mean net.features?"
    )
    with pytest.raises(ConfigError, match=r"freezes all 99 parameters of SmallConvNet"):
        freeze(SmallConvNet(3), ["net"])
    # One name alone is taken as a list of one.
    assert split_finetune({"freeze": "net.features"})[1].freeze == ("net.features",)


def test_freezing_tensors_the_weights_did_not_fit_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = FineTune(str(_checkpoint(tmp_path, SmallConvNet(10))), freeze=("net.head",))
    with caplog.at_level(logging.INFO, logger="pegboard.runner.finetune"):
        start_finetuning(SmallConvNet(3), settings, {})
    assert [record.levelname for record in caplog.records] == ["INFO", "INFO", "WARNING"]
    assert caplog.messages[-1] == (
        "model.freeze keeps 2 tensors that model.init_from did not load at their random "
        "initialization for the whole run: net.head.bias, net.head.weight"
    )


def test_frozen_parts_keep_their_weights_and_batchnorm_statistics_while_the_head_trains(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = SmallConvNet(10)
    before = {name: t.clone() for name, t in model.state_dict().items()}
    with caplog.at_level(logging.INFO, logger="pegboard.runner.finetune"):
        callbacks = start_finetuning(model, FineTune(freeze=("net.features",)), {})
    assert caplog.messages == [
        "model.freeze=[net.features]: 48 of 218 parameters frozen (4 tensors), left out of "
        "the optimizer; their BatchNorm and Dropout layers stay in eval mode"
    ]
    optimizer = model.configure_optimizers()
    optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert optimized == {id(p) for p in model.parameters() if p.requires_grad}
    modes = []

    class Modes(pl.Callback):
        def on_train_batch_end(self, trainer: Any, module: Any, *args: Any) -> None:
            modes.append((module.net.features.training, module.net.features[1].training))

    trainer = pl.Trainer(
        max_epochs=2,
        callbacks=[*callbacks, Modes()],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        trainer.fit(model, datamodule=RandomImageDataModule([1, 8, 8], 10, 64, 16))
    assert not [w for w in warned if "eval mode at the start of training" in str(w.message)]
    assert modes and set(modes) == {(False, False)}  # through validation runs, every batch
    after = model.state_dict()
    for name, tensor in before.items():
        if name.startswith("net.features"):
            assert torch.equal(after[name], tensor), name  # running statistics included
    assert not torch.equal(after["net.head.weight"], before["net.head.weight"])
    assert model.net.head.training


def test_nothing_frozen_gives_the_optimizer_every_parameter_as_before() -> None:
    model = SmallConvNet(3)
    model.setup("fit")  # no EMA: the same parameters either way
    optimizer = model.configure_optimizers()
    assert [p for group in optimizer.param_groups for p in group["params"]] == list(
        model.parameters()
    )
    assert KeepFrozen([]).names == []


QUICK = [
    "model=kit_linear",
    "data=kit_images",
    "trainer.accelerator=cpu",
    "trainer.enable_progress_bar=false",
    "~callbacks.progress_bar",
    "plots=false",
    "test=false",
]


def test_a_run_records_its_start_and_resuming_keeps_the_checkpoint_weights(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pegboard.testing.models import LinearClassifier

    source = LinearClassifier([1, 8, 8], 10)
    init = _saved(tmp_path, "init.pt", source.state_dict())
    first = tmp_path / "first"
    args = [*QUICK, f"model.init_from={init}", "model.freeze=[net.1.bias]"]
    with compose_config([*args, "trainer.max_epochs=1"], [KIT_CONFIGS], first) as cfg:
        train(cfg)
    last = first / "checkpoints" / "last.ckpt"
    saved = torch.load(last, weights_only=True)
    assert saved[CHECKPOINT_KEY]["config"]["model"]["init_from"] == str(init)
    assert saved[CHECKPOINT_KEY]["config"]["model"]["freeze"] == ["net.1.bias"]
    assert not {"init_from", "freeze"} & set(saved["hyper_parameters"])
    assert "init_from: " in (first / "config.yaml").read_text()
    assert torch.equal(saved["state_dict"]["net.1.bias"], source.net[1].bias)
    assert not torch.equal(saved["state_dict"]["net.1.weight"], source.net[1].weight)

    init.write_bytes(b"not read again")  # resuming never re-initializes
    resumed = tmp_path / "resumed"
    more = [*QUICK, f"ckpt_path={last}"]
    # The resume line's own overrides, as Hydra would give them (none outside Hydra).
    monkeypatch.setattr(
        "pegboard.runner.resume.command_line_overrides", lambda: ["trainer.max_epochs=2"]
    )
    with (
        caplog.at_level(logging.INFO, logger="pegboard.runner.finetune"),
        compose_config(more, [KIT_CONFIGS], resumed) as cfg,
    ):
        train(cfg)
    assert f"model.init_from={init} is not loaded: training continues from {last}" in caplog.text
    final = torch.load(resumed / "checkpoints" / "last.ckpt", weights_only=True)
    assert final["epoch"] == 1  # the frozen run's optimizer state loaded: same layout
    assert torch.equal(final["state_dict"]["net.1.bias"], source.net[1].bias)
