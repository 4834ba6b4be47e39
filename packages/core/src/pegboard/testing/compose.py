"""Compose pegboard configs in-process with any config packages on the search path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig

KIT_CONFIGS = "pegboard.testing.conf"


@contextmanager
def compose_config(
    overrides: Sequence[str] = (),
    config_packages: Sequence[str] = (),
    output_dir: Path | None = None,
    config_name: str = "train",
) -> Iterator[DictConfig]:
    """Compose ``config_name`` from pegboard's base configs plus ``config_packages``.

    This is what the launcher does at start, without needing the launcher: packs test
    their configs against core alone.

    Args:
        overrides: Hydra overrides (``model=cnn``, ``trainer.max_epochs=1``).
        config_packages: Extra config packages, searched after the base configs.
        output_dir: Stands in for the run directory (``paths.output_dir``).
        config_name: The primary config.
    """
    from hydra import compose, initialize_config_module

    search_path = ",".join(f"pkg://{package}" for package in config_packages)
    extra = [f"hydra.searchpath=[{search_path}]"]
    if output_dir is not None:
        extra += [f"paths.output_dir={output_dir}", f"paths.work_dir={output_dir}"]
    from pegboard._compat import VERSION_BASE

    with initialize_config_module("pegboard.conf", version_base=VERSION_BASE):
        yield compose(config_name, overrides=[*extra, *overrides])


__all__ = ["KIT_CONFIGS", "compose_config"]
