"""Read dataset pickles (CIFAR's batches and the like) without letting them run code.

A pickle names the functions that rebuild its objects, and ``pickle.load`` calls them:
a downloaded dataset file could name ``os.system``. ``load_data_pickle`` reads with an
unpickler whose ``find_class`` accepts only what real dataset files contain: plain
Python values (which need no global at all) and numpy arrays, dtypes and scalars.
Anything else is refused naming the file and the global, before it is imported.
"""

from __future__ import annotations

import importlib
import pickle
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from pegboard.errors import ConfigError

#: ``(module, name)`` globals a numpy array, dtype or scalar pickle needs, in numpy 1 and 2.
NUMPY_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        # Protocol 2 pickles written by Python 3 rebuild bytes with it: str.encode.
        ("_codecs", "encode"),
    }
)


class DataUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals it is given.

    Args:
        file: The open binary file.
        allowed: ``(module, name)`` pairs that may be looked up.
        source: The file's name, for messages.
        **options: Passed to ``pickle.Unpickler`` (``encoding="latin1"``).
    """

    def __init__(
        self, file: BinaryIO, allowed: Iterable[tuple[str, str]], source: str, **options: Any
    ) -> None:
        super().__init__(file, **options)
        self.allowed = frozenset(allowed)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        """Return an allowed global; refuse any other before importing its module.

        Args:
            module: The module the pickle names.
            name: The attribute the pickle names.
        """
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(
                f"it names {module}.{name}, which a data file has no need of "
                "(it would run code); refused"
            )
        if module.startswith("numpy.core."):
            # numpy 2 keeps these under numpy._core; the old path only warns.
            modern = "numpy._core." + module.removeprefix("numpy.core.")
            try:
                return getattr(importlib.import_module(modern), name)
            except ImportError:
                pass
        return getattr(importlib.import_module(module), name)


def load_data_pickle(
    path: Path,
    allowed: Iterable[tuple[str, str]] = NUMPY_GLOBALS,
    encoding: str = "ASCII",
    kind: str = "data file",
) -> Any:
    """Unpickle a dataset file, accepting plain values and the ``allowed`` globals only.

    Args:
        path: The file.
        allowed: ``(module, name)`` globals the file may use; numpy's by default.
        encoding: How Python 2 strings decode (``"latin1"`` for CIFAR's batches).
        kind: What the file is, for messages (``"CIFAR batch"``).

    Raises:
        ConfigError: The file is unreadable, truncated, or names any other global.
    """
    try:
        with path.open("rb") as handle:
            return DataUnpickler(handle, allowed, str(path), encoding=encoding).load()
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
    ) as error:
        raise ConfigError(f"{path} is not a readable {kind}: {error}") from error


__all__ = ["NUMPY_GLOBALS", "DataUnpickler", "load_data_pickle"]
