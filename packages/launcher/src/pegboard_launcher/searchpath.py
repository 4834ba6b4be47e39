"""Put the project's configs and every pack's config package on Hydra's search path."""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin

from pegboard_launcher.discovery import discover
from pegboard_launcher.index import project_config_dir


class PegboardSearchPathPlugin(SearchPathPlugin):
    """Search ``./configs`` first (it may shadow anything), then core, then each pack.

    Registered by ``register()`` at runtime instead of through the ``hydra_plugins``
    namespace scan, which misses PEP 660 editable installs.
    """

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        project = project_config_dir()
        if project.is_dir():
            search_path.prepend(provider="project", path=f"file://{project}")
        for pack in discover().packs:
            if pack.manifest.configs:
                search_path.append(provider=pack.name, path=f"pkg://{pack.manifest.configs}")


def register() -> None:
    """Register the search-path plugin with Hydra (idempotent)."""
    Plugins.instance().register(PegboardSearchPathPlugin)
