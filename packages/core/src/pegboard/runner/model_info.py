"""``pegboard model-info``: build a model from its config and print its size and FLOPs."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from pegboard.errors import ConfigError
from pegboard.inspect import human, model_info
from pegboard.runner.build import build, resolve
from pegboard.runner.contract import split_kit
from pegboard.runner.finetune import split_finetune
from pegboard.runner.validate import check_node


def format_info(name: str, info: dict[str, Any]) -> str:
    """Render ``pegboard.inspect.model_info``'s result as a small table.

    Args:
        name: What to call the model in the title (its class).
        info: The dict ``model_info`` returned.
    """
    shape = "x".join(str(d) for d in info["input_shape"])
    lines = [
        f"{name} on {shape} inputs -> {info['output_shape']}",
        f"  parameters   {info['parameters']:>14,}  ({human(info['parameters'])}, "
        f"trainable {info['trainable_parameters']:,})",
        f"  forward      {info['flops']:>14,}  FLOPs per sample ({human(info['flops'])})",
        "",
    ]
    rows = [
        (b["name"], b["type"], human(b["parameters"]), human(b["flops"])) for b in info["blocks"]
    ]
    header = ("block", "type", "params", "FLOPs")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        lines.append(
            "  "
            + "  ".join(
                f"{cell:<{w}}" if i < 2 else f"{cell:>{w}}"
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    return "\n".join(lines)


def show_model_info(cfg: DictConfig) -> dict[str, Any]:
    """Build ``cfg.model`` (the weights stay random) and print its size and cost.

    Args:
        cfg: A composed ``model-info`` config: ``model``, ``data`` (for the shapes the
            model config interpolates) and ``input_shape``.

    Returns:
        The dict from ``pegboard.inspect.model_info``, with ``class`` added.
    """
    resolved = resolve(cfg)
    node = resolved.get("model")
    if not isinstance(node, dict) or "_target_" not in node:
        raise ConfigError("model-info needs a model config with a _target_ (model=NAME)")
    # A model config's own pretrained weights are a training setting: sizes need none.
    node = split_finetune(split_kit(node)[0])[0]
    check_node(node, "model")
    model = build(node, "model")
    input_shape = list(resolved["input_shape"])
    info = model_info(model, input_shape, batch_size=int(cfg.batch_size))
    info["class"] = f"{type(model).__module__}.{type(model).__qualname__}"
    print(format_info(info["class"], info))
    return info


__all__ = ["format_info", "show_model_info"]
