"""``pegboard --help`` and ``pegboard <command> --help``: every group, option and provider."""

from __future__ import annotations

from importlib.resources import files

from omegaconf import OmegaConf

from pegboard.runner.app import COMMANDS
from pegboard_launcher.commands import builtin_commands, pack_commands
from pegboard_launcher.discovery import Discovery
from pegboard_launcher.index import OptionIndex

HYDRA_FLAGS = """\
Hydra flags:
  --cfg job [--resolve]     print the composed config and exit (add --package NAME for a part)
  --multirun, -m            run one job per combination of comma-separated values
  --info [searchpath|...]   show Hydra's search path, defaults tree and plugins
  --hydra-help              Hydra's own help
  --shell-completion, -sc   install=bash|zsh|fish: tab-complete groups and options
"""


def main_help(discovery: Discovery) -> str:
    """Usage of the ``pegboard`` command, with the commands packs add (nothing imported).

    Args:
        discovery: The discovered packs.
    """
    summaries = builtin_commands()
    listing = pack_commands(discovery)
    for command in listing.usable:
        summary = f"{command.summary} " if command.summary else ""
        summaries[command.name] = f"{summary}({command.pack})"
    width = max(len(name) for name in summaries)
    commands = "\n".join(f"  {name:<{width}}  {text}" for name, text in summaries.items())
    commands += "".join(f"\n  note: {note}" for note in (*listing.refused, *listing.unlisted))
    return (
        "usage: pegboard COMMAND [OVERRIDES...]\n"
        "       pegboard [PLUGIN OPTIONS] COMMAND [OVERRIDES...]\n\n"
        "Train, evaluate and ship Lightning models from Hydra configs and installed packs.\n\n"
        f"Commands:\n{commands}\n\n"
        "Options:\n"
        "  -h, --help     show this help (pegboard COMMAND --help for a command's groups)\n"
        "  --version      show the versions of pegboard and the installed packs\n\n"
        "Plugin options (before COMMAND; DDP workers inherit them):\n"
        "  --disable-plugins A,B  never load these packs (PEGBOARD_DISABLE_PLUGINS)\n"
        "  --only-plugins A,B     load only these packs (PEGBOARD_ONLY_PLUGINS)\n"
        "  --strict-plugins       a broken or incompatible pack is an error "
        "(PEGBOARD_STRICT_PLUGINS=1)\n\n"
        "Example:\n  pegboard train model=mlp data=digits trainer.max_epochs=3 seed=1\n"
    )


def primary_defaults(config_name: str) -> dict[str, str]:
    """The group options a primary config chooses by default (``{"model": "cnn", ...}``).

    Args:
        config_name: A primary config of pegboard-core, such as ``train``.
    """
    text = (files("pegboard.conf") / f"{config_name}.yaml").read_text()
    primary = OmegaConf.to_container(OmegaConf.create(text))
    assert isinstance(primary, dict)
    chosen: dict[str, str] = {}
    for entry in primary.get("defaults", []):
        if isinstance(entry, dict):
            chosen.update({str(group): str(option) for group, option in entry.items() if option})
    return chosen


def command_help(command: str, index: OptionIndex) -> str:
    """Help of one Hydra command: its groups and options, the default and provider of each.

    Args:
        command: A runner command such as ``train``.
        index: The option index of this process.
    """
    defaults = primary_defaults(COMMANDS[command].config)
    lines = [
        f"usage: pegboard {command} [GROUP=OPTION ...] [KEY=VALUE ...] [HYDRA FLAGS]",
        "",
        COMMANDS[command].summary,
        "Choose an option of a group with GROUP=OPTION, set any value with KEY=VALUE,",
        "add a key with +KEY=VALUE. The default of each group is marked with *.",
        "",
        "Config groups:",
    ]
    for group in index.groups():
        lines.append(f"  {group}:")
        options = index.options(group)
        width = max(len(option) for option in options) + 2
        for option, sources in options.items():
            mark = "*" if defaults.get(group) == option else " "
            origin = sources[0] + (
                f" (shadows {', '.join(sources[1:])})" if len(sources) > 1 else ""
            )
            lines.append(f"    {option + ' ' + mark:<{width}} {origin}")
    missing = [group for group in defaults if group not in index.providers]
    for group in missing:
        lines.append(f"  {group}: (no option installed; the default is {defaults[group]})")
    lines += [
        "",
        HYDRA_FLAGS,
        f"Example:\n  pegboard {command} model=mlp trainer.max_epochs=3 seed=1",
    ]
    return "\n".join(lines) + "\n"
