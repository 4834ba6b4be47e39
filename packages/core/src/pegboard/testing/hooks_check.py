"""Kit check of a pack's hook module: every implementation fits a spec of ``pegboard.hookspecs``."""

from __future__ import annotations

import importlib
import inspect

from pegboard.plugin import HOOKS_API
from pegboard.testing.checks import _imported_by, load_plugin


def check_hooks(plugin: str) -> list[str]:
    """Check the manifest's hook module against the hook specs, argument names included.

    The module must import without torch or Lightning (commands that never build a
    Trainer, such as a pack's own command, must stay quick), register with pluggy
    against the specs, implement only hooks that exist (a misspelt hook would never be
    called), mark no function named ``pegboard_*`` without ``@hookimpl`` (it would be
    ignored), and use no pluggy wrappers.

    Args:
        plugin: The manifest's ``"module:attr"`` path.

    Returns:
        The hooks the module implements (empty for a pack without hooks).
    """
    import pluggy

    from pegboard import hookspecs
    from pegboard.hooks import unusable_hooks

    manifest = load_plugin(plugin)
    if manifest.hooks is None:
        return []
    assert manifest.api >= HOOKS_API, f"{plugin}: hooks need api={HOOKS_API} or later"
    heavy = _imported_by(manifest.hooks)
    assert not heavy, (
        f"importing {manifest.hooks} imports {', '.join(heavy)}; import them inside the "
        "hook that needs them"
    )
    module = importlib.import_module(manifest.hooks)
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    try:
        manager.register(module)
    except pluggy.PluginValidationError as error:
        message = f"{manifest.hooks} does not fit pegboard.hookspecs: {error}"
        raise AssertionError(message) from error
    problem = unusable_hooks(manager, module)
    assert problem is None, f"{manifest.hooks}: {problem}"
    implemented = sorted(caller.name for caller in manager.get_hookcallers(module) or ())
    unmarked = [
        name
        for name, value in inspect.getmembers(module, inspect.isfunction)
        if name.startswith("pegboard_") and name not in implemented
    ]
    assert not unmarked, (
        f"{manifest.hooks}: {', '.join(unmarked)} look like hooks but are not marked "
        "@pegboard.hookimpl, so pegboard never calls them"
    )
    assert implemented, f"{manifest.hooks} implements no pegboard hook"
    return implemented


__all__ = ["check_hooks"]
