"""``model=timm model.pretrained=PATH``: a local weights file, read without running code."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pegboard_models_vision.adapters import missing_extra

pytestmark = pytest.mark.skipif(
    missing_extra("timm") is not None, reason=str(missing_extra("timm"))
)


def test_a_local_weights_file_starts_the_network_and_is_not_a_hyperparameter(
    tmp_path: Path,
) -> None:
    import timm

    from pegboard_models_vision import TimmModel

    source = timm.create_model("resnet18", pretrained=False, num_classes=10)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    model = TimmModel([3, 32, 32], 4, name="resnet18", pretrained=str(path))
    assert torch.equal(model.net.layer1[0].conv1.weight, source.layer1[0].conv1.weight)
    assert model.net.fc.weight.shape == (4, 512)  # another number of classes: a fresh head
    assert "pretrained" not in model.hparams  # a checkpoint rebuilds from its own weights

    grey = TimmModel([1, 32, 32], 4, name="resnet18", pretrained=str(path))
    assert grey.net.conv1.weight.shape[1] == 1  # timm adapts the first convolution
    with pytest.raises(ValueError, match="no such weights file"):
        TimmModel([3, 32, 32], 4, pretrained=str(tmp_path / "missing.pth"))
