"""``ImageDataModule``: the shared machinery of every dataset in this pack.

A dataset subclass says which files it needs, where they are published, and how to decode
them into uint8 tensors. This class does the rest once for all of them: the missing-files
message, download, the disk cache of decoded tensors, the seeded splits, normalization,
the in-memory loaders and the on-device batch augmentation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch

from pegboard.datamodule import DataModule
from pegboard.errors import ConfigError, DataNotFound
from pegboard_data_vision import cache
from pegboard_data_vision.augment import BatchAugment
from pegboard_data_vision.batches import Normalize, NormalizedBatchLoader, channel_stats
from pegboard_data_vision.download import Remote, extract, fetch
from pegboard_data_vision.splits import split_indices

Pair = tuple[torch.Tensor, torch.Tensor]


@dataclass
class Decoded:
    """A decoded dataset: stored pixels ``(n, c, h, w)`` and class indices per split.

    Args:
        train: The training images and labels.
        test: The official test split, or ``None`` to cut one from ``train``.
        class_names: Name of each class.
        val: A separate validation split, or ``None`` to cut one from ``train``.
    """

    train: Pair
    test: Pair | None
    class_names: list[str]
    val: Pair | None = None

    def to_payload(self) -> dict[str, Any]:
        """Plain containers for ``torch.save`` (and ``torch.load(weights_only=True)``)."""
        return {
            "train": list(self.train),
            "test": list(self.test) if self.test else None,
            "val": list(self.val) if self.val else None,
            "class_names": self.class_names,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Decoded:
        """Inverse of ``to_payload``.

        Args:
            payload: What ``to_payload`` returned, as loaded from disk.
        """

        def pair(value: Any) -> Pair | None:
            return (value[0], value[1]) if value else None

        return cls(
            pair(payload["train"]),
            pair(payload["test"]),
            list(payload["class_names"]),
            pair(payload["val"]),
        )


class ImageDataModule(DataModule):
    """Base of the pack's datasets: decoded once, served as normalized tensor batches.

    Subclasses set the class attributes and implement ``decode``; datasets that stream
    from disk override the loaders as well.

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

    #: The config option's name, used in messages and cache file names.
    name: ClassVar[str] = ""
    #: Files the dataset needs inside ``data_dir``.
    files: ClassVar[tuple[str, ...]] = ()
    #: Where the files are published, and with which checksums.
    remotes: ClassVar[tuple[Remote, ...]] = ()
    #: The dataset's home page, for the missing-files message.
    homepage: ClassVar[str] = ""
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

    # -- description -----------------------------------------------------------------

    @property
    def class_names(self) -> list[str]:
        if self._class_names is None:
            raise RuntimeError(f"{type(self).__name__}.class_names is known after setup()")
        return list(self._class_names)

    # -- files -------------------------------------------------------------------------

    def folder(self) -> Path:
        """The dataset folder; an error when the config gives none."""
        if self.data_dir is None:
            raise ConfigError(f"data={self.name} needs data.data_dir: the folder of its files")
        return self.data_dir

    def locate(self, name: str) -> Path | None:
        """The file that stands for ``name`` in the folder, or ``None`` when there is none.

        Args:
            name: One of ``files``.
        """
        path = self.folder() / name
        return path if path.is_file() else None

    def missing_files(self) -> list[str]:
        """Names from ``files`` that the folder lacks."""
        return [name for name in self.files if self.locate(name) is None]

    def describe_file(self, name: str) -> str:
        """How the missing-files message lists one expected file.

        Args:
            name: One of ``files``.
        """
        return name

    def _missing_message(self, missing: list[str]) -> str:
        folder = self.folder().resolve()
        lines = [f"data={self.name}: {len(missing)} of its files are not in {folder}:"]
        lines += [f"  {self.describe_file(name)}" for name in missing]
        if any(remote.extract for remote in self.remotes):
            archives = ", ".join(r.filename for r in self.remotes if r.extract)
            lines.append(
                f"(they are unpacked from {archives}; putting the archive there is enough)"
            )
        sources = [remote.urls[0] + remote.filename for remote in self.remotes]
        where = "\n  ".join(sources) if sources else self.homepage
        lines.append(f"Get them from\n  {where}\n(see {self.homepage})")
        lines.append(
            f"and put them in {folder} (or point data.data_dir at their folder), or run with "
            "data.download=true to download and verify them."
        )
        return "\n".join(lines)

    def ensure_files(self, allow_download: bool = True) -> None:
        """Make the dataset's files present, or raise one message that says how.

        Archives put in the folder by hand are unpacked. With ``download`` on, missing
        files are fetched and files already downloaded are checked against their published
        checksums (a corrupt one is downloaded again).

        Args:
            allow_download: Whether this call may download (``prepare_data`` only, which
                Lightning runs on one process per machine).
        """
        if not self.files:
            return
        folder = self.folder()
        if allow_download and self.download:
            missing = set(self.missing_files())
            for remote in self.remotes:
                needed = set(remote.provides or (remote.filename,)) & missing
                # A downloaded data file (not an archive) is verified on every such run.
                verify = not remote.extract and (folder / remote.filename).exists()
                if needed or verify:
                    path = fetch(remote, folder, self.mirror)
                    if remote.extract and needed:
                        extract(path, folder)
        elif self.missing_files():
            for remote in self.remotes:
                if remote.extract and (folder / remote.filename).is_file():
                    extract(folder / remote.filename, folder)
        missing = self.missing_files()
        if missing:
            raise DataNotFound(self._missing_message(missing))

    def source_files(self) -> list[Path]:
        """The files ``decode`` reads: their sizes and times key the cache."""
        return [path for name in self.files if (path := self.locate(name)) is not None]

    def decode_options(self) -> dict[str, Any]:
        """Options that change what ``decode`` returns (part of the cache key)."""
        return {}

    def decode(self) -> Decoded:
        """Read the dataset's files into tensors. Subclasses implement it."""
        raise NotImplementedError

    def _decoded(self) -> Decoded:
        if not self.cache:
            return self.decode()
        digest = cache.fingerprint(self.name, self.source_files(), self.decode_options())
        path = cache.cache_path(self.folder(), self.name, digest)
        payload = cache.load(path)
        if payload is not None:
            return Decoded.from_payload(payload)
        decoded = self.decode()
        cache.save(path, decoded.to_payload())
        return decoded

    # -- Lightning hooks ---------------------------------------------------------------

    def prepare_data(self) -> None:
        """Download and extract what is missing (runs once per machine)."""
        self.ensure_files(allow_download=True)

    def _rank(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer else (0, 1)

    def setup(self, stage: str | None = None) -> None:
        """Decode (or load from the cache), split, and fix the normalization statistics.

        Args:
            stage: Lightning's stage; every stage needs the same tensors.
        """
        if self.splits:
            return
        self.ensure_files(allow_download=False)
        decoded = self._decoded()
        self._class_names = list(decoded.class_names)
        self.check_declared(*self.declared)
        self.splits = self.split(decoded)
        mean, std = self.stats or self.compute_stats(self.splits["train"])
        self._use_stats(mean, std)

    def split(self, decoded: Decoded) -> dict[str, Any]:
        """Cut the validation (and, without an official one, the test) split from train.

        Args:
            decoded: The decoded dataset.
        """
        images, labels = decoded.train
        fractions = (() if decoded.val is not None else (self.val_fraction,)) + (
            () if decoded.test is not None else (self.test_fraction,)
        )
        order, *held_out = split_indices(len(labels), fractions, self.split_seed)
        parts = iter(held_out)
        splits = {"train": (images[order], labels[order])}
        for name, given in (("val", decoded.val), ("test", decoded.test)):
            if given is not None:
                splits[name] = given
            else:
                chosen = next(parts)
                splits[name] = (images[chosen], labels[chosen])
        return splits

    def compute_stats(self, train: Any) -> tuple[list[float], list[float]]:
        """Per-channel mean and std of the training split, in ``[0, 1]`` units.

        Args:
            train: The training split as stored by ``split``.
        """
        return channel_stats(train[0], self.pixel_max)

    def _use_stats(self, mean: Sequence[float], std: Sequence[float]) -> None:
        self.normalize = Normalize(mean, std, self.pixel_max)
        self.augmenter = None
        if self.augment_options:
            if len(self.input_shape) != 3:
                raise ConfigError(
                    f"data.augment needs image inputs [c, h, w], "
                    f"not {list(self.input_shape)}; set data.augment=null"
                )
            rank, _ = self._rank()
            augmenter = BatchAugment.from_config(
                self.augment_options,
                num_classes=self.num_classes,
                mean=self.normalize.mean,
                std=self.normalize.std,
                seed=self.seed + rank,  # each process its own draws
            )
            self.augmenter = augmenter if augmenter.enabled else None

    def _loader(self, split: str, shuffle: bool) -> Any:
        inputs, targets = self.splits[split]
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
        )

    def train_dataloader(self) -> Any:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> Any:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> Any:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> Any:
        return self._loader("test", shuffle=False)

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
        if self.normalize is None or self._class_names is None:
            return {}
        return {
            "class_names": list(self._class_names),
            "mean": self.normalize.mean,
            "std": self.normalize.std,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Normalize as the checkpoint's model was trained (unless the config fixes stats).

        Args:
            state_dict: What ``state_dict`` saved.
        """
        if state_dict.get("mean") and self.stats is None and self.splits:
            self._use_stats(state_dict["mean"], state_dict["std"])
