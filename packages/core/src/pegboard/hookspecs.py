"""The hooks a pack may implement (plugin API 2): what pegboard calls, when, and with what.

A pack names one module of hook implementations in its manifest
(``Plugin(api=2, hooks="acme_pegboard.hooks")``) and marks each function with
``@pegboard.hookimpl``. pegboard imports that module only when a command that calls
hooks runs (``train``, ``eval``, ``predict``, ``export``, a pack's own command), never to
discover packs, list them, print help or print a config.

An implementation may take any subset of a spec's arguments, by name. Each pack's
implementation is called on its own: one that raises is reported with the pack and the
hook named, and the others still run. It fails the command only where its result is
needed (an export format the user asked for that its pack could not offer).

What a hook may and may not do is in docs/packs.md ("Hooks").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy

#: The pluggy project name: markers of any other project are not pegboard hooks.
PROJECT = "pegboard"
#: Marks a function of a pack's hook module as the implementation of a pegboard hook.
hookimpl = pluggy.HookimplMarker(PROJECT)
#: Marks the specifications below (for pegboard itself).
hookspec = pluggy.HookspecMarker(PROJECT)

#: The plugin API version each hook appeared in.
SINCE_API = {
    "pegboard_callbacks": 2,
    "pegboard_resolvers": 2,
    "pegboard_export_formats": 2,
    "pegboard_predict_formats": 2,
    "pegboard_commands": 2,
    "pegboard_run_finished": 2,
}


@hookspec
def pegboard_callbacks(cfg: Any, command: str) -> list[Any]:  # type: ignore[empty-body]
    """Lightning callbacks to add to a run's ``Trainer``. Since API 2.

    Called once per run, in every process of the run (DDP workers build their own
    ``Trainer``), after pegboard built the config's own callbacks.

    Args:
        cfg: The run's resolved config, read-only (``cfg.model``, ``cfg.trainer``...).
        command: ``"train"``, ``"eval"`` or ``"predict"``: the command whose Trainer this
            is. ``export`` runs no Trainer, so it does not call this hook.

    Returns:
        A list of ``pytorch_lightning.Callback`` instances (empty to add none).
    """


@hookspec
def pegboard_resolvers() -> dict[str, Any]:  # type: ignore[empty-body]
    """OmegaConf resolvers, registered before the command's config is composed. Since API 2.

    A config then writes ``${acme_name:ARGS}``. A name that another pack or OmegaConf
    already registered (``now``, ``oc.env``...) is refused, naming both.

    Returns:
        Resolver name to function, as ``OmegaConf.register_new_resolver`` takes them.
    """


@hookspec
def pegboard_export_formats() -> dict[str, Any]:  # type: ignore[empty-body]
    """Export formats offered as ``pegboard export format=NAME``. Since API 2.

    Each function is called as ``function(model, example_input, path)``: ``model`` is
    the checkpoint's LightningModule in eval mode on the CPU (``pegboard.export.exportable``
    gives the plain network to export), ``example_input`` a batch of real or random
    inputs, and ``path`` the suggested file in the run directory (``model.NAME``). It
    writes the artifact, checks it, and returns the path it wrote. A name that pegboard
    or another pack already offers is refused, naming both.

    Returns:
        Format name to function.
    """


@hookspec
def pegboard_predict_formats() -> dict[str, Any]:  # type: ignore[empty-body]
    """Prediction file formats offered as ``pegboard predict output_format=NAME``. Since API 2.

    Each function is called as ``function(rows, path)``: ``rows`` is a list of dicts,
    one per input, with the same columns as the CSV format (``index``, ``input`` when
    predicting files, ``prediction``, ``class_name`` and ``prob_<class>`` for classifiers),
    and ``path`` the suggested file (``predictions.NAME`` in the run directory). It
    returns the path it wrote.

    Returns:
        Format name to function.
    """


@hookspec
def pegboard_commands() -> dict[str, Any]:  # type: ignore[empty-body]
    """Sub-commands offered as ``pegboard NAME ARGS...``. Since API 2.

    Each function is called as ``function(argv)`` with the arguments after the command's
    name and returns the exit status (``None`` counts as 0). ``pegboard --help`` lists
    each command with the first line of the function's docstring, read from the hook
    module's source without importing it, when the hook returns a dict literal of
    functions defined in that module. A name of a built-in command or of another pack's
    command is refused, naming both.

    Returns:
        Command name to function.
    """


@hookspec
def pegboard_run_finished(run_dir: Path, cfg: Any, metrics: dict[str, float], status: str) -> None:
    """Called once when a run of ``train``, ``eval``, ``predict`` or ``export`` ends. Since API 2.

    Called on the launching process only (never in DDP workers), once per job of a
    multirun, whatever the outcome, after ``status.json`` is written.

    Args:
        run_dir: The run directory.
        cfg: The run's config, read-only.
        metrics: The final metrics (empty unless the run completed).
        status: ``"completed"``, ``"failed"`` or ``"interrupted"``.
    """


__all__ = ["PROJECT", "SINCE_API", "hookimpl", "hookspec"]
