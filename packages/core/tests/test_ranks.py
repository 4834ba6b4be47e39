"""Global rank 0 is found from whichever launcher started the process."""

from __future__ import annotations

from pathlib import Path

import pytest

from pegboard.errors import ConfigError
from pegboard.runner import ranks


@pytest.mark.parametrize(
    ("environ", "rank"),
    [
        ({}, 0),
        ({"LOCAL_RANK": "1"}, 1),  # a DDP worker Lightning started
        ({"LOCAL_RANK": "0", "NODE_RANK": "1"}, 1),  # the first worker of node 1
        ({"RANK": "3", "LOCAL_RANK": "0", "GROUP_RANK": "1"}, 3),  # torchrun, node 1
        ({"RANK": "0", "LOCAL_RANK": "0", "GROUP_RANK": "0"}, 0),
        ({"SLURM_PROCID": "1", "SLURM_LOCALID": "1"}, 1),  # srun's second task
        ({"SLURM_PROCID": "0", "LOCAL_RANK": "1"}, 1),  # Lightning's worker inside sbatch
        ({"JSM_NAMESPACE_RANK": "2"}, 2),  # LSF
        ({"OMPI_COMM_WORLD_RANK": "5"}, 5),
        ({"PMI_RANK": "1"}, 1),
    ],
)
def test_global_rank_reads_every_launcher(environ: dict[str, str], rank: int) -> None:
    assert ranks.global_rank(environ) == rank
    assert ranks.is_global_zero(environ) is (rank == 0)


def test_outside_launchers_are_told_apart() -> None:
    torchrun = {"TORCHELASTIC_RUN_ID": "none", "WORLD_SIZE": "2"}
    assert ranks.external_launch(torchrun) == "torchrun"
    assert ranks.external_launch({"SLURM_STEP_ID": "0", "SLURM_NTASKS": "2"}) == "srun"
    assert ranks.external_launch({"SLURM_STEP_ID": "0", "SLURM_NTASKS": "1"}) is None
    assert ranks.external_launch({"LOCAL_RANK": "1"}) is None  # Lightning's own workers


def test_srun_tasks_share_the_folder_rank_zero_claimed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pegboard.runner.rundir import claim_run_dir

    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_STEP_ID", "0")
    monkeypatch.setenv("SLURM_NTASKS", "2")
    (tmp_path / "runs" / "now").mkdir(parents=True)  # taken: rank 0 moves to now_1
    monkeypatch.setenv("SLURM_PROCID", "0")
    chosen = ranks.shared_run_dir(tmp_path / "runs" / "now", claim_run_dir)
    assert chosen == tmp_path / "runs" / "now_1"
    monkeypatch.setenv("SLURM_PROCID", "1")
    # Task 1 computed another name (its clock moved on) and still joins rank 0's folder.
    assert ranks.shared_run_dir(tmp_path / "runs" / "later", claim_run_dir) == chosen
    assert not (tmp_path / "runs" / "later").exists()


def test_a_rank_that_never_hears_from_rank_zero_stops_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pegboard.runner.rundir import claim_run_dir

    for name, value in {"SLURM_JOB_ID": "7", "SLURM_STEP_ID": "0", "SLURM_NTASKS": "2"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SLURM_PROCID", "1")
    monkeypatch.setenv(ranks.RENDEZVOUS_TIMEOUT_ENV, "0.5")
    with pytest.raises(ConfigError, match="rank 0 did not name the run directory within"):
        ranks.shared_run_dir(tmp_path / "runs" / "now", claim_run_dir)


def test_more_nodes_than_one_need_a_launcher() -> None:
    with pytest.raises(ConfigError, match=r"trainer.num_nodes=2 needs a launcher.*torchrun"):
        ranks.check_nodes_have_a_launcher(2, environ={})
    ranks.check_nodes_have_a_launcher(2, environ={"RANK": "0", "WORLD_SIZE": "2"})  # torchrun
    ranks.check_nodes_have_a_launcher(2, environ={"SLURM_PROCID": "0"})  # srun
    ranks.check_nodes_have_a_launcher(1, environ={})
    # Submitted to SLURM from a login node: SLURM starts pegboard on the job's nodes.
    from pegboard.runner.requeue import SLURM_LAUNCHER

    ranks.check_nodes_have_a_launcher(2, SLURM_LAUNCHER, environ={})
    with pytest.raises(ConfigError, match="needs a launcher"):
        ranks.check_nodes_have_a_launcher(2, "hydra_plugins.x.JoblibLauncher", environ={})
