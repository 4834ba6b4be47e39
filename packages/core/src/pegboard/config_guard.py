"""Check a whole composed config, ``hydra`` included, for anything that would run code.

``pegboard.targets`` decides which ``_target_`` may be built. A composed config has more
places where a value turns into an import, a call, a shell line or a file write, and
Hydra acts on them before the job starts. Each is checked here, before Hydra runs:

* every ``_target_`` node anywhere (``hydra.callbacks``, ``hydra.sweeper``,
  ``hydra.launcher`` and their nested nodes included), written out, never interpolated;
* ``hydra.job_logging`` and ``hydra.hydra_logging``, which ``logging.config`` turns into
  objects: handler and formatter classes and ``()`` factories from ``LOGGING_CLASSES``
  only, no ``.`` attribute setting, ``ext://`` only for ``sys.stdout``/``sys.stderr``,
  and log files only inside the run directory;
* ``hydra.job.env_set``: no variable that decides what code a process loads
  (``LD_*``, ``PYTHON*``, ``PATH``...) or pegboard's own settings (``PEGBOARD_*``);
* ``hydra.launcher``: no line breaks in any value (each lands in a batch script), and
  no ``setup`` or ``srun_args`` shell lines unless ``PEGBOARD_ALLOW_SHELL=1`` is set;
* ``hydra.sweeper.custom_search_space``: a function Optuna calls, so it must be listed
  in ``PEGBOARD_ALLOW_TARGETS``;
* ``hydra.job.name`` (the log file's name): a plain file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pegboard.errors import ConfigError
from pegboard.targets import ALLOW_ENV, check_target, check_targets

#: Environment variable: set to 1 to let launcher configs run shell lines (``setup``).
SHELL_ENV = "PEGBOARD_ALLOW_SHELL"
#: What ``logging.config`` may build from ``class`` or ``()`` in Hydra's logging configs.
LOGGING_CLASSES = frozenset(
    {
        "logging.Formatter",
        "logging.Filter",
        "logging.StreamHandler",
        "logging.FileHandler",
        "logging.NullHandler",
        "logging.handlers.RotatingFileHandler",
        "logging.handlers.TimedRotatingFileHandler",
        "logging.handlers.WatchedFileHandler",
        "colorlog.ColoredFormatter",
    }
)
_STREAMS = frozenset({"ext://sys.stdout", "ext://sys.stderr"})
_RUN_DIR = ("${hydra.runtime.output_dir}/", "${hydra:runtime.output_dir}/")
#: Environment variables that decide what code a process loads, or pegboard's settings.
_CODE_LOADING_ENV = re.compile(r"^(LD_|DYLD_|PYTHON|PEGBOARD_)|^(PATH|BASH_ENV|ENV)$")
_SHELL_KEYS = ("setup", "srun_args")


def plain_name(value: Any, key: str) -> str:
    """Refuse a value used as a file or folder name that could point elsewhere.

    Args:
        value: The value.
        key: Its key, for the message.

    Returns:
        The name, as a string.
    """
    name = str(value)
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ConfigError(
            f"{key}={value!r} must be a plain file name (no '/', '\\' or '..'): "
            "it names a file inside the run directory"
        )
    return name


def _strings(tree: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(tree, list | tuple):
        for position, value in enumerate(tree):
            yield from _strings(value, f"{path}[{position}]")
    elif isinstance(tree, str):
        yield path, tree


def _logging_class(value: Any, where: str) -> None:
    import os

    allowed = {name.strip() for name in os.environ.get(ALLOW_ENV, "").split(",")}
    if value not in LOGGING_CLASSES and value not in allowed:
        raise ConfigError(
            f"{where}={value!r} is refused: logging configs may build only "
            f"{', '.join(sorted(LOGGING_CLASSES))}. To allow it on purpose, set "
            f"{ALLOW_ENV}={value}"
        )


def _log_file(value: Any, where: str, job_name: str | None) -> None:
    text = str(value)
    prefix = next((p for p in _RUN_DIR if text.startswith(p)), None)
    rest = text[len(prefix) :] if prefix else ""
    if rest in ("${hydra.job.name}.log", "${hydra:job.name}.log") and job_name is not None:
        rest = f"{job_name}.log"
    if prefix is None or "${" in rest or not rest or "/" in rest or ".." in rest:
        raise ConfigError(
            f"{where}={text!r} is refused: a log file must be a plain name inside the run "
            "directory, such as ${hydra.runtime.output_dir}/train.log"
        )


def check_logging(tree: Any, path: str, job_name: str | None = None) -> None:
    """Check a ``logging.config`` dictionary (``hydra.job_logging``) for code and writes.

    Args:
        tree: The logging config, as plain containers with interpolations left in.
        path: Its key, for messages.
        job_name: The resolved ``hydra.job.name``, which the log file is named after.
    """
    if not isinstance(tree, Mapping):
        return
    for where, text in _strings(tree, path):
        if text.startswith("ext://") and text not in _STREAMS:
            raise ConfigError(
                f"{where}={text!r} is refused: logging configs may refer to "
                "ext://sys.stdout and ext://sys.stderr only"
            )
    for section in ("formatters", "filters", "handlers"):
        for name, entry in (tree.get(section) or {}).items():
            where = f"{path}.{section}.{name}"
            if not isinstance(entry, Mapping):
                continue
            if "." in entry:
                raise ConfigError(f"{where}.'.' is refused: it sets attributes on the object")
            for key in ("()", "class"):
                if key in entry:
                    _logging_class(entry[key], f"{where}.{key}")
            if "filename" in entry:
                _log_file(entry["filename"], f"{where}.filename", job_name)


def check_environment(env_set: Any, path: str = "hydra.job.env_set") -> None:
    """Refuse ``env_set`` variables that decide what code runs, or pegboard's own.

    Args:
        env_set: The mapping of variable to value.
        path: Its key, for messages.
    """
    for name in env_set or {}:
        if _CODE_LOADING_ENV.search(str(name)):
            raise ConfigError(
                f"{path}.{name} is refused: configs may not set variables that decide "
                "what code a process loads (LD_*, DYLD_*, PYTHON*, PATH) or pegboard's "
                "own settings (PEGBOARD_*); set it in the shell instead"
            )


def check_launcher(launcher: Any, path: str = "hydra.launcher") -> None:
    """Refuse launcher values that would become shell lines.

    Args:
        launcher: The ``hydra.launcher`` node.
        path: Its key, for messages.
    """
    import os

    if not isinstance(launcher, Mapping):
        return
    for where, text in _strings(launcher, path):
        if "\n" in text or "\r" in text:
            raise ConfigError(f"{where} is refused: a launcher value may not hold a line break")
    if os.environ.get(SHELL_ENV) == "1":
        return
    for key in _SHELL_KEYS:
        if launcher.get(key):
            raise ConfigError(
                f"{path}.{key}={launcher[key]!r} is refused: these lines run in a shell on "
                f"the cluster. To allow shell lines from configs on purpose, set {SHELL_ENV}=1"
            )


def check_hydra(hydra: Mapping[str, Any], job_name: str | None = None) -> None:
    """Check the parts of the ``hydra`` node that Hydra turns into code, calls or writes.

    Args:
        hydra: The ``hydra`` node, as plain containers with interpolations left in.
        job_name: The resolved ``hydra.job.name``.
    """
    job = hydra.get("job") or {}
    if job_name is not None:
        plain_name(job_name, "hydra.job.name")
    for key in ("job_logging", "hydra_logging"):
        check_logging(hydra.get(key), f"hydra.{key}", job_name)
    check_environment(job.get("env_set"))
    check_launcher(hydra.get("launcher"))
    sweeper = hydra.get("sweeper") or {}
    if isinstance(sweeper, Mapping) and sweeper.get("custom_search_space"):
        check_target(sweeper["custom_search_space"], "hydra.sweeper", key="custom_search_space")


def check_config(tree: Mapping[str, Any], job_name: str | None = None) -> None:
    """Check a whole config: every ``_target_``, and the ``hydra`` node when present.

    Args:
        tree: The config as plain containers (interpolations may be left in).
        job_name: The resolved ``hydra.job.name``, when the config has a ``hydra`` node.

    Raises:
        ConfigError: The first thing that would run code, naming the key and the fix.
    """
    check_targets(tree)
    hydra = tree.get("hydra")
    if isinstance(hydra, Mapping):
        check_hydra(hydra, job_name)


def check_checkpoint_config(
    config: Mapping[str, Any], checkpoint: Mapping[str, Any], source: Any
) -> None:
    """Refuse a checkpoint whose stored config would build anything off the allow-list.

    A checkpoint is a file from anywhere. Its config is held to the same list as the
    command line, and its ``model`` and ``data`` must name classes that an active pack,
    pegboard or the project advertises; the hyperparameters Lightning passes back to
    the constructors are checked too. Nothing is imported before this passes.

    Args:
        config: The config stored in the checkpoint.
        checkpoint: The whole loaded checkpoint (its hyperparameters).
        source: The checkpoint, for the message.

    Raises:
        ConfigError: Naming the checkpoint, the node and why.
    """
    from pegboard.targets import advertised

    try:
        check_config(config)
        for section in ("model", "data"):
            node = config.get(section)
            target = node.get("_target_") if isinstance(node, Mapping) else None
            if target is not None and not advertised(str(target)):
                raise ConfigError(
                    f"{section}._target_={target!r} is not a {section} class that an active "
                    "pack, pegboard or the project advertises"
                )
        # Only reached with a checkpoint in hand: torch and Lightning are loaded already.
        import pytorch_lightning as pl

        for owner in (pl.LightningModule, pl.LightningDataModule):
            key = owner.CHECKPOINT_HYPER_PARAMS_KEY  # what Lightning saved hparams under
            check_targets(checkpoint.get(key) or {}, key)
    except ConfigError as error:
        raise ConfigError(
            f"ckpt_path={source} is refused (nothing from it was built): its stored {error}"
        ) from error


__all__ = [
    "LOGGING_CLASSES",
    "SHELL_ENV",
    "check_checkpoint_config",
    "check_config",
    "check_environment",
    "check_hydra",
    "check_launcher",
    "check_logging",
    "plain_name",
]
