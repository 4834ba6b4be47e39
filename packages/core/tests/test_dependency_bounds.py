"""Declared lower bounds are the versions CI tests: those that constraints.txt pins.

Every nox session installs with ``-c constraints.txt``, so a lower bound below the pin
is a version nothing ever installed, and a pin below the bound could not install. A
lowest-versions session would cost CI time; instead each third-party requirement of
every pyproject (dependencies and extras) that constraints.txt pins declares
``>=<pin>``, and this test fails when one side moves without the other. torch is the
exception: constraints.txt pins the build CI uses, the packages keep a wide range so
users pick the build (CPU or CUDA) that suits their machine.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
CONSTRAINTS = ROOT / "constraints.txt"
#: Pinned in constraints.txt, but ranged on purpose in the packages (see the docstring).
EXEMPT = frozenset({"torch"})

# The checkout, not the installed build: nox runs core's suite from it, so these exist
# there; a copy of the suite without the repository around it has nothing to check.
pytestmark = pytest.mark.skipif(
    not CONSTRAINTS.is_file() or not (ROOT / "packages").is_dir(),
    reason=f"needs the pegboard repository around the tests (looked in {ROOT})",
)


def _pins() -> dict[str, Version]:
    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator, f"constraints.txt: {line!r} is not a name==version pin"
        pins[canonicalize_name(name)] = Version(version.strip())
    return pins


def _pyprojects() -> list[Path]:
    return sorted(ROOT.glob("packages/*/pyproject.toml")) + sorted(
        ROOT.glob("tests/packs/*/pyproject.toml")
    )


def _requirements(pyproject: Path) -> list[tuple[str, Requirement]]:
    """``(where, requirement)`` for every dependency and every extra's requirement."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    where = pyproject.relative_to(ROOT).as_posix()
    found = [(f"{where} dependencies", Requirement(text)) for text in project["dependencies"]]
    for extra, texts in project.get("optional-dependencies", {}).items():
        found += [(f"{where} [{extra}]", Requirement(text)) for text in texts]
    return found


def _problem(requirement: Requirement, pin: Version) -> str | None:
    """What is wrong with ``requirement`` given that CI installs ``pin``, or ``None``."""
    if pin not in requirement.specifier:
        return f"excludes the pinned {pin}"
    if canonicalize_name(requirement.name) in EXEMPT:
        return None
    lower = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    if lower != [pin]:
        return f"lower bound should be >={pin}, the version CI tests"
    return None


def test_lower_bounds_are_the_pinned_versions() -> None:
    pins = _pins()
    pyprojects = _pyprojects()
    assert len(pyprojects) >= 4, pyprojects
    checked = 0
    wrong = []
    for pyproject in pyprojects:
        for where, requirement in _requirements(pyproject):
            pin = pins.get(canonicalize_name(requirement.name))
            if pin is None:  # our own packages, extras' libraries CI does not install
                continue
            checked += 1
            problem = _problem(requirement, pin)
            if problem:
                wrong.append(f"{where}: {requirement} {problem}")
    assert checked >= 20, f"only {checked} pinned requirements found: is the parsing broken?"
    assert not wrong, "bounds and constraints.txt disagree:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("requirement", "pin", "problem"),
    [
        ("hydra-core>=1.3.8,<1.4", "1.3.8", None),
        ("hydra-core>=1.3.2,<1.4", "1.3.8", "lower bound should be >=1.3.8"),
        ("hydra-core>=1.3.8,<1.4", "1.4.0", "excludes the pinned 1.4.0"),
        ("rich", "15.0.0", "lower bound should be >=15.0.0"),
        ("Pillow>=13.0", "13.0.0", None),
        ("torch>=2.2", "2.13.0", None),
        ("torch>=2.2,<2.5", "2.13.0", "excludes the pinned 2.13.0"),
    ],
)
def test_the_check_reads_bounds(requirement: str, pin: str, problem: str | None) -> None:
    found = _problem(Requirement(requirement), Version(pin))
    assert (found is None) if problem is None else (found is not None and problem in found)
