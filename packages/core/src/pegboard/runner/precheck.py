"""Compose a command's config once before Hydra runs it, and check all of it.

Hydra acts on parts of the config before the job function starts: it builds
``hydra.callbacks``, configures logging from ``hydra.job_logging``, sets
``hydra.job.env_set`` and builds the sweeper and launcher. So the whole composed
config, ``hydra`` included, is checked here (``pegboard.config_guard``) through Hydra's
public compose API, before any run directory exists and before anything it names is
imported. The job checks its own resolved config again when it starts.

The launcher checks the command line's keys against the same composition before Hydra
runs; inside ``composing_once()`` both checks share it, so a command composes once here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

from pegboard._compat import VERSION_BASE
from pegboard.errors import ConfigError


class CommandLineConfigDir(SearchPathPlugin):
    """Adds ``--config-dir`` to the search path of the check's composition, as Hydra does."""

    folder: ClassVar[str | None] = None

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if self.folder:
            search_path.prepend(provider="command-line", path=f"file://{self.folder}")


def _fixed_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides without sweeps; a sweep over a Hydra key is refused."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    kept = []
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        if not override.is_sweep_override():
            kept.append(override.input_line or "")
            continue
        if override.get_key_element().lstrip("+~").startswith("hydra"):
            raise ConfigError(
                f"{override.input_line}: Hydra's own settings cannot be swept over; give one value"
            )
    return kept


#: Compositions kept for reuse, one dict per open ``composing_once()`` block (none outside).
_shared: list[dict[tuple[Any, ...], Any]] = []


@contextmanager
def composing_once() -> Iterator[None]:
    """Within this block, composing the same command line again reuses the first result.

    A command's checks (the launcher's and ``check_command_config``) read one
    composition instead of paying for Hydra's composition each. Outside the block
    every call composes afresh: the search path and the working directory may change.
    """
    _shared.append({})
    try:
        yield
    finally:
        _shared.pop()


def compose_command_config(
    config_module: str,
    config_name: str,
    overrides: Sequence[str],
    config_dir: str | None = None,
) -> Any:
    """``config_name`` composed with ``overrides``, sweeps left out, ``hydra`` node included.

    Hydra's public compose API, as the run will compose it. Treat the result as
    read-only: inside ``composing_once()`` other checks of the command read it too.

    Args:
        config_module: The package of the primary configs.
        config_name: The primary config.
        overrides: The command line's overrides (sweeps are left out).
        config_dir: Hydra's ``--config-dir``, when given.

    Raises:
        ConfigError: A sweep over one of Hydra's own settings.
    """
    from hydra import compose, initialize_config_module
    from hydra.core.plugins import Plugins

    key = (config_module, config_name, tuple(overrides), config_dir)
    if _shared and key in _shared[-1]:
        return _shared[-1][key]
    kept = _fixed_overrides(overrides)
    Plugins.instance().register(CommandLineConfigDir)
    CommandLineConfigDir.folder = str(Path(config_dir).resolve()) if config_dir else None
    try:
        with initialize_config_module(config_module, version_base=VERSION_BASE):
            cfg = compose(config_name, overrides=kept, return_hydra_config=True)
    finally:
        CommandLineConfigDir.folder = None
    if _shared:
        _shared[-1][key] = cfg
    return cfg


def check_command_config(
    config_module: str,
    config_name: str,
    overrides: Sequence[str],
    config_dir: str | None = None,
    file_names: Sequence[str] = (),
    values: bool = True,
) -> None:
    """Compose ``config_name`` with ``overrides`` and refuse what would run code.

    Args:
        config_module: The package of the primary configs.
        config_name: The primary config.
        overrides: The command line's overrides (sweeps are left out).
        config_dir: Hydra's ``--config-dir``, when given.
        file_names: Keys that name a file of the run directory (plain names only).
        values: Check the values too (paths, seed, required values, types), not only
            what could run code.

    Raises:
        ConfigError: See ``pegboard.config_guard.check_config``.
    """
    from omegaconf import OmegaConf

    from pegboard.config_guard import check_config, plain_name
    from pegboard.runner.requeue import check_slurm_commands
    from pegboard.runner.sources import check_sources

    cfg = compose_command_config(config_module, config_name, overrides, config_dir)
    tree = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(tree, dict)
    try:
        job_name = OmegaConf.select(cfg, "hydra.job.name", default=None)
    except Exception as error:  # an interpolation that does not resolve
        raise ConfigError(f"hydra.job.name does not resolve: {error}") from error
    plain = {str(key): value for key, value in tree.items()}
    check_config(plain, job_name)
    check_resolvers(plain)
    for key in file_names:
        if plain.get(key) is not None:
            plain_name(OmegaConf.select(cfg, key), key)
    if not values:
        return
    check_paths_and_seed(cfg)
    check_slurm_commands(cfg)  # hydra/launcher=slurm where sbatch is missing: one line
    if config_name == "train":
        check_train_values(cfg, plain)
    check_sources(cfg)  # tracking servers, models:/..., register=NAME, init_from


def unknown_resolver(name: str, where: str | None = None) -> str:
    """The message for ``${name:...}`` when no resolver of that name is registered.

    Args:
        name: The resolver's name.
        where: The config key whose value calls it.
    """
    from pegboard.hooks import pack_hooks, registered_resolvers

    registered = sorted(registered_resolvers().items())
    packs = ", ".join(f"{resolver} ({pack})" for resolver, pack in registered) or "none"
    failures = pack_hooks().failures_of("pegboard_resolvers")
    return (
        f"${{{name}:...}}{f' in {where}' if where else ''} calls a resolver that is not "
        f"registered; resolvers of the installed packs: {packs}; OmegaConf's and Hydra's "
        f"own: oc.env, oc.select, oc.decode, now, hydra...{failures}"
    )


_RESOLVER_CALL = re.compile(r"\$\{\s*([A-Za-z_][\w.\-]*)\s*:")


def check_resolvers(node: Any, key: str = "") -> None:
    """Refuse ``${name:...}`` whose resolver is not registered, before a run folder is made.

    Args:
        node: The composed config as plain containers, interpolations left in.
        key: The dotted key of ``node``.
    """
    from omegaconf import OmegaConf

    if key in ("hydra.overrides", "hydra.job.override_dirname"):
        return  # the command line as typed: kept as text, never resolved
    if isinstance(node, dict):
        for name, value in node.items():
            check_resolvers(value, f"{key}.{name}" if key else str(name))
    elif isinstance(node, list):
        for position, value in enumerate(node):
            check_resolvers(value, f"{key}[{position}]")
    elif isinstance(node, str):
        for name in _RESOLVER_CALL.findall(node):
            if not OmegaConf.has_resolver(name):
                raise ConfigError(unknown_resolver(name, key))


def check_paths_and_seed(cfg: Any) -> None:
    """Refuse an unusable ``paths.log_dir`` or an out-of-range ``seed`` before the run.

    Args:
        cfg: The composed config.
    """
    from omegaconf import OmegaConf

    from pegboard.runner.build import check_log_dir, check_seed

    log_dir = OmegaConf.select(cfg, "paths.log_dir", default=None)
    if log_dir is not None:
        check_log_dir(log_dir)
    if "seed" in cfg:
        check_seed(OmegaConf.select(cfg, "seed"))


def _tolerant(cfg: Any, path: str) -> Any:
    """The value at ``path`` resolved, or ``UNRESOLVED`` where only Hydra's runtime can."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    from pegboard.runner.validate import UNRESOLVED

    try:
        node = OmegaConf.select(cfg, path, throw_on_missing=True)
    except Exception:
        return UNRESOLVED
    if isinstance(node, DictConfig):
        return {str(key): _tolerant(cfg, f"{path}.{key!s}") for key in node}
    if isinstance(node, ListConfig):
        return [_tolerant(cfg, f"{path}[{index}]") for index in range(len(node))]
    return node


def _described_later(node: Any, job: dict[str, Any]) -> Any:
    """The model node with values taken from data keys the data describes at run time."""
    from pegboard.runner.describe import undescribed
    from pegboard.runner.validate import UNRESOLVED

    data = job.get("data")
    later = undescribed(data) if isinstance(data, dict) else []
    raw = job.get("model")
    if not later or not isinstance(node, dict) or not isinstance(raw, dict):
        return node
    return {
        key: UNRESOLVED
        if isinstance(raw.get(key), str) and any(f"data.{name}" in raw[key] for name in later)
        else value
        for key, value in node.items()
    }


def check_train_values(cfg: Any, tree: dict[str, Any]) -> None:
    """Refuse a missing required value or a value of the wrong type before the run starts.

    The job checks the same again; here they stop the command before Hydra makes a run
    directory or the config tree is printed.

    Args:
        cfg: The composed config (with its ``hydra`` node).
        tree: The same as plain containers, interpolations left in.
    """
    from pegboard.runner.build import missing_value_error, named_nodes
    from pegboard.runner.ranks import check_nodes_have_a_launcher
    from pegboard.runner.task_fit import check_task_fit, described_values, runtime_choices
    from pegboard.runner.validate import check_node

    job = {key: value for key, value in tree.items() if key != "hydra"}
    missing_value_error(job)
    if isinstance(job.get("model"), dict) and isinstance(job.get("data"), dict):
        target = job["model"].get("_target_")
        check_task_fit(target, described_values(cfg, "data"), runtime_choices(cfg))
    nodes = [key for key in ("trainer", "data", "model") if isinstance(job.get(key), dict)] + [
        f"{group}.{name}" for group in ("callbacks", "logger") for name in named_nodes(job, group)
    ]
    for path in nodes:
        node = _tolerant(cfg, path)
        if path == "model":
            node = _described_later(node, job)
        check_node(node, path)
    # More nodes than this one, and nothing will start the others: Lightning would wait.
    check_nodes_have_a_launcher(
        _tolerant(cfg, "trainer.num_nodes"), _tolerant(cfg, "hydra.launcher._target_")
    )


__all__ = [
    "check_command_config",
    "check_resolvers",
    "compose_command_config",
    "composing_once",
    "unknown_resolver",
]
