"""Check a command's groups, options and keys before Hydra runs, and say what would be right.

Hydra finds an unknown option or key only while it composes, and says so in its own
words. ``check_overrides`` reads the command line first, with Hydra's public override
parser, and checks each option against the option index (the project's, core's and the
packs' files), Hydra's own configs and its plugins, and each key against the config that
core's check composes anyway (``pegboard.runner.precheck``). A mistake is one line,
before any run folder exists, whatever the mode (a run, ``--multirun``, ``--cfg``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from pegboard.errors import ConfigError
from pegboard.plugin import config_options, folder_options
from pegboard.runner.app import HYDRA_PLUGIN_EXTRAS, HYDRA_PLUGIN_MODULES
from pegboard_launcher.index import CORE, PROJECT, OptionIndex, project_config_dir
from pegboard_launcher.reporting import (
    plugin_needed,
    primary_defaults,
    unknown_key,
    unknown_option,
)


def plugin_installed(extra: str) -> bool:
    """Whether the Hydra plugin of a pegboard-core extra is installed (found, not imported).

    Args:
        extra: A value of ``HYDRA_PLUGIN_EXTRAS``.
    """
    module = HYDRA_PLUGIN_MODULES.get(extra)
    try:
        return module is None or importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def group_options(
    group: str, index: OptionIndex, config_dir: str | None = None
) -> dict[str, list[str]]:
    """Every option of ``group`` with its providers: the index's, ``--config-dir``'s, Hydra's.

    Hydra's own options and its installed plugins' are in its ``ConfigStore`` (filled by
    Hydra's plugin scan) or in its ``hydra.conf`` package.

    Args:
        group: A config group, nested ones with ``/`` (``hydra/launcher``).
        index: What is installed.
        config_dir: Hydra's ``--config-dir``, when given.
    """
    from hydra.core.config_store import ConfigStore
    from hydra.core.object_type import ObjectType
    from hydra.core.plugins import Plugins

    top, _, sub = group.partition("/")
    prefix = f"{sub}/" if sub else ""
    found: dict[str, list[str]] = {}
    listings = [(folder_options(config_dir), ["--config-dir"])] if config_dir else []
    listings.append(({top: list(index.providers.get(top, {}))}, []))
    if top == "hydra":
        listings.append((config_options("hydra.conf"), ["hydra"]))
    for listing, source in listings:
        for name in listing.get(top, []):
            if name.startswith(prefix):
                found.setdefault(name[len(prefix) :], []).extend(
                    source or index.providers[top][name]
                )
    Plugins.instance()  # its scan stores Hydra's and the plugins' structured configs
    store = ConfigStore.instance()
    if store.get_type(group) == ObjectType.GROUP:
        for entry in store.list(group):
            if entry.endswith(".yaml"):
                node = store.load(f"{group}/{entry}")
                found.setdefault(entry[: -len(".yaml")], []).append(node.provider or "hydra")
    return dict(sorted(found.items()))


def _in_index(group: str, option: str, index: OptionIndex) -> bool:
    top, _, sub = group.partition("/")
    return (f"{sub}/{option}" if sub else option) in index.providers.get(top, {})


def _selected_plugins(group: str, option: str, index: OptionIndex) -> list[str]:
    """Plugin configs that the option's file selects in its defaults list.

    ``hydra/launcher/slurm.yaml`` lists ``submitit_slurm``; an ``hparams_search`` option
    lists ``override /hydra/sweeper: optuna``. Only the file Hydra will load (the
    first source of the index) is read; one that cannot be read is left to Hydra.
    """
    import yaml

    top, _, sub = group.partition("/")
    sources = index.providers.get(top, {}).get(f"{sub}/{option}" if sub else option, [])
    if not sources:
        return []
    try:
        if sources[0] == PROJECT:
            folder: Any = project_config_dir()
        else:
            package = "pegboard.conf" if sources[0] == CORE else _pack_configs(sources[0])
            folder = files(package) if package else None
        for part in group.split("/"):
            folder = folder / part if folder else None
        text = (folder / f"{option}.yaml").read_text() if folder else ""
        defaults = yaml.safe_load(text).get("defaults", []) if "defaults" in text else []
    except Exception:  # Hydra reads it again and says what is wrong with it
        return []
    selected = []
    for entry in defaults if isinstance(defaults, list) else []:
        pairs = entry.items() if isinstance(entry, dict) else [(entry, None)]
        for key, value in pairs:
            name = str(key).removeprefix("override ").removeprefix("optional ").split("@")[0]
            path = name if value is None else f"{name}/{value}"
            selected.append(path[1:] if path.startswith("/") else f"{group}/{path}")
    return [path for path in selected if path in HYDRA_PLUGIN_EXTRAS]


def _pack_configs(name: str) -> str | None:
    from pegboard_launcher.discovery import discover

    return next((p.manifest.configs for p in discover().packs if p.name == name), None)


def _values(override: Any) -> list[str]:
    """The options a group override names: one, a list, or each of a choice sweep."""
    from hydra.core.override_parser.types import ValueType

    if override.value_type in (ValueType.CHOICE_SWEEP, ValueType.SIMPLE_CHOICE_SWEEP):
        values: Any = list(override.sweep_string_iterator())
    elif override.is_sweep_override():
        return []  # glob() picks among existing options; a range is no option name
    else:
        value = override.value()
        values = value if isinstance(value, list) else [value]
    return [str(value) for value in values if value is not None]


def _check_group(override: Any, config_name: str, index: OptionIndex, config_dir: Any) -> None:
    group = override.key_or_group
    if override.value() is None and not override.is_delete():  # Hydra: a bare ValueError
        raise ConfigError(f"{override.input_line}: to leave the {group} option out, use ~{group}")
    for option in _values(override):
        if _in_index(group, option, index):
            for path in _selected_plugins(group, option, index):
                if not plugin_installed(HYDRA_PLUGIN_EXTRAS[path]):
                    raise ConfigError(plugin_needed(group, option, HYDRA_PLUGIN_EXTRAS[path]))
            continue
        options = group_options(group, index, config_dir)
        extra = HYDRA_PLUGIN_EXTRAS.get(f"{group}/{option}")
        if extra and not plugin_installed(extra):
            raise ConfigError(plugin_needed(group, option, extra))
        if option not in options and not extra:
            raise ConfigError(unknown_option(group, option, config_name, index, options))


def _check_key(cfg: Any, override: Any, index: OptionIndex) -> None:
    """Raise ``ConfigError`` when ``cfg`` has no key ``override`` sets or deletes."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    key = override.key_or_group
    parent, _, name = key.rpartition(".")
    try:
        node = OmegaConf.select(cfg, parent, throw_on_missing=False) if parent else cfg
        # keys(), not `in`: a value still ??? is a key that can be set.
        beside = [str(k) for k in node.keys()] if isinstance(node, DictConfig) else []  # noqa: SIM118
        if isinstance(node, ListConfig) or name in beside:
            return
    except Exception:  # an interpolation on the way: only Hydra's run can resolve it
        return
    candidates = [f"{parent}.{k}" if parent else k for k in beside]
    if not parent:
        candidates += index.groups()
    typed = (override.input_line or key).lstrip("+~")
    raise ConfigError(unknown_key(key, typed, candidates, override.is_delete()))


def _check_keys(
    keys: list[Any], parsed: list[Any], config_name: str, index: OptionIndex, config_dir: Any
) -> None:
    """Check the keys against the composed config (the one core's check reads too)."""
    from hydra.errors import ConfigCompositionException, MissingConfigException

    from pegboard.runner.app import CONFIG_MODULE
    from pegboard.runner.precheck import compose_command_config

    def compose(overrides: list[Any]) -> Any:
        lines = [override.input_line or "" for override in overrides]
        return compose_command_config(CONFIG_MODULE, config_name, lines, config_dir)

    fixed = {id(key) for key in keys if not key.is_sweep_override()}
    try:
        cfg = compose(parsed)
    except MissingConfigException:
        raise
    except ConfigCompositionException as error:
        # A key that is not there, or another mistake: the keys tell, composed without them.
        try:
            base = compose([override for override in parsed if id(override) not in fixed])
        except Exception:
            raise error from None
        for key in keys:
            if id(key) in fixed and not (key.is_add() or key.is_force_add()):
                _check_key(base, key, index)
        raise
    # Sweeps are not composed: their keys are checked here, unless a swept group (an
    # experiment, a model) may bring them.
    known = {id(key) for key in keys}
    if not any(o.is_sweep_override() for o in parsed if id(o) not in known):
        for key in keys:
            if key.is_sweep_override() and not (key.is_add() or key.is_force_add()):
                _check_key(cfg, key, index)


def check_overrides(command: str, argv: Sequence[str], index: OptionIndex) -> None:
    """Refuse unknown groups, options and keys of a command line before Hydra runs.

    Args:
        command: The runner command (its primary config).
        argv: The command's arguments: overrides and Hydra flags.
        index: What is installed.

    Raises:
        ConfigError: Naming the first unknown option or key and what would be right.
        OverrideParseException: An override that does not parse.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from pegboard._compat import hydra_args_parser
    from pegboard.runner.app import COMMANDS

    args = hydra_args_parser().parse_args(list(argv))
    if not args.overrides or args.help or args.hydra_help or args.shell_completion:
        return
    if args.config_path is not None or getattr(args, "experimental_rerun", None) is not None:
        return  # refused by run_command, in its own words
    config_name = args.config_name or COMMANDS[command].config
    parsed = OverridesParser.create().parse_overrides(list(args.overrides))
    # Folders added to the search path on the command line hold options the index lacks.
    searchpath = any(o.key_or_group.startswith("hydra.searchpath") for o in parsed)
    groups: set[str] = set(index.providers)
    if config_dir := args.config_dir:
        groups |= set(folder_options(config_dir))
    if any("/" not in o.key_or_group and o.key_or_group not in groups for o in parsed):
        groups |= set(primary_defaults(config_name))  # chosen by default, none installed
    keys = []
    for override in parsed:
        is_group = "/" in override.key_or_group or override.key_or_group in groups
        if not is_group or isinstance(override.value(), dict):
            keys.append(override)
        elif not searchpath:
            _check_group(override, config_name, index, config_dir)
    if any(not (key.is_add() or key.is_force_add()) for key in keys):
        _check_keys(keys, parsed, config_name, index, config_dir)


__all__ = ["check_overrides", "group_options", "plugin_installed"]
