"""Call the active packs' hooks: each pack on its own, every failure named, none silent.

The launcher records each active pack's hook module (``pegboard.runtime.set_hook_modules``);
``pack_hooks()`` imports those modules the first time a command calls a hook, registers
them with a pluggy ``PluginManager`` against ``pegboard.hookspecs``, and calls each
pack's implementation separately, so that one pack's exception is reported with its
name and the hook's while the other packs' results still count.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from pegboard.errors import PluginError
from pegboard.runtime import hook_modules

#: Resolver name -> the pack that registered it, for the whole process.
_RESOLVERS: dict[str, str] = {}


@dataclass(frozen=True)
class HookFailure:
    """A pack's hook module or one of its hooks that failed.

    Args:
        pack: The pack's distribution name.
        hook: The hook's name, or ``"hooks"`` when the module itself is unusable.
        error: What went wrong, in one line.
    """

    pack: str
    hook: str
    error: str

    def __str__(self) -> str:
        return f"pack {self.pack}: {self.hook} failed: {self.error}"


def one_line(error: BaseException) -> str:
    """``Type: message`` of an error, on one line (a pack's error in a report line)."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


class PackHooks:
    """The hook modules of the active packs, imported on first use, called pack by pack.

    Args:
        modules: Distribution name to the dotted name of its hook module.
    """

    def __init__(self, modules: Mapping[str, str]) -> None:
        self.modules = dict(modules)
        self.failures: list[HookFailure] = []
        self._manager: Any = None
        self._resolvers_registered = False

    @property
    def manager(self) -> Any:
        """The ``pluggy.PluginManager`` holding every usable hook module (built once)."""
        if self._manager is None:
            import pluggy

            from pegboard import hookspecs

            manager = pluggy.PluginManager(hookspecs.PROJECT)
            manager.add_hookspecs(hookspecs)
            for pack, module_name in sorted(self.modules.items()):
                self._register(manager, pack, module_name)
            self._manager = manager
        return self._manager

    def _register(self, manager: Any, pack: str, module_name: str) -> None:
        try:
            module = importlib.import_module(module_name)
            manager.register(module, name=pack)
            problem = unusable_hooks(manager, module)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # SystemExit too: a pack never ends the command
            problem = f"its hook module {module_name} cannot be used: {one_line(error)}"
        if problem:
            if manager.has_plugin(pack):
                manager.unregister(name=pack)
            self.fail(pack, "hooks", problem)

    def fail(self, pack: str, hook: str, error: BaseException | str) -> None:
        """Record and report a failure (one warning line, on the launching process).

        Args:
            pack: The pack's distribution name.
            hook: The hook's name.
            error: The exception, or what went wrong in words.
        """
        from pegboard.runner.rundir import is_launching_process

        text = error if isinstance(error, str) else one_line(error)
        failure = HookFailure(pack, hook, text)
        self.failures.append(failure)
        if is_launching_process():
            print(f"pegboard: warning: {failure}", file=sys.stderr, flush=True)

    def failures_of(self, hook: str) -> str:
        """The failures of ``hook`` (and of unusable modules), for an error's end.

        Args:
            hook: The hook's name.
        """
        related = [str(f) for f in self.failures if f.hook in (hook, "hooks")]
        return f" ({'; '.join(related)})" if related else ""

    def call(self, hook: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call every pack's implementation of ``hook``, each on its own.

        Args:
            hook: A hook of ``pegboard.hookspecs``.
            **kwargs: The spec's arguments; each implementation receives those it names.

        Returns:
            ``(pack, result)`` for every implementation that returned, by pack name.
        """
        if not self.modules:
            return []
        caller = getattr(self.manager.hook, hook)
        results = []
        for impl in sorted(caller.get_hookimpls(), key=lambda impl: impl.plugin_name):
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except KeyboardInterrupt:
                raise
            except Exception as error:
                self.fail(impl.plugin_name, hook, error)
                continue
            results.append((impl.plugin_name, result))
        return results

    def offers(self, hook: str, taken: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Merge the ``{name: function}`` dicts that ``hook`` returns, pack by pack.

        Args:
            hook: ``pegboard_resolvers``, ``pegboard_export_formats``...
            taken: Names pegboard offers itself, mapped to who offers them.

        Returns:
            Name to ``(pack, function)``.

        Raises:
            PluginError: Two packs, or a pack and pegboard, offer the same name.
        """
        owners = dict(taken or {})
        offered: dict[str, Any] = {}
        for pack, mapping in self.call(hook):
            if not isinstance(mapping, Mapping):
                self.fail(pack, hook, f"returned a {type(mapping).__name__}, not a dict")
                continue
            for name, function in mapping.items():
                if not isinstance(name, str) or not callable(function):
                    self.fail(pack, hook, f"{name!r} is not a name mapped to a function")
                    continue
                owner = owners.get(name) or (offered[name][0] if name in offered else None)
                if owner:
                    raise PluginError(
                        f"{name!r} ({hook}) is offered by both {owner} and {pack}: uninstall "
                        f"one, or disable it with --disable-plugins {pack}"
                    )
                offered[name] = (pack, function)
        return offered

    def register_resolvers(self) -> None:
        """Register every pack's OmegaConf resolvers (once per process).

        Raises:
            PluginError: A resolver's name is taken by another pack or by OmegaConf.
        """
        from omegaconf import OmegaConf

        if self._resolvers_registered:
            return
        self._resolvers_registered = True
        for name, (pack, function) in self.offers("pegboard_resolvers").items():
            if _RESOLVERS.get(name) == pack:
                continue  # registered in this process already (the previous command's)
            if name in _RESOLVERS or OmegaConf.has_resolver(name):
                raise PluginError(
                    f"resolver {name!r} of pack {pack} clashes with a resolver that OmegaConf "
                    "or pegboard already registers; the pack must rename it"
                )
            OmegaConf.register_new_resolver(name, function)
            _RESOLVERS[name] = pack

    def callbacks(self, cfg: Any, command: str) -> list[Any]:
        """The Lightning callbacks that packs add to a run (``pegboard_callbacks``).

        Args:
            cfg: The run's resolved config (a mapping); handed over read-only.
            command: ``"train"``, ``"eval"`` or ``"predict"``.
        """
        if not self.modules:
            return []
        import pytorch_lightning as pl

        found = []
        for pack, result in self.call("pegboard_callbacks", cfg=read_only(cfg), command=command):
            for item in _as_list(result):
                if isinstance(item, pl.Callback):
                    found.append(item)
                else:
                    self.fail(
                        pack,
                        "pegboard_callbacks",
                        f"returned a {type(item).__name__}, not a pytorch_lightning.Callback",
                    )
        return found


def _as_list(result: Any) -> Iterable[Any]:
    if result is None:
        return []
    return result if isinstance(result, list | tuple) else [result]


def unusable_hooks(manager: Any, module: ModuleType) -> str | None:
    """Why a registered hook module cannot be used, or ``None`` when it can.

    pluggy checks argument names against the specs when it registers a module; this
    adds what pluggy holds for later: a marked function that is no pegboard hook (a
    typo), and wrappers, which pegboard does not support (each pack is called alone).

    Args:
        manager: The plugin manager the module is registered with.
        module: The hook module.
    """
    from pegboard.hookspecs import SINCE_API

    for caller in manager.get_hookcallers(module) or ():
        if not caller.has_spec():
            known = ", ".join(sorted(SINCE_API))
            return f"{caller.name} is not a pegboard hook (the hooks are: {known})"
        for impl in caller.get_hookimpls():
            if impl.plugin is module and (impl.hookwrapper or impl.wrapper):
                return f"{caller.name} is a wrapper; pegboard hooks are plain functions"
    return None


def read_only(cfg: Any) -> Any:
    """``cfg`` as a read-only ``DictConfig``: hooks read the run's config, never change it.

    Args:
        cfg: A mapping or ``DictConfig``.
    """
    from omegaconf import DictConfig, OmegaConf

    node: Any = cfg if isinstance(cfg, DictConfig) else OmegaConf.create(dict(cfg))
    try:
        node = OmegaConf.create(OmegaConf.to_container(node, resolve=True))
    except Exception:  # a config that failed its run may not resolve: hand it over as is
        node = OmegaConf.create(OmegaConf.to_container(node, resolve=False))
    OmegaConf.set_readonly(node, True)
    return node


def registered_resolvers() -> dict[str, str]:
    """The resolvers packs registered in this process, by name, with the pack of each."""
    return dict(_RESOLVERS)


@functools.cache
def pack_hooks() -> PackHooks:
    """The hooks of the packs the launcher activated in this process (none without it)."""
    return PackHooks(hook_modules())


__all__ = [
    "HookFailure",
    "PackHooks",
    "one_line",
    "pack_hooks",
    "read_only",
    "registered_resolvers",
    "unusable_hooks",
]
