"""Which process of a distributed job this is, and the one run directory all of them share.

A job's processes can be started by Lightning itself (``trainer=ddp_cpu``: it re-runs
the command with ``LOCAL_RANK``/``NODE_RANK`` set), by torchrun (``RANK``,
``GROUP_RANK``, ``LOCAL_RANK``), by SLURM's ``srun`` (``SLURM_PROCID``), by LSF's
``jsrun`` (``JSM_NAMESPACE_RANK``) or by MPI (``OMPI_COMM_WORLD_RANK``, ``PMI_RANK``):
the variables Lightning's cluster environments read. Only global rank 0 writes run
files and prints; it is the process for which every one of them that is set is 0.

When an outside launcher starts ``pegboard`` once per process (torchrun on each node,
``srun`` with several tasks), every process composes its own config, and a run
directory named by the clock would differ from node to node. Rank 0 claims the folder
and hands its path to the others: through torchrun's own key-value store, or through
a small file beside the runs that ``srun``'s tasks share (SLURM assumes a shared file
system), keyed by the job's id.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

from pegboard.errors import ConfigError

#: Variables that hold a process's rank among all processes of a job, by launcher.
GLOBAL_RANK_VARIABLES = (
    "RANK",
    "SLURM_PROCID",
    "JSM_NAMESPACE_RANK",
    "OMPI_COMM_WORLD_RANK",
    "PMI_RANK",
)
#: Variables that hold a rank within a node or a node's rank (Lightning's own launcher).
PARTIAL_RANK_VARIABLES = ("LOCAL_RANK", "NODE_RANK", "GROUP_RANK")
#: Seconds the other processes wait for rank 0 to name the run directory.
RENDEZVOUS_TIMEOUT_ENV = "PEGBOARD_RENDEZVOUS_TIMEOUT"
_STORE_KEY = "pegboard/run_dir"


def _rank_values(environ: Mapping[str, str]) -> dict[str, int]:
    values = {}
    for name in (*GLOBAL_RANK_VARIABLES, *PARTIAL_RANK_VARIABLES):
        text = environ.get(name, "").strip()
        if text.isdigit():
            values[name] = int(text)
    return values


def global_rank(environ: Mapping[str, str] | None = None) -> int:
    """This process's rank among all processes of its job (0 when it runs alone).

    Args:
        environ: The environment to read; ``os.environ`` by default.
    """
    values = _rank_values(os.environ if environ is None else environ)
    if not any(values.values()):
        return 0
    for name in GLOBAL_RANK_VARIABLES:
        if values.get(name):
            return values[name]
    # Lightning's own launcher names a worker by its node and its rank on that node.
    node = values.get("NODE_RANK") or values.get("GROUP_RANK") or 0
    local = values.get("LOCAL_RANK", 0)
    per_node = int(
        (os.environ if environ is None else environ).get("LOCAL_WORLD_SIZE") or local + 1
    )
    return node * per_node + local


def is_global_zero(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process is global rank 0: the one that writes run files and prints.

    Args:
        environ: The environment to read; ``os.environ`` by default.
    """
    return global_rank(environ) == 0


def external_launch(environ: Mapping[str, str] | None = None) -> str | None:
    """``"torchrun"`` or ``"srun"`` when an outside launcher started one pegboard per rank.

    Args:
        environ: The environment to read; ``os.environ`` by default.
    """
    env = os.environ if environ is None else environ
    if env.get("TORCHELASTIC_RUN_ID") is not None and int(env.get("WORLD_SIZE", "1")) > 1:
        return "torchrun"
    tasks = env.get("SLURM_STEP_NUM_TASKS") or env.get("SLURM_NTASKS") or "1"
    if env.get("SLURM_STEP_ID") is not None and tasks.isdigit() and int(tasks) > 1:
        return "srun"
    return None


def check_nodes_have_a_launcher(
    num_nodes: object, hydra_launcher: object = None, environ: Mapping[str, str] | None = None
) -> None:
    """Refuse ``trainer.num_nodes`` above 1 when nothing started the other nodes.

    Lightning would wait for them at its rendezvous for half an hour; no process of the
    job exists on another node unless a launcher (torchrun, srun, jsrun, mpirun) started
    this one, which it says in the variables of ``GLOBAL_RANK_VARIABLES``.

    Args:
        num_nodes: The value of ``trainer.num_nodes``.
        hydra_launcher: ``hydra.launcher._target_``: with SLURM's, the job is submitted
            from here and SLURM starts pegboard on each of its nodes.
        environ: The environment to read; ``os.environ`` by default.

    Raises:
        ConfigError: More than one node, and no launcher.
    """
    from pegboard.runner.requeue import SLURM_LAUNCHER

    env = os.environ if environ is None else environ
    if not isinstance(num_nodes, int) or num_nodes <= 1 or hydra_launcher == SLURM_LAUNCHER:
        return
    if any(env.get(name) is not None for name in GLOBAL_RANK_VARIABLES):
        return
    raise ConfigError(
        f"trainer.num_nodes={num_nodes} needs a launcher that starts pegboard on every node: "
        f"torchrun --nnodes={num_nodes} --node-rank=N ... $(which pegboard) train ..., or "
        f"SLURM (pegboard train -m hydra/launcher=slurm hydra.launcher.nodes={num_nodes}); "
        "see docs/clusters.md"
    )


def _timeout() -> float:
    return float(os.environ.get(RENDEZVOUS_TIMEOUT_ENV, "300"))


def _store() -> object:
    import torch.distributed as dist

    return dist.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        is_master=False,
        timeout=timedelta(seconds=_timeout()),
    )


def _store_key() -> str:
    # A torchrun restart is a new attempt: it claims a folder of its own.
    return f"{_STORE_KEY}/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}"


def _pointer_file(runs_parent: Path) -> Path:
    # A requeued job keeps its id and counts its restarts: each start claims anew.
    job = os.environ.get("SLURM_JOB_ID", "job")
    step = os.environ.get("SLURM_STEP_ID", "0")
    restart = os.environ.get("SLURM_RESTART_COUNT", "0")
    return runs_parent / f".pegboard-slurm-{job}.{step}.{restart}.run_dir"


def shared_run_dir(wanted: Path, claim: Callable[[Path], Path]) -> Path:
    """The run directory of this job: claimed by rank 0, learnt by every other process.

    Args:
        wanted: The folder the config asks for (each process computed its own).
        claim: Claims a free folder for ``wanted`` (``claim_run_dir``).

    Raises:
        ConfigError: Rank 0 did not name the folder within the rendezvous timeout
            (``PEGBOARD_RENDEZVOUS_TIMEOUT`` seconds, 300 by default).
    """
    launcher = external_launch()
    if launcher is None:
        return claim(wanted)
    zero = is_global_zero()
    if launcher == "torchrun" and os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True":
        store = _store()
        if zero:
            free = claim(wanted)
            store.set(_store_key(), str(free))  # type: ignore[attr-defined]
            return free
        try:
            return Path(store.get(_store_key()).decode())  # type: ignore[attr-defined]
        except Exception as error:  # torch raises its own timeout types
            raise _no_rendezvous(launcher) from error
    pointer = _pointer_file(wanted.parent)
    if zero:
        free = claim(wanted)
        tmp = pointer.with_suffix(".tmp")
        tmp.write_text(str(free))
        tmp.replace(pointer)  # atomic: the others never read half a path
        return free
    deadline = time.monotonic() + _timeout()
    while time.monotonic() < deadline:
        if pointer.is_file():
            return Path(pointer.read_text())
        time.sleep(0.2)
    raise _no_rendezvous(launcher)


def _no_rendezvous(launcher: str) -> ConfigError:
    return ConfigError(
        f"rank {global_rank()} of a {launcher} job: rank 0 did not name the run directory "
        f"within {_timeout():.0f} s ({RENDEZVOUS_TIMEOUT_ENV}); is rank 0 running, and "
        "do the processes share the file system?"
    )


__all__ = [
    "GLOBAL_RANK_VARIABLES",
    "PARTIAL_RANK_VARIABLES",
    "RENDEZVOUS_TIMEOUT_ENV",
    "check_nodes_have_a_launcher",
    "external_launch",
    "global_rank",
    "is_global_zero",
    "shared_run_dir",
]
