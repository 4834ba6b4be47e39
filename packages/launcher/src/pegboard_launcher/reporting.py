"""Report configuration mistakes in one line that says what would be right, and exit 2.

Unknown groups, options and keys are found before Hydra runs
(``pegboard_launcher.overrides``); the messages for them are here, with the reporting of
what can still come from Hydra or OmegaConf while a command runs. Hydra's exceptions are
told apart by their type and the config path they carry, not by Hydra's wording.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pegboard_launcher.index import FIRST_PARTY_PROVIDERS, OptionIndex

EXIT_CONFIG = 2
EXIT_INTERRUPTED = 130
#: Set to 1 to see the full traceback of configuration errors as well.
TRACEBACK_ENV = "PEGBOARD_TRACEBACK"


def closest(word: str, candidates: Sequence[str]) -> str:
    """`` Did you mean 'x'?`` for the candidate nearest to ``word``, or nothing.

    Args:
        word: What was typed.
        candidates: What exists.
    """
    match = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.5)
    return f" Did you mean '{match[0]}'?" if match else ""


def primary_defaults(config_name: str) -> dict[str, str]:
    """The group options that a primary config of core chooses (none for another config).

    Args:
        config_name: The primary config.
    """
    from pegboard_launcher.help import primary_defaults as chosen

    try:
        return chosen(config_name)
    except OSError:  # --config-name of a primary config that core does not ship
        return {}


def unknown_option(
    group: str,
    option: str,
    config_name: str,
    index: OptionIndex,
    options: dict[str, list[str]] | None = None,
) -> str:
    """Message for ``group=option`` when no config provides that option.

    Args:
        group: The config group.
        option: The option asked for.
        config_name: The primary config (its other empty groups are named too).
        index: What is installed.
        options: The group's options and their providers; the index's by default.
    """
    options = index.options(group) if options is None else options
    if options:
        by_provider: dict[str, list[str]] = {}
        for name, sources in options.items():
            by_provider.setdefault(sources[0], []).append(name)
        listing = "; ".join(f"{', '.join(names)} ({who})" for who, names in by_provider.items())
        closest_option = closest(option, list(options))
        return f"Unknown {group} option '{option}'.{closest_option} Available: {listing}"
    missing = [name for name in primary_defaults(config_name) if not index.options(name)]
    groups = missing if group in missing else [group, *missing]
    providers = [FIRST_PARTY_PROVIDERS[name] for name in groups if name in FIRST_PARTY_PROVIDERS]
    named = " and ".join(f"'{name}'" for name in groups)
    install = (
        f"pip install {' '.join(providers)}"
        if providers
        else f"install a pack that provides them, or add configs/{group}/{option}.yaml"
    )
    return f"No {named} options are installed ({group}={option} was asked for). To fix: {install}"


def plugin_needed(group: str, option: str, extra: str) -> str:
    """Message for ``group=option`` when it needs a Hydra plugin that is not installed.

    Args:
        group: The config group, as typed.
        option: The option, as typed.
        extra: The pegboard-core extra that installs the plugin.
    """
    return (
        f"{group}={option} needs a Hydra plugin that is not installed. "
        f"To fix: pip install pegboard-core[{extra}]"
    )


def unknown_key(key: str, typed: str, candidates: Sequence[str], deleting: bool = False) -> str:
    """Message for ``key=value`` (or ``~key``) when the composed config has no ``key``.

    Args:
        key: The dotted key.
        typed: The override as typed, without ``+``/``~``, for the ``+key=value`` hint.
        candidates: Keys that exist (beside it, and the groups for a top-level key).
        deleting: The override was ``~key``.
    """
    fix = (
        f"~{key} deletes only a key that the config has"
        if deleting
        else f"To add a new key on purpose, use +{typed}"
    )
    return f"Unknown config key '{key}'.{closest(key, candidates)} {fix}"


def missing_config(error: Any, config_name: str, index: OptionIndex | None) -> str | None:
    """The message for Hydra's ``MissingConfigException``, from the config path it names.

    Args:
        error: The exception; its ``missing_cfg_file`` is the config Hydra did not find.
        config_name: The primary config.
        index: What is installed (``None``: only a missing plugin is named).
    """
    from pegboard.runner.app import HYDRA_PLUGIN_EXTRAS

    path = getattr(error, "missing_cfg_file", None)
    # Hydra always sets it; an exception made without it can only name a plugin's path.
    path = path or next((known for known in HYDRA_PLUGIN_EXTRAS if known in str(error)), None)
    group, _, option = (path or "").rpartition("/")
    if extra := HYDRA_PLUGIN_EXTRAS.get(path or ""):
        return plugin_needed(group, option, extra)
    if not group or index is None:
        return None
    from pegboard_launcher.overrides import group_options

    return unknown_option(group, option, config_name, index, group_options(group, index))


def unknown_resolver(error: BaseException) -> str:
    """The message for ``${name:...}`` whose resolver nobody registered, with the packs' own.

    Args:
        error: OmegaConf's ``UnsupportedInterpolationType``.
    """
    from pegboard._compat import unsupported_resolver_name
    from pegboard.runner.precheck import unknown_resolver as message

    name = unsupported_resolver_name(error)
    return message(name, getattr(error, "full_key", None))


def explain(error: BaseException, argv: Sequence[str], config_name: str, index: OptionIndex) -> str:
    """A short message for a Hydra or OmegaConf error raised while a command runs.

    Args:
        error: The exception.
        argv: The command's arguments.
        config_name: The primary config.
        index: What is installed.
    """
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import UnsupportedInterpolationType

    text = str(error)
    missing = isinstance(error, MissingConfigException)
    if missing and (message := missing_config(error, config_name, index)):
        return message
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


__all__ = [
    "EXIT_CONFIG",
    "EXIT_INTERRUPTED",
    "TRACEBACK_ENV",
    "explain",
    "missing_config",
    "plugin_needed",
    "report_error",
    "run_reporting_errors",
    "unknown_key",
    "unknown_option",
    "unknown_resolver",
]
