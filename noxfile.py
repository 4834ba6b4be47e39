"""Test each pegboard package on its own, all of them together, editable, and as wheels.

Every session installs the packages as users do (built, not editable, unless the
session is about editable installs), with the versions pinned in constraints.txt.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PACKAGES = ("core", "launcher", "models-vision", "data-vision")
CONSTRAINTS = ("-c", str(ROOT / "constraints.txt"))
IMPORT_NAMES = {
    "core": "pegboard",
    "launcher": "pegboard_launcher",
    "models-vision": "pegboard_models_vision",
    "data-vision": "pegboard_data_vision",
}

nox.options.sessions = [
    "lint",
    "typecheck",
    "core",
    "launcher",
    "models_vision",
    "data_vision",
    "integration",
    "editable",
    "build",
    "scaffold",
]
nox.options.error_on_external_run = True


def install(session: nox.Session, *packages: str, editable: bool = False) -> None:
    """Install local packages with their test extra, pinned by constraints.txt.

    A package may name more extras: ``"models-vision[onnx]"``.
    """
    targets: list[str] = []
    names = []
    for package in packages:
        name, _, more = package.partition("[")
        extras = ",".join(["test", *more.rstrip("]").split(",")]).rstrip(",")
        names.append(name)
        path = f"{ROOT / 'packages' / name}[{extras}]"
        targets += ["-e", path] if editable else [path]
    session.install(*CONSTRAINTS, *targets)
    # Import smoke check: the installed build, not the checkout, must import.
    modules = ", ".join(IMPORT_NAMES[name] for name in names)
    session.run("python", "-c", f"import {modules}")


def pytest(session: nox.Session, *paths: str, options: tuple[str, ...] = ()) -> None:
    """Run pytest on ``paths`` (each on its own, so same-named test files never clash)."""
    for path in paths:
        session.run(
            "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / path), *options, *session.posargs
        )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install(*CONSTRAINTS, "ruff")
    session.run("ruff", "check", str(ROOT))
    session.run("ruff", "format", "--check", str(ROOT))


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy on core and the launcher, the packages third parties code against."""
    install(session, "core", "launcher")
    session.install(*CONSTRAINTS, "mypy")
    session.run(
        "mypy",
        "--config-file",
        str(ROOT / "mypy.ini"),
        str(ROOT / "packages/core/src/pegboard"),
        str(ROOT / "packages/launcher/src/pegboard_launcher"),
    )


@nox.session
def core(session: nox.Session) -> None:
    """pegboard-core alone: interfaces, runner, conformance kit."""
    install(session, "core")
    pytest(session, "packages/core/tests")


@nox.session
def launcher(session: nox.Session) -> None:
    """Core and the launcher, no packs: discovery, errors, the command."""
    install(session, "core", "launcher")
    # Mostly pegboard subprocesses (faults, signals, parallel runs): two workers, two cores.
    pytest(session, "packages/launcher/tests", options=("-n", "2"))


@nox.session(name="models_vision")
def models_vision(session: nox.Session) -> None:
    """The model pack with core only: no launcher, no data pack."""
    install(session, "core", "models-vision[onnx]")
    pytest(session, "packages/models-vision/tests")


@nox.session(name="data_vision")
def data_vision(session: nox.Session) -> None:
    """The data pack with core only: no launcher, no model pack."""
    install(session, "core", "data-vision")
    pytest(session, "packages/data-vision/tests")


@nox.session
def integration(session: nox.Session) -> None:
    """Everything installed: end-to-end runs of the `pegboard` command with the real packs."""
    install(
        session,
        "core[optuna,joblib,mlflow,onnx,safetensors,images]",
        "launcher",
        "models-vision[onnx]",
        "data-vision",
    )
    # Core's and the launcher's suites ran in their own sessions; here the real packs are
    # exercised together, end to end (CI's 30 minutes leave no room to run them twice).
    pytest(session, "tests/e2e", options=("-n", "2"))


@nox.session
def editable(session: nox.Session) -> None:
    """Editable (PEP 660) installs: discovery and training must work the same."""
    install(session, *PACKAGES, editable=True)
    pytest(session, "tests/editable")


def _check_wheel(wheel: Path, source: Path) -> int:
    """Every module and config file under ``source`` must be in ``wheel``; returns the count."""
    expected = {
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.suffix in (".py", ".yaml", ".yml") and "__pycache__" not in path.parts
    }
    with zipfile.ZipFile(wheel) as archive:
        missing = sorted(expected - set(archive.namelist()))
    if missing:
        raise RuntimeError(f"{wheel.name} lacks files of its source: {missing}")
    return sum(name.endswith((".yaml", ".yml")) for name in expected)


@nox.session
def build(session: nox.Session) -> None:
    """Build every package's sdist and wheel on its own; check modules and configs are inside."""
    session.install(*CONSTRAINTS, "build")
    for package in PACKAGES:
        folder = ROOT / "packages" / package
        out = Path(session.create_tmp()) / package
        session.run("python", "-m", "build", "--outdir", str(out), str(folder))
        (wheel,) = out.glob("*.whl")
        configs = _check_wheel(wheel, folder / "src")
        session.log(f"{wheel.name}: every module and all {configs} config files are inside")


@nox.session
def scaffold(session: nox.Session) -> None:
    """A `pegboard new-pack` wheel beside the vision packs: its tests, listing, training."""
    install(session, *PACKAGES)
    session.install(*CONSTRAINTS, "build")
    tmp = Path(session.create_tmp()) / "scaffold"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    name = "acme-scaffold"
    session.run("pegboard", "new-pack", name, "--kind", "both", "--dir", str(tmp))
    pack = tmp / name
    session.run("python", "-m", "build", "--wheel", "--outdir", str(tmp / "dist"), str(pack))
    (wheel,) = (tmp / "dist").glob("*.whl")
    session.install(*CONSTRAINTS, str(wheel))
    # The generated pack's own tests, against its installed wheel, then the command line.
    session.run("pytest", "-q", "-p", "no:cacheprovider", str(pack / "tests"), *session.posargs)
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(ROOT / "tests" / "scaffold"),
        *session.posargs,
        env={"SCAFFOLD_PACK": name},
    )


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Speed figures (not run by default): startup, discovery, data pipeline, model steps."""
    install(session, *PACKAGES)
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        session.run("python", str(script))
