"""The installed pegboard command in subprocesses: real composition, real runs, real errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from launcher_helpers import TINY_RUN, real_packs_installed
from launcher_helpers import run_pegboard as pegboard

HEAVY = ("torch", "pytorch_lightning", "lightning")


def heavy_modules_after(*args: str) -> list[str]:
    code = (
        "import sys\nfrom pegboard_launcher.cli import main\n"
        f"try:\n    main({list(args)!r})\nfinally:\n"
        f"    print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return [m for m in result.stdout.rsplit("HEAVY=", 1)[1].strip().split(",") if m]


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("plugins",),
        ("plugins", "--json"),
        ("train", "--help"),
        ("train", "--cfg", "job", "model=tiny", "data=tiny_images"),
    ],
)
def test_fast_paths_import_neither_torch_nor_lightning(working_packs, args) -> None:
    assert heavy_modules_after(*args) == []


def test_train_runs_through_the_command(working_packs) -> None:
    result = pegboard("train", *TINY_RUN)
    assert result.returncode == 0, result.stderr
    assert "Test accuracy: " in result.stdout
    run_dir = Path(result.stdout.rsplit("Run directory: ", 1)[1].strip())
    packs = json.loads((run_dir / "packs.json").read_text())
    assert packs["acme-models"] == "1.0.0" and packs["acme-data"] == "1.0.0"


def test_a_broken_pack_does_not_stop_the_others(working_packs, add_pack) -> None:
    add_pack("broken-pack", manifest="raise ImportError('no acme_cuda')\n")
    result = pegboard("train", *TINY_RUN, "test=false")
    assert result.returncode == 0, result.stderr
    assert "warning: pack broken-pack 1.0.0 is not loaded" in result.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model=tinny", "Unknown model option 'tinny'. Did you mean 'tiny'? Available: "),
        ("model=tinny", "tiny (acme-models)"),
        (
            "trainer.max_epoch=3",
            "Unknown config key 'trainer.max_epoch'. Did you mean 'trainer.max_epochs'?",
        ),
        ("modle=tiny", "Unknown config key 'modle'. Did you mean 'model'?"),
        ("trainer.max_epochs=[1", "Cannot read the overrides"),
    ],
)
def test_bad_input_gets_a_short_message(working_packs, override: str, message: str) -> None:
    result = pegboard("train", "model=tiny", "data=tiny_images", override)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (Path.cwd() / "logs").exists()  # refused before any run directory


def test_wrong_type_is_refused_before_any_run_folder(working_packs) -> None:
    result = pegboard("train", *TINY_RUN, "trainer.max_epochs=many")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pegboard: error: trainer.max_epochs='many': expected int or None, got str "
        "(argument 'max_epochs' of pytorch_lightning.Trainer)"
    ]
    assert not (Path.cwd() / "logs").exists()  # no run folder, no config tree printed
    assert "trainer" not in result.stdout


def test_project_configs_and_modules_work_without_packaging(working_packs, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "configs" / "model").mkdir(parents=True)
    (project / "my_net.py").write_text(
        "from pegboard.testing.models import LinearClassifier\n\n"
        "class MyNet(LinearClassifier):\n    pass\n"
    )
    (project / "configs" / "model" / "my_net.yaml").write_text(
        "_target_: my_net.MyNet\n"
        "input_shape: ${data.input_shape}\nnum_classes: ${data.num_classes}\n"
    )
    result = pegboard("train", *TINY_RUN, "model=my_net", cwd=project)
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.rsplit("Run directory: ", 1)[1].strip())
    assert "_target_: my_net.MyNet" in (run_dir / "config.yaml").read_text()


def test_shell_completion_offers_commands_then_options(working_packs) -> None:
    first = pegboard("-sc", "query=bash", env={"COMP_LINE": "pegboard tr"})
    assert first.stdout.split() == ["train"]
    options = pegboard("-sc", "query=bash", env={"COMP_LINE": "pegboard train model="})
    assert "model=tiny" in options.stdout.split()


@pytest.mark.skipif(real_packs_installed(), reason="packs are installed in this environment")
def test_without_packs_plugins_says_so_and_train_names_what_to_install(pack_dir) -> None:
    listing = pegboard("plugins")
    assert listing.returncode == 0 and "No pegboard packs are installed" in listing.stdout
    result = pegboard("train")
    assert result.returncode == 2
    assert "No 'model' and 'data' options are installed" in result.stderr
    assert "pip install pegboard-models-vision pegboard-data-vision" in result.stderr
    assert "Traceback" not in result.stderr


def test_quiet_by_default_with_one_line_per_epoch_in_a_log(working_packs) -> None:
    # Piped output, as in a log file or CI: no progress bars, no third-party info lines.
    result = pegboard("train", "model=tiny", "data=tiny_images", "trainer.max_epochs=2")
    assert result.returncode == 0, result.stderr
    shown = result.stdout + result.stderr
    for noise in ("it/s", "Tip:", "GPU available", "LeafSpec", "├──"):
        assert noise not in shown, noise
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"]
    assert "train/loss=" in epochs[0] and "val/loss=" in epochs[0]
    verbose = pegboard("train", *TINY_RUN, env={"PEGBOARD_VERBOSE": "1"})
    assert "GPU available" in verbose.stdout + verbose.stderr
