"""Fixtures: packs written on the fly and found through real entry points."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint, distributions
from pathlib import Path

import pytest

from pegboard.testing.packs import write_pack
from pegboard_launcher.discovery import discover

MODEL_YAML = """\
_target_: pegboard.testing.models.LinearClassifier
input_shape: ${data.input_shape}
num_classes: ${data.num_classes}
"""
DATA_YAML = """\
_target_: pegboard.testing.datamodule.RandomImageDataModule
input_shape: [1, 4, 4]
num_classes: 3
num_samples: 24
batch_size: 8
seed: ${seed}
"""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "heavy: many pegboard processes (fault injection, parallel runs); the launcher "
        "session runs them, the everything-installed session leaves them out",
    )


@pytest.fixture
def pack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path (and PYTHONPATH) into which tests write packs.

    Discovery sees only the packs in this folder, so the tests hold whether or not
    real packs are installed in the environment.
    """
    import pegboard_launcher.discovery as discovery

    root = tmp_path / "site"
    root.mkdir()

    def entry_points_here(group: str) -> list[EntryPoint]:
        return [
            ep
            for dist in distributions(path=[str(root)])
            for ep in dist.entry_points
            if ep.group == group
        ]

    monkeypatch.setattr(discovery, "entry_points", entry_points_here)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", str(root))
    monkeypatch.chdir(tmp_path)
    discover.cache_clear()
    before = set(sys.modules)
    yield root
    discover.cache_clear()
    for name in set(sys.modules) - before:
        if getattr(sys.modules[name], "__file__", "") and str(root) in str(
            sys.modules[name].__file__
        ):
            del sys.modules[name]


@pytest.fixture
def add_pack(pack_dir: Path) -> Callable[..., str]:
    """Write a pack into ``pack_dir``; see ``pegboard.testing.packs.write_pack``."""

    def add(name: str, **kwargs: object) -> str:
        module = write_pack(pack_dir, name, **kwargs)  # type: ignore[arg-type]
        discover.cache_clear()
        return module

    return add


@pytest.fixture
def working_packs(add_pack: Callable[..., str]) -> None:
    """A model pack and a data pack that together train, like the vision packs."""
    add_pack("acme-models", configs={"model/tiny.yaml": MODEL_YAML})
    add_pack("acme-data", configs={"data/tiny_images.yaml": DATA_YAML})
