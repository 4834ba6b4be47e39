"""Turn configuration mistakes into short messages that say what would be right."""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Callable, Sequence

from pegboard_launcher.index import FIRST_PARTY_PROVIDERS, OptionIndex

EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
#: Set to 1 to see the full traceback of configuration errors as well.
TRACEBACK_ENV = "PEGBOARD_TRACEBACK"

_MISSING = re.compile(r"Could not find '([^']+)'")
_OVERRIDE = re.compile(r"Could not override '([^']+)'")


def _closest(word: str, candidates: Sequence[str]) -> str:
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def _missing_groups(config_name: str, index: OptionIndex) -> list[str]:
    from pegboard_launcher.help import primary_defaults

    return [group for group in primary_defaults(config_name) if not index.options(group)]


def unknown_option(group: str, option: str, config_name: str, index: OptionIndex) -> str:
    """Message for ``group=option`` when no config file provides that option.

    Args:
        group: The config group.
        option: The option asked for.
        config_name: The primary config (its other empty groups are named too).
        index: What is installed.
    """
    options = index.options(group)
    if options:
        by_provider: dict[str, list[str]] = {}
        for name, sources in options.items():
            by_provider.setdefault(sources[0], []).append(name)
        listing = "; ".join(f"{', '.join(names)} ({who})" for who, names in by_provider.items())
        closest = _closest(option, list(options))
        return f"Unknown {group} option '{option}'.{closest} Available: {listing}"
    missing = _missing_groups(config_name, index)
    groups = missing if group in missing else [group, *missing]
    providers = [FIRST_PARTY_PROVIDERS[name] for name in groups if name in FIRST_PARTY_PROVIDERS]
    named = " and ".join(f"'{name}'" for name in groups)
    install = (
        f"pip install {' '.join(providers)}"
        if providers
        else f"install a pack that provides them, or add configs/{group}/{option}.yaml"
    )
    return f"No {named} options are installed ({group}={option} was asked for). To fix: {install}"


def _config_keys(key: str, argv: Sequence[str], config_name: str) -> list[str]:
    """Keys next to ``key`` in the config composed without the failing override."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import DictConfig, OmegaConf

    from pegboard._hydra_compat import VERSION_BASE
    from pegboard.runner.app import CONFIG_MODULE

    kept = [
        arg
        for arg in argv
        if "=" in arg and not arg.startswith("-") and not arg.lstrip("+~").startswith(key + "=")
    ]
    GlobalHydra.instance().clear()
    try:
        with initialize_config_module(CONFIG_MODULE, version_base=VERSION_BASE):
            cfg = compose(config_name, overrides=kept)
    except Exception:
        return []
    parent, _, _ = key.rpartition(".")
    node = OmegaConf.select(cfg, parent) if parent else cfg
    if not isinstance(node, DictConfig):
        return []
    prefix = f"{parent}." if parent else ""
    return [prefix + str(name) for name in node]


def unknown_key(
    key: str, value_hint: str, argv: Sequence[str], config_name: str, index: OptionIndex
) -> str:
    """Message for ``key=value`` when ``key`` is not in the composed config.

    Args:
        key: The dotted key that was overridden.
        value_hint: The override as typed, for the ``+key=value`` hint.
        argv: All arguments, to compose the config without the bad one.
        config_name: The primary config.
        index: What is installed (top-level keys may be groups).
    """
    candidates = _config_keys(key, argv, config_name)
    if "." not in key:
        candidates += index.groups()
    return (
        f"Unknown config key '{key}'.{_closest(key, candidates)} "
        f"To add a new key on purpose, use +{value_hint}"
    )


def unknown_resolver(error: BaseException) -> str:
    """The message for ``${name:...}`` whose resolver nobody registered, with the packs' own.

    Args:
        error: OmegaConf's ``UnsupportedInterpolationType``.
    """
    from pegboard.runner.precheck import unknown_resolver as message

    name = str(error).splitlines()[0].removeprefix("Unsupported interpolation type").strip()
    return message(name, getattr(error, "full_key", None))


def explain(error: BaseException, argv: Sequence[str], config_name: str, index: OptionIndex) -> str:
    """A short message for a Hydra or pegboard configuration error.

    Args:
        error: The exception.
        argv: The command's arguments.
        config_name: The primary config.
        index: What is installed.
    """
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import UnsupportedInterpolationType

    text = str(error)
    if isinstance(error, MissingConfigException) and (found := _MISSING.search(text)):
        group, _, option = found.group(1).rpartition("/")
        from pegboard.runner.app import HYDRA_PLUGIN_EXTRAS

        # A sweeper or launcher that a config selects comes from a Hydra plugin (an extra).
        if extra := HYDRA_PLUGIN_EXTRAS.get(found.group(1)):
            return (
                f"{group}={option} needs a Hydra plugin that is not installed. "
                f"To fix: pip install pegboard-core[{extra}]"
            )
        if group:
            return unknown_option(group, option, config_name, index)
    if (found := _OVERRIDE.search(text)) is not None:
        key = found.group(1)
        typed = next(
            (arg.lstrip("+~") for arg in argv if arg.lstrip("+~").startswith(key + "=")), key
        )
        return unknown_key(key, typed, argv, config_name, index)
    if isinstance(error, UnsupportedInterpolationType):
        return unknown_resolver(error)
    if isinstance(error, OverrideParseException):
        return (
            f"Cannot read the overrides: {text.splitlines()[0]}. Write them as "
            "key=value, group=option or +key=value; quote values with spaces or brackets."
        )
    return text.split("\nConfig search path:")[0].strip()


def report_error(message: str | BaseException) -> int:
    """Print ``pegboard: error: ...`` to stderr and return the exit code for config errors.

    Args:
        message: The error or its message.
    """
    print(f"pegboard: error: {message}", file=sys.stderr)
    return EXIT_CONFIG


def run_reporting_errors(
    run: Callable[[], None], command: str, argv: Sequence[str], index: OptionIndex
) -> int:
    """Run a Hydra command, reporting configuration errors briefly and crashes in full.

    Args:
        run: Runs the command.
        command: The runner command (for its primary config).
        argv: The command's arguments, for suggestions.
        index: What is installed.
    """
    from hydra.errors import ConfigCompositionException, HydraException
    from omegaconf.errors import OmegaConfBaseException
    from yaml import YAMLError

    from pegboard.errors import PegboardError

    # Hydra prints errors itself and exits unless this is set; pegboard prints them instead.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        run()
    except KeyboardInterrupt:
        print("pegboard: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (
        PegboardError,
        ConfigCompositionException,
        HydraException,
        OmegaConfBaseException,
        YAMLError,
    ) as error:
        if os.environ.get(TRACEBACK_ENV) == "1":
            raise
        if isinstance(error, PegboardError):
            return report_error(error)
        if isinstance(error, YAMLError):  # a config file that is not valid YAML
            return report_error(f"a config file is not valid YAML: {' '.join(str(error).split())}")
        from pegboard.runner.app import COMMANDS

        return report_error(explain(error, argv, COMMANDS[command].config, index))
    return 0
