"""Table test: no public callable of torch, os, subprocess, builtins, importlib, pickle or
shutil is accepted as a ``_target_``, whether named directly or reached by a dotted path
through a namespace the allow-list opens (``torch.optim.os.system``)."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest

from pegboard._namespaces import NAMESPACES
from pegboard.targets import is_allowed

DANGEROUS_ROOTS = ("torch", "os", "subprocess", "builtins", "importlib", "pickle", "shutil")


def _public_callables(module: ModuleType) -> list[str]:
    return [
        name for name, value in vars(module).items() if not name.startswith("_") and callable(value)
    ]


def _importable(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _allowed_roots() -> list[ModuleType]:
    """Every module under which the allow-list admits something."""
    import pegboard.runner.build
    import pegboard.runner.train  # noqa: F401

    found = [module for name in NAMESPACES if (module := _importable(name)) is not None]
    found += [m for n, m in list(sys.modules.items()) if n.startswith("pegboard") and m]
    return found


def dangerous_targets() -> list[str]:
    """Public callables of the dangerous modules, directly and through allowed roots.

    Through a torch submodule only functions count: its classes (``torch.optim.sgd.SGD``)
    are the configurable ones, spelled by their defining module.
    """
    targets: set[str] = set()
    for root in DANGEROUS_ROOTS:
        module = importlib.import_module(root)
        targets.update(f"{root}.{name}" for name in _public_callables(module))
    for allowed in _allowed_roots():
        for attribute, value in list(vars(allowed).items()):
            if not isinstance(value, ModuleType):
                continue
            root = value.__name__.split(".")[0]
            if root not in DANGEROUS_ROOTS:
                continue
            prefix = f"{allowed.__name__}.{attribute}"
            for name in _public_callables(value):
                if root == "torch" and isinstance(getattr(value, name), type):
                    continue
                targets.add(f"{prefix}.{name}")
    return sorted(targets)


def test_the_table_is_large_and_holds_the_audit_cases() -> None:
    table = dangerous_targets()
    assert len(table) > 2000
    for case in (
        "torch.save",
        "torch.load",
        "os.system",
        "subprocess.Popen",
        "builtins.exec",
        "shutil.rmtree",
        "pegboard.runner.build.os.system",
    ):
        assert case in table


def test_no_public_callable_of_a_dangerous_module_is_accepted(monkeypatch) -> None:
    monkeypatch.delenv("PEGBOARD_ALLOW_TARGETS", raising=False)
    accepted = [target for target in dangerous_targets() if is_allowed(target)]
    assert accepted == []


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_namespaces_admit_classes_only(namespace: str) -> None:
    from pegboard._namespaces import namespace_classes

    for target in namespace_classes(namespace):
        module, _, name = target.rpartition(".")
        value = importlib.import_module(module)
        for part in name.split("."):
            value = getattr(value, part)
        assert isinstance(value, type), target
