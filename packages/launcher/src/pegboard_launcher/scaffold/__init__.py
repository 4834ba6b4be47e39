"""``pegboard new-pack NAME --kind models|data|both``: write a ready-to-publish pack.

The templates (``templates/*.tmpl``) are rendered with ``string.Template``; YAML
interpolations are written ``$${...}`` in them. The pack that comes out installs, passes
its own conformance tests and trains through ``pegboard train`` without edits.
"""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from pegboard.errors import PegboardError
from pegboard.plugin import API_VERSION

KINDS = ("models", "data", "both", "hooks")
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
#: Import names a pack must not take: they would shadow pegboard, its dependencies or tests.
RESERVED = {
    "pegboard",
    "pegboard_launcher",
    "pegboard_models_vision",
    "pegboard_data_vision",
    "torch",
    "lightning",
    "pytorch_lightning",
    "hydra",
    "omegaconf",
    "test",
    "tests",
}


class ScaffoldError(PegboardError):
    """The pack cannot be written (a bad name, an existing folder)."""


@dataclass(frozen=True)
class PackNames:
    """Every name of a new pack, derived from the one the user gives.

    Args:
        dist: Distribution name (``acme-vision``), also the entry-point name.
        module: Import name (``acme_vision``); options are prefixed with it.
        camel: Class-name prefix (``AcmeVision``).
    """

    dist: str
    module: str
    camel: str

    @property
    def model_option(self) -> str:
        """The sample model's option (``acme_vision_net``)."""
        return f"{self.module}_net"

    @property
    def data_option(self) -> str:
        """The sample data's option (``acme_vision_blobs``)."""
        return f"{self.module}_blobs"


def pack_names(name: str) -> PackNames:
    """Validate ``name`` and derive the distribution, module and class names.

    Args:
        name: Lower-case letters and digits, words joined by ``-`` or ``_``.

    Raises:
        ScaffoldError: The name cannot make a distribution and an importable module.
    """
    if not _NAME.match(name):
        raise ScaffoldError(
            f"pack name {name!r} is not valid: use lower-case letters and digits, words "
            "joined by '-' or '_', starting with a letter (for example acme-vision)"
        )
    module = name.replace("-", "_")
    if keyword.iskeyword(module) or module in RESERVED or module in sys.stdlib_module_names:
        raise ScaffoldError(
            f"pack name {name!r} would make the module {module!r}, which is taken by Python, "
            "pegboard or its dependencies; choose a name with your team's prefix (acme-vision)"
        )
    camel = "".join(word.capitalize() for word in re.split(r"[-_]", name))
    return PackNames(name, module, camel)


def _render(template: str, values: dict[str, str]) -> str:
    text = files("pegboard_launcher.scaffold").joinpath("templates", template).read_text()
    return Template(text).substitute(values)


def _values(names: PackNames, kind: str) -> dict[str, str]:
    from importlib.metadata import version

    models, data = kind in ("models", "both"), kind in ("data", "both")
    major, minor = (int(part) for part in version("pegboard-core").split(".")[:2])
    lazy, entries, rows, layout, usage = [], [], [], [], []
    if models or data:
        entries.append(f'    configs="{names.module}.conf",')
    if models:
        lazy.append(f'"{names.camel}Net": "{names.module}.model"')
        entries.append(
            f'    models={{"{names.model_option}": "{names.module}.model:{names.camel}Net"}},'
        )
        rows.append(f"| `model={names.model_option}` | `{names.module}.model.{names.camel}Net` |")
        layout.append(f"src/{names.module}/model.py          the sample model")
        usage.append(f"pegboard train model={names.model_option} data=digits")
    if data:
        lazy.append(f'"{names.camel}Blobs": "{names.module}.data"')
        entries.append(
            f'    datamodules={{"{names.data_option}": "{names.module}.data:{names.camel}Blobs"}},'
        )
        rows.append(f"| `data={names.data_option}` | `{names.module}.data.{names.camel}Blobs` |")
        layout.append(f"src/{names.module}/data.py           the sample datamodule")
        model = names.model_option if models else "mlp"
        usage.append(f"pegboard train model={model} data={names.data_option}")
    if kind == "hooks":
        lazy.append(f'"EpochTimer": "{names.module}.callbacks"')
        entries.append(f'    hooks="{names.module}.hooks",')
        rows.extend(f"| {hook} | {what} |" for hook, what in _hook_rows(names))
        layout.append(f"src/{names.module}/hooks.py          the hook implementations")
        layout.append(f"src/{names.module}/callbacks.py      the callback the hooks add")
        usage.append(f"pegboard train 'trainer.max_epochs=${{{names.module}_cpus:}}'")
        usage.append(f"pegboard {names.dist}-runs")
    kinds = {
        "models": " of models",
        "data": " of data",
        "both": " of models and data",
        "hooks": " of hooks",
    }[kind]
    return {
        "dist": names.dist,
        "module": names.module,
        "camel": names.camel,
        "title": names.camel,
        "api": str(API_VERSION),
        "core_min": f"{major}.{minor}",
        "core_next": f"{major}.{minor + 1}" if major == 0 else f"{major + 1}",
        "lazy": ", ".join(lazy),
        "manifest_entries": "\n".join(entries) + "\n",
        "model_class": f"{names.camel}Net",
        "model_suffix": "Net",
        "data_class": f"{names.camel}Blobs",
        "table_header": "| hook | what it adds |" if kind == "hooks" else "| option | class |",
        "option_rows": "\n".join(rows),
        "layout_rows": "\n".join(layout),
        "config_row": ""
        if kind == "hooks"
        else f"src/{names.module}/conf/<group>/*.yaml  the configs, shipped in the wheel\n",
        "usage": "\n".join(usage),
        "kinds_phrase": kinds,
    }


def _hook_rows(names: PackNames) -> list[tuple[str, str]]:
    return [
        ("`pegboard_callbacks`", "`time/epoch_seconds` logged by every training run"),
        ("`pegboard_resolvers`", f"`${{{names.module}_cpus:}}`: the machine's CPU count"),
        ("`pegboard_export_formats`", f"`pegboard export format={names.module}_npz`"),
        ("`pegboard_predict_formats`", f"`pegboard predict output_format={names.module}_jsonl`"),
        ("`pegboard_commands`", f"`pegboard {names.dist}-runs`: the runs and how they ended"),
        ("`pegboard_run_finished`", f"a line per run in `<log dir>/{names.module}_runs.jsonl`"),
    ]


def write_pack(name: str, kind: str, parent: Path) -> Path:
    """Write pack ``name`` into ``parent/name`` and return that folder.

    Args:
        name: The pack's distribution name (see ``pack_names``).
        kind: ``"models"``, ``"data"`` or ``"both"``: which samples to write.
        parent: The folder to create the pack in.

    Raises:
        ScaffoldError: A bad name or kind, or the folder already exists.
    """
    if kind not in KINDS:
        raise ScaffoldError(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    names = pack_names(name)
    root = parent / names.dist
    if root.exists():
        raise ScaffoldError(f"{root} already exists; choose another name or folder (--dir)")
    values = _values(names, kind)
    package = root / "src" / names.module
    outputs = {
        root / "pyproject.toml": "pyproject.toml.tmpl",
        root / "README.md": "README.md.tmpl",
        package / "__init__.py": "init.py.tmpl",
        package / "_plugin.py": "plugin.py.tmpl",
        root / "tests" / "test_pack.py": "test_pack.py.tmpl",
    }
    if kind in ("models", "both"):
        outputs[package / "model.py"] = "model.py.tmpl"
        outputs[package / "conf" / "model" / f"{names.model_option}.yaml"] = "model.yaml.tmpl"
    if kind in ("data", "both"):
        outputs[package / "data.py"] = "data.py.tmpl"
        outputs[package / "conf" / "data" / f"{names.data_option}.yaml"] = "data.yaml.tmpl"
    if kind == "hooks":
        outputs[package / "hooks.py"] = "hooks.py.tmpl"
        outputs[package / "callbacks.py"] = "callbacks.py.tmpl"
    rendered = {path: _render(template, values) for path, template in outputs.items()}
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if kind != "hooks":
        # An __init__.py makes conf/ a package: pkg:// reads it and the wheel ships it.
        (package / "conf" / "__init__.py").write_text("")
    return root


def new_pack_command(argv: Sequence[str]) -> int:
    """Run ``pegboard new-pack``.

    Args:
        argv: Arguments after ``new-pack``.
    """
    parser = argparse.ArgumentParser(
        prog="pegboard new-pack", description="Write a ready-to-publish pegboard pack."
    )
    parser.add_argument("name", help="distribution name, such as acme-vision")
    parser.add_argument("--kind", choices=KINDS, default="both", help="what samples to write")
    parser.add_argument("--dir", default=".", help="the folder to create the pack in")
    args = parser.parse_args(list(argv))
    root = write_pack(args.name, args.kind, Path(args.dir))
    names = pack_names(args.name)
    print(f"Wrote {root}")
    print("Next:")
    print(f"  pip install -e '{root}[test]' && pytest {root / 'tests'}")
    if args.kind == "hooks":
        print("  pegboard train   (every training run now logs time/epoch_seconds)")
        print(f"  pegboard {names.dist}-runs")
    else:
        option = names.model_option if args.kind in ("models", "both") else "mlp"
        data = names.data_option if args.kind in ("data", "both") else "digits"
        print(f"  pegboard train model={option} data={data}")
    print("See docs/packs.md of pegboard for the plugin contract.")
    return 0
