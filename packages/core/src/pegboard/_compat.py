"""The one place pegboard depends on how Hydra, Lightning, torch and OmegaConf work inside.

Each entry is behaviour or a name that the dependency offers only privately (Hydra's
argument parser, Lightning's rebuilding of a module from a checkpoint already read,
torch's fused lerp), or a text of theirs that pegboard must recognise. Everything else
in pegboard uses public APIs. ``tests/test_hydra_compat.py`` and
``tests/test_lightning_compat.py`` fail when a dependency changes any entry here, so an
upgrade breaks a test, never a user's run.

Hydra: commands run through ``hydra.main``, Hydra's public entry point. Before that,
pegboard reads the same arguments ``hydra.main`` will (overrides, ``--cfg``,
``--config-dir``...) to check the config before any run folder exists; Hydra offers its
argument parser only as ``hydra._internal.utils.get_args_parser``.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch and Lightning load with the code that calls these, not before
    import pytorch_lightning as pl
    import torch

# -- Hydra ------------------------------------------------------------------------------

#: The Hydra behaviour level of every composition pegboard makes (runs, checks, the kit).
VERSION_BASE = "1.3"
#: Hydra's own sweeper and launcher, as ``hydra.sweeper._target_`` and
#: ``hydra.launcher._target_`` name them: private modules, named (never imported) here.
BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
BASIC_LAUNCHER = "hydra._internal.core_plugins.basic_launcher.BasicLauncher"


def hydra_args_parser() -> argparse.ArgumentParser:
    """Hydra's command-line parser: overrides, ``--cfg``, ``--multirun``, ``--info``..."""
    from hydra._internal.utils import get_args_parser

    return get_args_parser()


# -- Lightning and torch ----------------------------------------------------------------

#: Where Lightning stores the weights in a checkpoint (it has no public constant for it).
STATE_DICT_KEY = "state_dict"
#: Where Lightning stores each callback's state (``Callback.state_key`` within it).
CALLBACKS_KEY = "callbacks"
#: The start of torch's FutureWarning about ``LeafSpec``, which Lightning triggers on
#: every batch. A literal without commas: PYTHONWARNINGS separates entries with commas.
LEAFSPEC_WARNING = "`isinstance(treespec"


def datamodule_state_key(datamodule_class: type) -> str:
    """The key under which Lightning saves ``datamodule.state_dict()`` in a checkpoint.

    Args:
        datamodule_class: The datamodule's class.
    """
    return datamodule_class.__qualname__


def module_from_checkpoint(
    cls: type[pl.LightningModule], checkpoint: dict[str, Any]
) -> pl.LightningModule:
    """``cls.load_from_checkpoint`` for a checkpoint that is already read.

    Lightning's method takes a file and reads it again; the steps it takes after reading
    (``lightning.pytorch.core.saving._load_state``) are the public ones below: the saved
    hyperparameters to the constructor, ``configure_model``, ``on_load_checkpoint``,
    then ``load_state_dict`` under the module's ``strict_loading``.

    Args:
        cls: The LightningModule class the checkpoint's config names (allow-listed).
        checkpoint: The checkpoint, read with ``weights_only=True``.

    Raises:
        ValueError: The checkpoint asks for a custom instantiator (LightningCLI's), which
            pegboard never writes and would have to import by name.
    """
    import pytorch_lightning as pl

    saved = dict(checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_KEY) or {})
    if "_instantiator" in saved:
        raise ValueError("it names an instantiator (_instantiator), which pegboard never loads")
    parameters = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    named = checkpoint.get(cls.CHECKPOINT_HYPER_PARAMS_NAME)
    if named and named in parameters:  # save_hyperparameters(config): one argument
        saved = {named: saved}
    if not takes_any:
        saved = {key: value for key, value in saved.items() if key in parameters}
    module = cls(**saved)
    if type(module).configure_model is not pl.LightningModule.configure_model:
        module.configure_model()
    module.on_load_checkpoint(checkpoint)
    module.load_state_dict(checkpoint[STATE_DICT_KEY], strict=module.strict_loading)
    return module


def foreach_lerp_(
    ends: Sequence[torch.Tensor], targets: Sequence[torch.Tensor], weight: float
) -> None:
    """``end += weight * (target - end)`` for every pair, in one fused kernel where possible.

    ``torch._foreach_lerp_`` is what ``torch.optim.swa_utils`` uses for its averages; it
    is not public, so a torch without it gets the same update tensor by tensor.

    Args:
        ends: The tensors updated in place.
        targets: The tensors they move towards.
        weight: How far they move (0 to 1).
    """
    import torch

    fused = getattr(torch, "_foreach_lerp_", None)
    if fused is not None:
        fused(list(ends), list(targets), weight)
        return
    for end, target in zip(ends, targets, strict=True):
        end.lerp_(target, weight)


def saved_hyperparameters(
    checkpoint: Mapping[str, Any], datamodule: bool = False
) -> dict[str, Any]:
    """The hyperparameters Lightning saved for the model (or the datamodule).

    Args:
        checkpoint: A checkpoint read with ``weights_only=True``.
        datamodule: The datamodule's instead of the model's.
    """
    import pytorch_lightning as pl

    owner = pl.LightningDataModule if datamodule else pl.LightningModule
    return dict(checkpoint.get(owner.CHECKPOINT_HYPER_PARAMS_KEY) or {})


# -- OmegaConf -------------------------------------------------------------------------

#: How OmegaConf's ``UnsupportedInterpolationType`` message begins, before the name.
UNSUPPORTED_INTERPOLATION = "Unsupported interpolation type"


def unsupported_resolver_name(error: BaseException) -> str:
    """The resolver name in OmegaConf's ``UnsupportedInterpolationType`` (it has no field).

    Args:
        error: The exception OmegaConf raised for ``${name:...}``.
    """
    first = (str(error).splitlines() or [""])[0]
    return first.removeprefix(UNSUPPORTED_INTERPOLATION).strip()


__all__ = [
    "BASIC_LAUNCHER",
    "BASIC_SWEEPER",
    "CALLBACKS_KEY",
    "LEAFSPEC_WARNING",
    "STATE_DICT_KEY",
    "UNSUPPORTED_INTERPOLATION",
    "VERSION_BASE",
    "datamodule_state_key",
    "foreach_lerp_",
    "hydra_args_parser",
    "module_from_checkpoint",
    "saved_hyperparameters",
    "unsupported_resolver_name",
]
