"""Write minimal installed packs into a folder, for tests of discovery and collisions.

Each pack is a real distribution (a ``*.dist-info`` folder with metadata and entry
points) beside its package, so ``importlib.metadata`` finds it once the folder is on
``sys.path`` (or ``PYTHONPATH`` for subprocesses), exactly as it finds installed wheels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

DEFAULT_MANIFEST = """\
from pegboard.plugin import Plugin

plugin = Plugin(api={api}, configs="{module}.conf"{classes})
"""


def write_pack(
    root: Path,
    name: str,
    *,
    version: str = "1.0.0",
    configs: Mapping[str, str] | None = None,
    manifest: str | None = None,
    api: int = 1,
    models: Mapping[str, str] | None = None,
    datamodules: Mapping[str, str] | None = None,
    hooks: str | None = None,
) -> str:
    """Write pack ``name`` into ``root`` and return its module name.

    Args:
        root: A folder that will be put on ``sys.path``.
        name: Distribution name, such as ``acme-models``; the module is ``acme_models``.
        version: Distribution version.
        configs: Config files by path inside the config package (``"model/net.yaml"``)
            mapped to their YAML text.
        manifest: Source of ``_plugin.py``; ``{module}`` and ``{api}`` are filled in.
            By default a manifest with the given ``api`` and the config package.
        api: Plugin API version written into the default manifest.
        models: The default manifest's ``models`` (``{"net": "{module}.nets:Net"}``);
            configs may build only the classes a manifest advertises.
        datamodules: The default manifest's ``datamodules``.
        hooks: Source of the pack's hook module ``{module}.hooks``; the default manifest
            then names it, with ``api=2``.
    """
    module = re.sub(r"[^A-Za-z0-9]+", "_", name).lower()
    package = root / module
    (package / "conf").mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "conf" / "__init__.py").write_text("")
    classes = "".join(
        f", {kind}={dict(entries)!r}"
        for kind, entries in (("models", models), ("datamodules", datamodules))
        if entries
    )
    if hooks is not None:
        (package / "hooks.py").write_text(hooks)
        classes += f", hooks={module + '.hooks'!r}"
        api = max(api, 2)
    source = (manifest or DEFAULT_MANIFEST).replace("{classes}", classes)
    (package / "_plugin.py").write_text(
        source.replace("{module}", module).replace("{api}", str(api))
    )
    for relative, text in (configs or {}).items():
        path = package / "conf" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    dist_info = root / f"{module}-{version}.dist-info"
    dist_info.mkdir(exist_ok=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    (dist_info / "entry_points.txt").write_text(
        f"[pegboard.plugins]\n{name} = {module}._plugin:plugin\n"
    )
    return module


__all__ = ["DEFAULT_MANIFEST", "write_pack"]
