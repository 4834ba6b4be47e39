"""Read a folder of image files into a normalized batch tensor, for ``pegboard predict``.

Pillow is an optional extra of pegboard-core (``pip install pegboard-core[images]``):
core stays image-agnostic, and only this reader needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from pegboard.errors import ConfigError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def image_files(folder: Path) -> list[Path]:
    """Image files directly in ``folder`` and its sub-folders, sorted by path.

    Args:
        folder: The folder given as ``input``.
    """
    if not folder.is_dir():
        raise ConfigError(f"input={folder}: no such folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not files:
        raise ConfigError(f"input={folder}: no image files ({', '.join(EXTENSIONS)})")
    return files


def load_images(
    files: Sequence[Path],
    input_shape: Sequence[int],
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> torch.Tensor:
    """Decode, convert, resize and normalize images to ``(n, *input_shape)`` floats.

    Pixels are scaled to ``[0, 1]`` and then standardised per channel with the
    statistics the model was trained with, as the training data was.

    Args:
        files: Image files.
        input_shape: ``[channels, height, width]`` the model expects.
        mean: Per-channel mean in ``[0, 1]`` units, or ``None`` for none.
        std: Per-channel standard deviation, with ``mean``.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError as error:
        raise ConfigError(
            f"predicting on an image folder needs Pillow: pip install pegboard-core[images] "
            f"({error})"
        ) from error
    if len(input_shape) != 3 or input_shape[0] not in _MODES:
        raise ConfigError(
            f"input= needs an image model with input shape [1|3|4, H, W], not {list(input_shape)}"
        )
    channels, height, width = (int(d) for d in input_shape)
    tensors = []
    for path in files:
        try:
            with Image.open(path) as image:
                converted = image.convert(_MODES[channels]).resize(
                    (width, height), Image.Resampling.BILINEAR
                )
                data = torch.frombuffer(bytearray(converted.tobytes()), dtype=torch.uint8)
        except Image.DecompressionBombError as error:
            # Pillow's guard against images that would take gigabytes to decode.
            raise ConfigError(
                f"input: image {path} is too large to decode safely: {error}"
            ) from error
        except (OSError, UnidentifiedImageError) as error:
            raise ConfigError(f"input: cannot read image {path}: {error}") from error
        tensors.append(data.view(height, width, channels).permute(2, 0, 1))
    batch = torch.stack(tensors).float() / 255.0
    if mean is not None and std is not None:
        shift = torch.tensor([float(m) for m in mean]).view(1, -1, 1, 1)
        scale = torch.tensor([float(s) for s in std]).view(1, -1, 1, 1)
        batch = (batch - shift) / scale
    return batch


__all__ = ["EXTENSIONS", "image_files", "load_images"]
