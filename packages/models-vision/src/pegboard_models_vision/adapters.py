"""Optional adapters: any timm or torchvision architecture inside pegboard's task.

The libraries are extras (``pip install pegboard-models-vision[timm]`` or
``[torchvision]``) and are imported when a model is built, never when the pack is
listed. When one is missing, or installed but unable to import (a torchvision wheel
built for another torch), building the model raises ``MissingExtraError`` naming the
extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from pegboard.tasks import ClassificationModel
from pegboard_models_vision._shapes import image_shape


class MissingExtraError(ImportError):
    """An optional library of the pack is missing or does not import."""


def import_extra(library: str) -> ModuleType:
    """Import ``library``, or raise ``MissingExtraError`` naming the pack's extra.

    Args:
        library: ``"timm"`` or ``"torchvision"``.
    """
    try:
        return importlib.import_module(library)
    # A broken install (a torchvision wheel built for another torch) fails with any
    # error type, not only ImportError.
    except Exception as error:
        found = importlib.util.find_spec(library) is not None
        state = "is installed but cannot be imported" if found else "is not installed"
        raise MissingExtraError(
            f"{library} {state} ({type(error).__name__}: {error}); "
            f"pip install 'pegboard-models-vision[{library}]' (with a torchvision build "
            f"that matches torch {torch.__version__})"
        ) from error


def missing_extra(library: str) -> str | None:
    """Why ``library`` cannot be used here, or ``None`` when it imports (for test skips).

    Args:
        library: ``"timm"`` or ``"torchvision"``.
    """
    try:
        import_extra(library)
    except MissingExtraError as error:
        return str(error)
    return None


class _ChannelAdapter(nn.Module):
    """Feeds ``in_channels`` images to a network built for ``3``-channel ones."""

    def __init__(self, in_channels: int, net: nn.Module) -> None:
        super().__init__()
        # Grey images are repeated (pretrained filters still apply); other channel
        # counts go through a learned 1x1 projection.
        self.project = None if in_channels in (1, 3) else nn.Conv2d(in_channels, 3, 1)
        self.repeat = in_channels == 1
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.repeat:
            x = x.expand(-1, 3, -1, -1)
        elif self.project is not None:
            x = self.project(x)
        return self.net(x)


def _replace_last_linear(net: nn.Module, num_classes: int) -> None:
    # Pretrained classifiers end in one nn.Linear (fc, classifier[-1], heads.head):
    # swap the last one for a fresh layer with our classes.
    name = [n for n, m in net.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attr = name.rpartition(".")
    parent = net.get_submodule(parent_name) if parent_name else net
    old = getattr(parent, attr)
    setattr(parent, attr, nn.Linear(old.in_features, num_classes))


class TimmModel(ClassificationModel):
    """Any ``timm.create_model`` architecture, trained by pegboard's task.

    Args:
        input_shape: ``[channels, height, width]`` of one image (timm adapts its stem to
            the channels).
        num_classes: Number of classes (timm replaces the head).
        name: A timm model name, such as ``"resnet18"`` or ``"convnext_nano"``.
        pretrained: ``True`` loads timm's pretrained weights (needs the network to
            download them); a path loads a local weights file of that architecture
            instead (a timm state dict as ``.pth``/``.bin``/``.safetensors``, read without
            running code). timm adapts the first convolution to the channels and leaves
            out a classifier of another size. Not saved with the hyperparameters: a
            checkpoint rebuilds the model from its own weights, with neither.
        model_kwargs: Further arguments of ``timm.create_model`` (``drop_rate``,
            ``img_size`` for ViTs...).
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        name: str = "resnet18",
        pretrained: bool | str = False,
        model_kwargs: Mapping[str, Any] | None = None,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        # A rebuilt checkpoint loads its own weights: it must not need the download or the file.
        self.save_hyperparameters(ignore=["optimizer", "scheduler", "pretrained"])
        timm = import_extra("timm")
        channels, _, _ = image_shape(input_shape, f"timm model {name!r}")
        kwargs = dict(model_kwargs or {})
        if isinstance(pretrained, str):
            kwargs["pretrained_cfg_overlay"] = {
                **dict(kwargs.get("pretrained_cfg_overlay") or {}),
                "state_dict": _weights_file(pretrained),
            }
        self.net = timm.create_model(
            name,
            pretrained=bool(pretrained),
            num_classes=num_classes,
            in_chans=channels,
            **kwargs,
        )


def _weights_file(path: str) -> dict[str, torch.Tensor]:
    """The state dict in a local weights file, read without running code.

    timm would read ``pretrained_cfg_overlay={"file": path}`` itself, with a
    ``torch.load`` that unpickles anything (``weights_only=False``): pegboard reads the
    file (``weights_only=True``, or safetensors) and hands timm the tensors.

    Args:
        path: The file (``~`` is expanded).
    """
    from pegboard.weights import load_weights_file

    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(f"pretrained={path!r}: no such weights file (or true/false)")
    return load_weights_file(file)


class TorchvisionModel(ClassificationModel):
    """Any ``torchvision.models`` classifier, trained by pegboard's task.

    Args:
        input_shape: ``[channels, height, width]`` of one image; 1-channel images are
            repeated to 3, other counts projected by a learned 1x1 convolution.
        num_classes: Number of classes.
        name: A ``torchvision.models.get_model`` name, such as ``"resnet18"``.
        weights: Pretrained weights (``"DEFAULT"``, ``"IMAGENET1K_V1"``) or ``None``;
            with weights the last linear layer is replaced for ``num_classes``.
        model_kwargs: Further arguments of the model builder.
        **task_options: ``ClassificationModel``'s options: ``label_smoothing``,
            ``ema_decay``, ``channels_last``, ``compile``, ``optimizer``, ``scheduler``...
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        name: str = "resnet18",
        weights: str | None = None,
        model_kwargs: Mapping[str, Any] | None = None,
        **task_options: Any,
    ) -> None:
        super().__init__(num_classes, **task_options)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        torchvision = import_extra("torchvision")
        channels, _, _ = image_shape(input_shape, f"torchvision model {name!r}")
        kwargs = dict(model_kwargs or {})
        if weights is None:
            net = torchvision.models.get_model(
                name, weights=None, num_classes=num_classes, **kwargs
            )
        else:
            net = torchvision.models.get_model(name, weights=weights, **kwargs)
            _replace_last_linear(net, num_classes)
        self.net = _ChannelAdapter(channels, net) if channels != 3 else net


__all__ = ["MissingExtraError", "TimmModel", "TorchvisionModel", "import_extra", "missing_extra"]
