"""Test each pegboard package on its own, all of them together, editable, and as wheels.

Every session installs the packages as users do (built, not editable, unless the
session is about editable installs), with the versions pinned in constraints.txt.

pegboard-core's own third-party dependencies (torch, Lightning, Hydra...) are the same
in every session, and unpacking torch into each session's virtualenv was a quarter of
the whole run. They are installed once, into ``.nox/_core_deps``, which each session
sees through a ``.pth`` file after its own site-packages: the pegboard packages, their
extras and the test tools are still installed per session, so each package is tested
with only what it needs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
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
    "tabular": "pegboard_tabular",
}

nox.options.sessions = [
    "lint",
    "typecheck",
    "core",
    "launcher",
    "models_vision",
    "data_vision",
    "tabular",
    "integration",
    "slurm",
    "editable",
    "build",
    "scaffold",
]
nox.options.error_on_external_run = True


CORE_DEPS = ROOT / ".nox" / "_core_deps"


def _core_deps() -> Path:
    """The site-packages holding pegboard-core's dependencies, installed once per change.

    The folder is rebuilt when constraints.txt or core's pyproject.toml change.
    """
    recipe = b"".join(
        (ROOT / name).read_bytes() for name in ("constraints.txt", "packages/core/pyproject.toml")
    )
    stamp = CORE_DEPS / "stamp"
    digest = hashlib.sha256(recipe).hexdigest()
    python = CORE_DEPS / "bin" / "python"
    if not (stamp.is_file() and stamp.read_text() == digest):
        shutil.rmtree(CORE_DEPS, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(CORE_DEPS)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", *CONSTRAINTS]
        subprocess.run([*pip, str(ROOT / "packages" / "core")], check=True)
        subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "pegboard-core"], check=True)
        stamp.write_text(digest)
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(
        subprocess.run(
            [str(python), "-c", code], check=True, capture_output=True, text=True
        ).stdout.strip()
    )


def _share_core_deps(session: nox.Session) -> None:
    """Let the session's interpreter see the shared core dependencies (after its own)."""
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = session.run("python", "-c", code, silent=True)
    assert isinstance(site, str)
    (Path(site.strip()) / "_pegboard_core_deps.pth").write_text(f"{_core_deps()}\n")


def install(session: nox.Session, *packages: str, editable: bool = False) -> None:
    """Install local packages with their test extra, pinned by constraints.txt.

    A package may name more extras: ``"models-vision[onnx]"``.
    """
    _share_core_deps(session)
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
    """pegboard-core alone: interfaces, runner, conformance kit (and its sweeps' resume)."""
    # The optuna extra: resuming a sweep reads and writes Optuna studies.
    install(session, "core[optuna]")
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
def tabular(session: nox.Session) -> None:
    """The tabular pack (models and data) with core only: no launcher, no vision pack."""
    install(session, "core[onnx]", "tabular[parquet]")
    pytest(session, "packages/tabular/tests")


MLFLOW_SERVER = ROOT / ".nox" / "_mlflow_server"


def _mlflow_server() -> Path:
    """The ``mlflow`` command of a venv holding MLflow's tracking server, built once.

    Full MLflow pins pyarrow and SQLAlchemy against the packs' pins, so the server the
    tests start lives apart from the environment under test (ci/mlflow-server.txt).
    """
    requirements = ROOT / "ci" / "mlflow-server.txt"
    stamp = MLFLOW_SERVER / "stamp"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if not (stamp.is_file() and stamp.read_text() == digest):
        shutil.rmtree(MLFLOW_SERVER, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_SERVER)], check=True)
        pip = [str(MLFLOW_SERVER / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-r", str(requirements)], check=True)
        stamp.write_text(digest)
    return MLFLOW_SERVER / "bin" / "mlflow"


@nox.session
def integration(session: nox.Session) -> None:
    """Everything installed: end-to-end runs of the `pegboard` command with the real packs."""
    install(
        session,
        "core[optuna,joblib,mlflow,wandb,onnx,safetensors,images]",
        "launcher",
        "models-vision[onnx]",
        "data-vision",
        "tabular[parquet]",
    )
    # A plain LightningModule's pack (tests/packs, built as a wheel like the others), and
    # the unified `lightning` package, whose modules pegboard must refuse in one line.
    lit_port = ROOT / "tests" / "packs" / "pegboard-lit-port"
    session.install(*CONSTRAINTS, "lightning", f"{lit_port}[test]")
    session.run("python", "-c", "import pegboard_lit_port, lightning")
    # Its own suite as a third party runs it: one process (two workers' start-up costs more).
    pytest(session, "tests/packs/pegboard-lit-port/tests")
    # Core's and the launcher's suites ran in their own sessions; here the real packs are
    # exercised together, end to end (CI's 30 minutes leave no room to run them twice).
    session.env["PEGBOARD_TEST_MLFLOW_SERVER"] = str(_mlflow_server())
    pytest(session, "tests/e2e", options=("-n", "2"))


@nox.session
def slurm(session: nox.Session) -> None:
    """SLURM for real: a one-node cluster on this machine, jobs through hydra/launcher=slurm.

    ci/slurm/start-cluster.sh installs Debian's slurm-wlm and munge when they are missing
    (root and apt-get, as on CI), starts munged, slurmctld and slurmd, and fails saying why
    when the cluster cannot start. Jobs run this session's Python (submitit submits
    ``sys.executable``): sweeps, a 2-task DDP job, preemption and requeue, submitit_local.
    """
    cluster = str(ROOT / "ci" / "slurm" / "start-cluster.sh")
    session.run(cluster, external=True)
    try:
        install(session, "core[submitit]", "launcher", "models-vision", "data-vision")
        pytest(session, "tests/slurm")
    finally:
        # The daemons outlive the session otherwise: leave the machine as it was found.
        session.run(cluster, "stop", external=True)


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
    """`pegboard new-pack` wheels beside the vision packs: their tests, listing, runs, hooks."""
    install(session, *PACKAGES)
    session.install(*CONSTRAINTS, "build")
    tmp = Path(session.create_tmp()) / "scaffold"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    packs = {"acme-scaffold": "both", "acme-hooks": "hooks"}
    for name, kind in packs.items():
        session.run("pegboard", "new-pack", name, "--kind", kind, "--dir", str(tmp))
        pack = tmp / name
        session.run(
            "python", "-m", "build", "--wheel", "--outdir", str(tmp / name / "dist"), str(pack)
        )
        (wheel,) = (pack / "dist").glob("*.whl")
        session.install(*CONSTRAINTS, str(wheel))
        # The generated pack's own tests, against its installed wheel.
        session.run("pytest", "-q", "-p", "no:cacheprovider", str(pack / "tests"), *session.posargs)
    # Then the command line, end to end, with both packs installed.
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(ROOT / "tests" / "scaffold"),
        *session.posargs,
        env={"SCAFFOLD_PACK": "acme-scaffold", "SCAFFOLD_HOOKS_PACK": "acme-hooks"},
    )


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Speed figures (not run by default): startup, discovery, data pipeline, model steps."""
    install(session, *PACKAGES)
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        session.run("python", str(script))
