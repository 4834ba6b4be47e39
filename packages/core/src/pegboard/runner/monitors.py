"""Monitored metrics the model never logs: refused before the first epoch ends.

Checkpointing, early stopping, a ``ReduceLROnPlateau`` scheduler and a sweeper each watch
a metric by name. A model that logs ``valid/loss`` while they watch ``val/loss`` would
train a whole epoch and then fail inside Lightning (or hand ``None`` to Optuna). The
names are compared with what the model logged in the sanity-check validation, which runs
before any training step.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

import pytorch_lightning as pl

from pegboard._compat import BASIC_SWEEPER
from pegboard.errors import ConfigError


def logged_later(metric: str) -> bool:
    """Whether ``metric`` names a training or test metric, which validation cannot show.

    Args:
        metric: A monitored name such as ``train/loss`` or ``val/acc``.
    """
    first = metric.split("/", 1)[0].lower()
    return "train" in first or "test" in first


def swept_metric(cfg: Any) -> str | None:
    """``cfg.optimized_metric`` when a sweeper reads the run's result, else ``None``.

    Only a sweeper that optimizes (Optuna, Nevergrad...) reads what ``pegboard train``
    returns; Hydra's basic sweeper and single runs ignore it, so a model that logs no
    ``val/acc`` (a regressor) trains with the default ``optimized_metric`` untouched.

    Args:
        cfg: The job's config.
    """
    name = cfg.get("optimized_metric") if hasattr(cfg, "get") else None
    if not name:
        return None
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    if hydra.mode != RunMode.MULTIRUN:
        return None
    sweeper = str((hydra.sweeper or {}).get("_target_") or "")
    # Hydra's basic sweeper ignores what a job returns.
    return None if sweeper == BASIC_SWEEPER else str(name)


def _suggestion(metric: str, logged: list[str]) -> str | None:
    close = difflib.get_close_matches(metric, logged, n=1, cutoff=0.5)
    return close[0] if close else None


def _setting(key: str, value: str) -> str:
    if key.startswith("callbacks."):
        return f"{key}.monitor={value}"
    if key in ("optimized_metric", "model.scheduler_monitor"):
        return f"{key}={value}"
    return f"the monitor of {key}"


def missing_monitor_message(missing: Mapping[str, list[str]], model: str, logged: list[str]) -> str:
    """One line naming each unlogged metric, who monitors it, what is logged, and the fix.

    Args:
        missing: Metric name to the config keys that monitor it.
        model: The model's class name.
        logged: The metrics the model logged, sorted.
    """
    shown = ", ".join(logged) if logged else "nothing"
    clauses = []
    for metric, keys in missing.items():
        verb = "monitors" if len(keys) == 1 else "monitor"
        guess = _suggestion(metric, logged)
        clause = f"{' and '.join(keys)} {verb} {metric!r}, which {model} does not log"
        if guess:
            fix = " and ".join(_setting(key, guess) for key in keys)
            clause += f". Did you mean {guess!r}? Set {fix}, or log it as {metric!r}"
        else:
            fix = " and ".join(_setting(key, "NAME") for key in keys)
            clause += f"; log it with self.log({metric!r}, ...) or set {fix}"
        clauses.append(clause)
    return "; ".join(clauses) + f" (after the sanity-check validation the model logged: {shown})"


class MonitorGuard(pl.Callback):
    """Refuse, before the first epoch ends, a monitored metric that the run cannot log.

    * No validation data (``data.val_fraction=0``, ``trainer.limit_val_batches=0``) while
      a callback monitors ``val/...``: refused when training starts.
    * A monitored metric absent from what the model logged in the sanity-check validation
      (or, without one, in the first validation, which runs before the checkpoint
      callback's own check, as Lightning calls checkpoint callbacks last): refused, naming
      the metric, the config key that monitors it, what the model does log and the
      closest name. Training and test metrics (``train/...``, ``test/...``) cannot be
      logged yet and are left alone.

    Args:
        names: Config keys of the run's callbacks, by object id, for the message.
        optimized_metric: The metric a sweeper reads (see ``swept_metric``), or None.
        monitors: More config keys and the metric each monitors (the kit passes the
            default callbacks' monitors, whose callbacks it does not build).
    """

    def __init__(
        self,
        names: dict[int, str] | None = None,
        optimized_metric: str | None = None,
        monitors: Mapping[str, str] | None = None,
    ) -> None:
        self.names = names or {}
        self.optimized_metric = optimized_metric
        self.monitors = dict(monitors or {})
        self._checked = False

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if sum(trainer.num_val_batches or [0]) > 0:
            return
        for callback in getattr(trainer, "callbacks", []):
            monitor = getattr(callback, "monitor", None)
            if isinstance(monitor, str) and monitor.startswith("val"):
                name = self.names.get(id(callback), type(callback).__name__)
                raise ConfigError(
                    f"{name} monitors {monitor!r}, but this run has no validation data "
                    "(data.val_fraction=0 or trainer.limit_val_batches=0): give the data a "
                    f"validation split, or leave the callback out (~{name})"
                )

    def on_sanity_check_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.check(trainer, pl_module)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:  # the sanity check's own end comes after this hook
            self.check(trainer, pl_module)

    def _watched(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> Iterator[tuple]:
        from pegboard.model import Model

        for callback in getattr(trainer, "callbacks", []):
            monitor = getattr(callback, "monitor", None)
            if isinstance(monitor, str) and monitor:
                yield self.names.get(id(callback), type(callback).__name__), monitor
        for config in trainer.lr_scheduler_configs:
            if config.reduce_on_plateau and config.monitor:
                yield (
                    (
                        "model.scheduler_monitor"
                        if isinstance(pl_module, Model)
                        else f"the ReduceLROnPlateau scheduler of {type(pl_module).__name__}"
                    ),
                    config.monitor,
                )
        yield from self.monitors.items()
        if self.optimized_metric:
            yield "optimized_metric", self.optimized_metric

    def check(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Compare the monitored names with the logged metrics, once per run.

        Args:
            trainer: The trainer, right after a validation run.
            pl_module: The model.

        Raises:
            ConfigError: A monitored validation metric is not logged.
        """
        if self._checked:
            return
        self._checked = True
        logged = sorted(trainer.callback_metrics)
        missing: dict[str, list[str]] = {}
        for key, metric in self._watched(trainer, pl_module):
            if metric not in trainer.callback_metrics and not logged_later(metric):
                keys = missing.setdefault(metric, [])
                if key not in keys:
                    keys.append(key)
        if missing:
            raise ConfigError(missing_monitor_message(missing, type(pl_module).__name__, logged))


def check_final_metric(metrics: Mapping[str, float], name: str | None) -> None:
    """Refuse to end a swept run whose ``optimized_metric`` is not among its final metrics.

    Args:
        metrics: The run's final metrics (training, validation and test).
        name: The swept metric (``swept_metric``), or None when no sweeper reads it.

    Raises:
        ConfigError: Naming the metric and the metrics that exist.
    """
    if not name or name in metrics:
        return
    found = ", ".join(sorted(metrics)) or "none"
    guess = _suggestion(name, sorted(metrics))
    hint = f" (did you mean optimized_metric={guess}?)" if guess else ""
    raise ConfigError(
        f"optimized_metric={name!r} is not among the run's final metrics ({found}), so the "
        f"sweeper would get no value: set optimized_metric to one of them{hint}"
    )


__all__ = ["MonitorGuard", "check_final_metric", "logged_later", "swept_metric"]
