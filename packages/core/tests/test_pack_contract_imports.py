"""Packs import from pegboard only the modules docs/packs.md documents as their contract.

The list lives here, once: docs/packs.md ("What a pack may import from pegboard") must
name every entry, and the first-party packs' sources, the ``pegboard new-pack`` templates
and the test packs under tests/packs may import no other pegboard module. A new entry is
a decision about core's public API (the plugin API version policy applies to it): add
it here and to the docs together.
"""

from __future__ import annotations

import ast
import re
import string
from collections import defaultdict
from pathlib import Path

import pytest

#: The pegboard modules a pack may import. An entry covers its public submodules too
#: (``pegboard.testing`` covers ``pegboard.testing.suite``), except ``pegboard`` itself:
#: ``from pegboard import hookimpl`` is in the contract, ``pegboard.runner`` is not.
PACK_CONTRACT = (
    "pegboard",
    "pegboard.plugin",
    "pegboard.hookspecs",
    "pegboard.errors",
    "pegboard.tasks",
    "pegboard.datamodule",
    "pegboard.supervision",
    "pegboard.loaders",
    "pegboard.safe_pickle",
    "pegboard.download",
    "pegboard.weights",
    "pegboard.testing",
)

ROOT = Path(__file__).resolve().parents[3]
CORE = ROOT / "packages" / "core" / "src" / "pegboard"
DOCS = ROOT / "docs" / "packs.md"
SECTION = "## What a pack may import from pegboard"
TEMPLATES = ROOT / "packages" / "launcher" / "src" / "pegboard_launcher" / "scaffold" / "templates"
#: Folders of pack code held to the contract (their tests may use more of core).
PACK_SOURCES = (
    ROOT / "packages" / "models-vision" / "src",
    ROOT / "packages" / "data-vision" / "src",
    ROOT / "packages" / "tabular" / "src",
    *sorted((ROOT / "tests" / "packs").glob("*/src")),
)

# The checkout, not the installed build: nox runs core's suite from it, so these exist
# there; a copy of the suite without the repository around it has nothing to check.
pytestmark = pytest.mark.skipif(
    not (ROOT / "noxfile.py").is_file() or not DOCS.is_file(),
    reason=f"needs the pegboard repository around the tests (looked in {ROOT})",
)

_IMPORT_LINE = re.compile(
    r"^\s*(?:from\s+(pegboard[\w.]*)\s+import\s+(.+)|import\s+(pegboard[\w.]*))"
)


def _is_core_module(name: str) -> bool:
    path = CORE.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _module_of(module: str, names: list[str]) -> list[str]:
    """Modules an import statement reaches: ``from pegboard import testing`` is a module."""
    if module != "pegboard":
        return [module]
    reached = [f"pegboard.{name}" for name in names if _is_core_module(f"pegboard.{name}")]
    return reached + (["pegboard"] if len(reached) < len(names) else [])


def _imports_in_tree(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [alias.name for alias in node.names]
            found += [(node.lineno, name) for name in _module_of(node.module, names)]
    return found


def _imports_by_line(source: str) -> list[tuple[int, str]]:
    """A fallback for a template that is not Python once rendered: one import per line."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        if match.group(3):
            found.append((number, match.group(3)))
        else:
            names = [part.split(" as ")[0].strip(" ()") for part in match.group(2).split(",")]
            found += [(number, name) for name in _module_of(match.group(1), names)]
    return found


def _pegboard_imports(source: str) -> list[tuple[int, str]]:
    try:
        found = _imports_in_tree(ast.parse(source))
    except SyntaxError:
        found = _imports_by_line(source)
    return [(line, name) for line, name in found if name.split(".")[0] == "pegboard"]


def _render(template: str) -> str:
    """The template with every ``$placeholder`` replaced by an identifier, as Python."""
    return string.Template(template).substitute(defaultdict(lambda: "acme_pack"))


def _allowed(module: str) -> bool:
    if module in PACK_CONTRACT:
        return True
    parts = module.split(".")
    if any(part.startswith("_") for part in parts):
        return False
    return any(entry != "pegboard" and module.startswith(f"{entry}.") for entry in PACK_CONTRACT)


def _sources() -> dict[str, str]:
    """Every file held to the contract, by its path in the repository, as Python source."""
    sources = {}
    for folder in PACK_SOURCES:
        for path in sorted(folder.rglob("*.py")):
            sources[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    for path in sorted(TEMPLATES.glob("*.py.tmpl")):
        sources[path.relative_to(ROOT).as_posix()] = _render(path.read_text(encoding="utf-8"))
    return sources


def test_the_contract_names_public_core_modules() -> None:
    for entry in PACK_CONTRACT:
        assert _is_core_module(entry), f"{entry} is not a module of pegboard-core"
        assert not any(part.startswith("_") for part in entry.split(".")), entry
        assert entry.split(".")[:2] != ["pegboard", "runner"], entry


def test_docs_name_every_contract_module() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/packs.md lacks the section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    missing = [entry for entry in PACK_CONTRACT if f"`{entry}`" not in section]
    assert not missing, f"docs/packs.md ({SECTION[3:]}) does not name {missing}"


def test_packs_and_templates_import_only_the_contract() -> None:
    sources = _sources()
    # Guard against checking nothing: both vision packs, the templates, the test pack.
    for expected in ("models-vision/src", "data-vision/src", "templates/", "tests/packs/"):
        assert any(expected in path for path in sources), f"no source found under {expected}"
    outside = [
        f"{path}:{line}: {module}"
        for path, source in sources.items()
        for line, module in _pegboard_imports(source)
        if not _allowed(module)
    ]
    assert not outside, (
        "imports of pegboard modules outside the pack contract (docs/packs.md, "
        "'What a pack may import from pegboard'):\n" + "\n".join(outside)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from pegboard.runner.validate import check_node\n", ["pegboard.runner.validate"]),
        ("import pegboard._compat as compat\n", ["pegboard._compat"]),
        ("from pegboard import testing, hookimpl\n", ["pegboard.testing", "pegboard"]),
        ("def f():\n    from pegboard.targets import allowed\n", ["pegboard.targets"]),
        ("from pegboard.runner import (\n  x,\n)\nclass $name: ...\n", ["pegboard.runner"]),
    ],
)
def test_the_scan_finds_imports(source: str, expected: list[str]) -> None:
    found = [module for _, module in _pegboard_imports(source)]
    assert found == expected
    assert [_allowed(module) for module in found] == [
        module in ("pegboard.testing", "pegboard") for module in found
    ]
