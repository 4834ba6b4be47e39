"""Check that a pack's config files are in its installed distribution, not only its checkout.

A YAML file forgotten by the build backend works in the author's editable install and is
missing for every user. When the pack is installed from a wheel, its ``RECORD`` lists
every file the wheel put in place, so each config file on disk must be listed there.
"""

from __future__ import annotations

from importlib.metadata import Distribution, packages_distributions
from pathlib import Path


def _owner(package: str) -> Distribution | None:
    from importlib.metadata import PackageNotFoundError, distribution

    for name in packages_distributions().get(package.split(".")[0], []):
        try:
            return distribution(name)
        except PackageNotFoundError:
            continue
    return None


def check_configs_shipped(package: str) -> str:
    """Assert that every config file of ``package`` is listed in its wheel's ``RECORD``.

    Args:
        package: Dotted name of the pack's config package.

    Returns:
        What was checked, or why nothing could be: an editable install or a checkout on
        ``sys.path`` has no wheel to compare with.
    """
    import importlib.util

    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, (
        f"config package {package} cannot be found; it needs an __init__.py"
    )
    folder = Path(next(iter(spec.submodule_search_locations)))
    assert (folder / "__init__.py").is_file(), (
        f"config package {package} has no __init__.py: add one so the wheel ships it "
        "and pkg:// can read it"
    )
    dist = _owner(package)
    records = {str(path.locate()) for path in (dist.files or ())} if dist else set()
    in_record = {Path(p).resolve() for p in records}
    on_disk = [p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml")]
    if not any(p.resolve() in in_record for p in [folder / "__init__.py", *on_disk]):
        return f"{package}: not installed from a wheel (editable or a checkout), not compared"
    missing = sorted(str(p.relative_to(folder)) for p in on_disk if p.resolve() not in in_record)
    assert not missing, (
        f"config files of {package} are not in the installed distribution "
        f"{dist.metadata['Name'] if dist else ''}: {', '.join(missing)}; include them as "
        "package data (hatchling ships every file under the package folder)"
    )
    return f"{package}: all {len(on_disk)} config files are in the installed wheel"


__all__ = ["check_configs_shipped"]
