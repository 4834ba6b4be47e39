"""Build a config node as the runner would, for the pack under test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def build_node(node: Mapping[Any, Any], plugin: str) -> Any:
    """Build a config node as the runner would, for the pack under test.

    Args:
        node: A resolved node with a ``_target_``.
        plugin: The manifest's ``"module:attr"`` path: its classes are allowed.

    Raises:
        CheckSkipped: Building needs a module that is not installed (an optional extra).
    """
    from hydra.utils import instantiate

    from pegboard.targets import check_targets
    from pegboard.testing.checks import load_plugin
    from pegboard.testing.export_check import CheckSkipped

    # The kit builds like the runner: targets outside the allow-list are refused first.
    # The pack under test is allowed even when it is not installed through an entry point.
    check_targets(node, "", load_plugin(plugin).targets)
    try:
        return instantiate(node, _convert_="all")
    except Exception as error:
        missing = _import_error(error)
        if missing is None:
            raise
        raise CheckSkipped(f"needs a module that is not installed: {missing}") from error


def _import_error(error: BaseException) -> ImportError | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ImportError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


__all__ = ["build_node"]
