"""Images given to ``pegboard predict input=``: a hostile file is refused, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pegboard.errors import ConfigError
from pegboard.runner.images import load_images

PIL = pytest.importorskip("PIL.Image", reason="Pillow is pegboard-core[images]")


def _png(path: Path, size: int) -> Path:
    PIL.new("L", (size, size), color=128).save(path)
    return path


def test_images_are_converted_to_the_input_shape(tmp_path: Path) -> None:
    batch = load_images([_png(tmp_path / "a.png", 10)], [1, 4, 4])
    assert batch.shape == (1, 1, 4, 4) and abs(float(batch.mean()) - 128 / 255) < 1e-6


def test_a_decompression_bomb_is_refused(tmp_path: Path, monkeypatch) -> None:
    # Pillow refuses images over twice MAX_IMAGE_PIXELS; a small limit stands in for a
    # file that claims gigapixels.
    monkeypatch.setattr(PIL, "MAX_IMAGE_PIXELS", 100)
    bomb = _png(tmp_path / "bomb.png", 64)
    with pytest.raises(ConfigError, match=f"image {bomb} is too large to decode safely"):
        load_images([bomb], [1, 4, 4])


def test_a_file_that_is_no_image_is_named(tmp_path: Path) -> None:
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"not a png")
    with pytest.raises(ConfigError, match=f"cannot read image {fake}"):
        load_images([fake], [1, 4, 4])
