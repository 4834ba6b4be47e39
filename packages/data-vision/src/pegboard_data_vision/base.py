"""``ImageDataModule``: the small base of every dataset in this pack, and its hooks.

``setup`` runs the same steps for every dataset, each one a public hook that a subclass
overrides to change that step alone:

1. ``ensure_files``: find or fetch the files (``prepare_data`` may download); with
   ``locate``, ``describe_file`` and ``source_files`` in ``datafiles.DatasetFiles``.
2. ``load_splits``: load the dataset, decoded in memory (``decode``, through the disk
   cache) or as the list of files to stream.
3. ``plan_split``: plan which training samples become validation and test samples.
4. ``compute_stats``: the normalization statistics, unless the config gives them.
5. ``dataloader``: serve a split, from memory as tensor batches or streamed from disk.

The helpers live in focused modules: ``datafiles`` (finding, fetching, unpacking files),
``decoded`` (the loaded dataset and its cache), ``splits`` (the seeded split),
``batches`` (normalization and the in-memory loader), ``augment`` (on-device augmentation).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch

from pegboard.datamodule import DataModule
from pegboard.errors import ConfigError
from pegboard_data_vision import cache, splits
from pegboard_data_vision.augment import BatchAugment, training_augment
from pegboard_data_vision.batches import Normalize, NormalizedBatchLoader, channel_stats
from pegboard_data_vision.datafiles import DatasetFiles
from pegboard_data_vision.decoded import Decoded, Pair, Split, decode_cached

# Decoded and Pair are imported from here by datasets written before ``decoded`` existed.
__all__ = ["Decoded", "ImageDataModule", "Pair"]


class ImageDataModule(DatasetFiles, DataModule):
    """Base of the pack's datasets: decoded once, served as normalized tensor batches.

    A dataset sets the class attributes (``name``, ``files``, ``remotes``, ``homepage``,
    ``pixel_max``) and implements ``decode``; it overrides another hook (see the module
    docstring) only to change that step, such as a folder of images that streams.

    Args:
        data_dir: Folder holding the dataset's files.
        download: Fetch missing files from the official location, verify and extract them.
        mirror: Base URL that replaces the official download locations.
        batch_size: Training samples per batch.
        eval_batch_size: Samples per validation/test batch (``None``: ``batch_size``).
        val_fraction: Fraction of the training files held out for validation.
        split_seed: Seeds the train/validation split (independent of the training seed).
        seed: Seeds batch shuffling and augmentation.
        mean: Per-channel mean in ``[0, 1]`` units; ``None`` computes it on the train split.
        std: Per-channel standard deviation; ``None`` computes it on the train split.
        augment: Options of ``BatchAugment`` applied to training batches on the device;
            ``None`` (or empty) for no augmentation.
        cache: Save the decoded tensors under ``data_dir`` and reuse them on later runs.
        input_shape: The shape the config declares (checked against the data).
        num_classes: The class count the config declares (checked against the data).
    """

    #: Stored value of a full-intensity pixel.
    pixel_max: ClassVar[float] = 255.0

    def __init__(
        self,
        data_dir: str | None = None,
        download: bool = False,
        mirror: str | None = None,
        batch_size: int = 128,
        eval_batch_size: int | None = None,
        val_fraction: float = 0.1,
        split_seed: int = 0,
        seed: int = 0,
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
        augment: Mapping[str, Any] | None = None,
        cache: bool = False,
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if batch_size < 1 or (eval_batch_size is not None and eval_batch_size < 1):
            raise ConfigError(f"data.batch_size={batch_size}: must be at least 1")
        if not 0.0 <= val_fraction < 1.0:
            raise ConfigError(f"data.val_fraction={val_fraction}: must be in [0, 1)")
        if (mean is None) != (std is None):
            raise ConfigError("data.mean and data.std go together: set both or neither")
        self.data_dir = Path(data_dir).expanduser() if data_dir else None
        self.download = download
        self.mirror = mirror
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.val_fraction = val_fraction
        # Datasets without an official test split set their own (a constructor argument).
        self.test_fraction = 0.0
        self.split_seed = split_seed
        self.seed = seed
        self.stats = (list(mean), list(std)) if mean is not None and std is not None else None
        self.augment_options = dict(augment) if augment else None
        if self.augment_options:  # refuse an unknown option now, not after decoding
            BatchAugment.from_config(
                self.augment_options, num_classes=2, mean=[0.0], std=[1.0], seed=seed
            )
        self.cache = cache
        self.declared = (input_shape, num_classes)
        #: ``(items, labels)`` per split once ``setup`` ran; see ``decoded.Split``.
        self.splits: dict[str, Any] = {}
        self.normalize: Normalize | None = None
        self.augmenter: BatchAugment | None = None
        self._class_names: list[str] | None = None
        self.check_early()

    def check_early(self) -> None:
        """Compare the config's declarations with the data before anything is read.

        Datasets whose shape or classes are only known after reading override this.
        """
        self.check_declared(*self.declared)

    @property
    def class_names(self) -> list[str]:
        if self._class_names is None:
            raise RuntimeError(f"{type(self).__name__}.class_names is known after setup()")
        return list(self._class_names)

    # -- hook 2: load in memory or stream ------------------------------------------------

    def decode_options(self) -> dict[str, Any]:
        """Options that change what ``decode`` returns (part of the cache key)."""
        return {}

    def decode(self) -> Decoded:
        """Read the dataset's files into uint8 tensors. Subclasses implement it.

        Returns:
            Stored pixels ``(n, c, h, w)`` and class indices per split, and class names.
        """
        raise NotImplementedError

    def load_splits(self) -> Decoded:
        """Load the dataset: decoded in memory, or the list of files to stream.

        Contract: return the training split, the validation and test splits the dataset
        has of its own (``None`` for those ``plan_split`` cuts from training) and the class
        names. The default holds everything in memory: ``decode``, through the disk cache
        when ``cache`` is on. A dataset too large for memory returns file paths instead and
        overrides ``compute_stats`` and ``dataloader`` to read them.
        """
        if not self.cache:
            return self.decode()
        digest = cache.fingerprint(self.name, self.source_files(), self.decode_options())
        return decode_cached(cache.cache_path(self.folder(), self.name, digest), self.decode)

    # -- hook 3: plan the split ----------------------------------------------------------

    def plan_split(self, size: int, given: Collection[str]) -> dict[str, torch.Tensor]:
        """Plan which training samples go to which split.

        Contract: return indices into the training split for ``"train"`` and for each of
        ``"val"`` and ``"test"`` not in ``given``, the same for the same seed on every
        machine and process. The default shuffles with ``split_seed`` and holds out
        ``val_fraction`` (then ``test_fraction``) of the samples; training keeps the rest.

        Args:
            size: Number of samples in the training split that ``load_splits`` returned.
            given: Held-out splits the dataset has of its own; they are not cut.
        """
        held_out = [name for name in ("val", "test") if name not in given]
        fractions = tuple(self.val_fraction if n == "val" else self.test_fraction for n in held_out)
        parts = splits.split_indices(size, fractions, self.split_seed)
        return dict(zip(("train", *held_out), parts, strict=True))

    # -- hook 4: normalization statistics ------------------------------------------------

    def compute_stats(self, train: Split) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training split, in ``[0, 1]`` units.

        Called by ``setup`` unless the config gives ``mean`` and ``std``.

        Args:
            train: The training split as planned: ``(items, labels)``.
        """
        return channel_stats(train[0], self.pixel_max)

    # -- hook 5: serve a split -----------------------------------------------------------

    def dataloader(self, split: str, shuffle: bool) -> Any:
        """Serve one split as ``(inputs, targets)`` batches of normalized float inputs.

        Contract: an iterable of batches that Lightning accepts; under DDP each process
        must see its own share. The default serves the uint8 tensors from memory, one
        gather and one multiply-add per batch, in the main process (no worker pool: for
        data in memory, workers cost more than they save).

        Args:
            split: ``"train"``, ``"val"`` or ``"test"``.
            shuffle: Draw a new order every epoch (training only).
        """
        inputs, targets = self.splits[split]
        assert self.normalize is not None, "setup() fixes the normalization"
        rank, world_size = self._rank()
        return NormalizedBatchLoader(
            inputs,
            targets,
            self.normalize,
            batch_size=self.batch_size if split == "train" else self.eval_batch_size,
            shuffle=shuffle,
            seed=self.seed,
            rank=rank,
            world_size=world_size,
            # Evaluation sees each sample once: summed over the processes, its metrics
            # are those of one process over the whole split.
            pad=split == "train",
        )

    # -- Lightning hooks -----------------------------------------------------------------

    def prepare_data(self) -> None:
        """Download and extract what is missing (runs once per machine)."""
        self.ensure_files(allow_download=True)

    def setup(self, stage: str | None = None) -> None:
        """Find the files, load, split, and fix the normalization statistics.

        Args:
            stage: Lightning's stage; every stage needs the same data, prepared once.
        """
        if self.splits:
            return
        self.ensure_files(allow_download=False)
        loaded = self.load_splits()
        self._class_names = list(loaded.class_names)
        self.check_declared(*self.declared)
        given = loaded.given()
        plan = self.plan_split(len(loaded.train[1]), tuple(given))
        self.splits = splits.assemble(loaded.train, given, plan)
        mean, std = self.stats or self.compute_stats(self.splits["train"])
        self._use_stats(mean, std)

    def train_dataloader(self) -> Any:
        return self.dataloader("train", shuffle=True)

    def val_dataloader(self) -> Any:
        return self.dataloader("val", shuffle=False)

    def test_dataloader(self) -> Any:
        return self.dataloader("test", shuffle=False)

    def predict_dataloader(self) -> Any:
        return self.dataloader("test", shuffle=False)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Augment training batches once they are on the device.

        Args:
            batch: ``(inputs, targets)`` on the training device.
            dataloader_idx: Index of the loader.
        """
        trainer = self.trainer
        if self.augmenter is not None and trainer is not None and trainer.training:
            inputs, targets = batch
            return self.augmenter(inputs, targets)
        return batch

    def state_dict(self) -> dict[str, Any]:
        """Class names and normalization statistics, saved inside every checkpoint."""
        names, normalize = self._class_names, self.normalize
        if normalize is None or names is None:
            return {}
        return {"class_names": list(names), "mean": normalize.mean, "std": normalize.std}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Normalize as the checkpoint's model was trained (unless the config fixes stats).

        Args:
            state_dict: What ``state_dict`` saved.
        """
        if state_dict.get("mean") and self.stats is None and self.splits:
            self._use_stats(state_dict["mean"], state_dict["std"])

    def _rank(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer else (0, 1)

    def _use_stats(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.normalize = Normalize(mean, std, self.pixel_max)
        self.augmenter = training_augment(
            self.augment_options,
            self.input_shape,
            self.num_classes,
            self.normalize.mean,
            self.normalize.std,
            seed=self.seed + self._rank()[0],  # each process its own draws
        )
