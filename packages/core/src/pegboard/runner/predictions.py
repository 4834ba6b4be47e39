"""What a model's ``predict_step`` returns, turned into one row per input.

``pegboard predict`` and the conformance kit share these functions, so a model the kit
passes is never refused by ``predict``. A ``predict_step`` may return (docs/model-contract.md):

* logits, a ``(batch, classes)`` float tensor: the probabilities are their softmax and
  the prediction the most probable class;
* values, a ``(batch,)`` or ``(batch, 1)`` tensor: a regression, one ``prediction`` each;
* a dict with ``logits`` (read as above), with ``probabilities`` and ``prediction``, or
  with ``values`` (``(batch, outputs)``: one ``prediction_<name>`` column per value).

A model that does not override ``predict_step`` is called with the batch's inputs:
Lightning's default would call it with the whole ``(inputs, targets)`` batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch

from pegboard.errors import ConfigError

#: What ``predict_step`` may return, for messages.
ACCEPTED = (
    "logits (a (batch, classes) float tensor), values (a (batch,) tensor), or a dict with "
    "'logits', with 'probabilities' and 'prediction', or with 'values' (docs/model-contract.md)"
)


def batch_inputs(batch: Any) -> Any:
    """The inputs of a batch: its first element when it is a list or tuple.

    Args:
        batch: A batch of a predict loader, ``(inputs, targets)`` or bare inputs.
    """
    return batch[0] if isinstance(batch, list | tuple) else batch


@contextmanager
def inputs_only_predict(model: Any) -> Iterator[None]:
    """While inside, a model without its own ``predict_step`` is called with the inputs.

    Lightning's default ``predict_step`` calls ``model(batch)`` with the whole batch,
    targets included. Set on the instance, so the class is left as it is.

    Args:
        model: A LightningModule.
    """
    import pytorch_lightning as pl

    if type(model).predict_step is not pl.LightningModule.predict_step:
        yield
        return

    def predict_step(batch: Any, batch_idx: int = 0, dataloader_idx: int = 0) -> Any:
        return model(batch_inputs(batch))

    model.predict_step = predict_step
    try:
        yield
    finally:
        del model.predict_step


def run_predict(trainer: Any, model: Any, **options: Any) -> list[Any]:
    """``trainer.predict(model, **options)`` with the inputs-only rule for ``predict_step``.

    Args:
        trainer: A ``pytorch_lightning.Trainer``.
        model: The LightningModule.
        **options: ``trainer.predict`` arguments (``datamodule``, ``dataloaders``...).

    Returns:
        What ``predict_step`` returned for each batch.
    """
    with inputs_only_predict(model):
        return list(trainer.predict(model, **options) or [])


def _describe(output: Any) -> str:
    if isinstance(output, torch.Tensor):
        dtype = str(output.dtype).removeprefix("torch.")
        return f"a tensor of shape {tuple(output.shape)} and dtype {dtype}"
    if isinstance(output, dict):
        return f"a dict with keys {sorted(map(str, output))}"
    return "None" if output is None else f"a {type(output).__name__}"


def _from_tensor(tensor: Any) -> tuple[torch.Tensor | None, torch.Tensor] | None:
    if not isinstance(tensor, torch.Tensor):
        return None
    tensor = tensor.detach().cpu()
    if tensor.dim() == 2 and tensor.shape[1] >= 2 and tensor.is_floating_point():
        probabilities = tensor.float().softmax(dim=1)
        return probabilities, probabilities.argmax(dim=1)
    if tensor.dim() == 1 or (tensor.dim() == 2 and tensor.shape[1] == 1):
        return None, tensor.reshape(-1)
    return None


def interpret(output: Any, model: str = "the model") -> tuple[torch.Tensor | None, torch.Tensor]:
    """One batch's ``predict_step`` output as (class probabilities or None, predictions).

    Args:
        output: What ``predict_step`` returned for one batch.
        model: The model's name, for the message.

    Raises:
        ConfigError: The output is none of the accepted forms.
    """
    found: tuple[torch.Tensor | None, torch.Tensor] | None = None
    if isinstance(output, dict) and "probabilities" in output and "prediction" in output:
        probabilities, prediction = output["probabilities"], output["prediction"]
        if (
            isinstance(probabilities, torch.Tensor)
            and isinstance(prediction, torch.Tensor)
            and probabilities.dim() == 2
            and prediction.dim() == 1
            and len(prediction) == len(probabilities)
        ):
            found = probabilities.detach().float().cpu(), prediction.detach().cpu()
    elif isinstance(output, dict) and "logits" in output:
        found = _from_tensor(output["logits"])
    elif isinstance(output, dict) and isinstance(output.get("values"), torch.Tensor):
        values = output["values"].detach().float().cpu()
        if values.dim() in (1, 2):
            found = None, values.reshape(len(values), -1)
    else:
        found = _from_tensor(output)
    if found is None:
        raise ConfigError(f"{model}.predict_step returned {_describe(output)}; return {ACCEPTED}")
    return found


def _value_columns(count: int, names: Sequence[str] | None) -> list[str]:
    if count == 1:
        return ["prediction"]
    labels = list(names) if names and len(names) == count else [str(i) for i in range(count)]
    return [f"prediction_{label}" for label in labels]


def _own_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    # An input column named like a prediction column keeps its value under `input_<name>`.
    def renamed(name: str) -> str:
        taken = name in ("index", "class_name") or name.startswith(("prediction", "prob_"))
        return f"input_{name}" if taken else name

    return {renamed(str(name)): value for name, value in row.items()}


def prediction_rows(
    outputs: Sequence[Any],
    class_names: Callable[[int], Sequence[str]],
    inputs: Sequence[str] | Sequence[Mapping[str, Any]] | None = None,
    model: str = "the model",
    value_names: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """One row per input, the rows ``pegboard predict`` writes.

    Every row has ``index``, then what identifies the input (an ``input`` file, or the
    input table's own columns), then the prediction: for classes ``prediction``,
    ``class_name`` and one ``prob_<class>`` column per class; for values ``prediction``
    (one value) or one ``prediction_<name>`` column per value.

    Args:
        outputs: What ``predict_step`` returned, one item per batch.
        class_names: Gives the names of ``count`` classes (``class_names(count)``).
        inputs: The input file of each row, or each input row's own columns.
        model: The model's name, for messages.
        value_names: The names of the predicted values (a regression's target columns).

    Raises:
        ConfigError: No output, an output of no accepted form, or classes in some
            batches and values in others.
    """
    parts = [interpret(output, model) for output in outputs]
    if not parts:
        raise ConfigError(f"{model}.predict_step returned no predictions")
    classified = {probabilities is not None for probabilities, _ in parts}
    if len(classified) > 1:
        raise ConfigError(
            f"{model}.predict_step returned class scores for some batches and values for "
            f"others; return one form for every batch: {ACCEPTED}"
        )
    joined = torch.cat([prediction for _, prediction in parts])
    columns = _value_columns(joined.shape[1], value_names) if joined.dim() == 2 else None
    predictions = joined.tolist()
    scored = [probabilities for probabilities, _ in parts if probabilities is not None]
    probabilities = torch.cat(scored).tolist() if scored else None
    names = list(class_names(len(probabilities[0]))) if probabilities else []
    rows = []
    for index, predicted in enumerate(predictions):
        row: dict[str, Any] = {"index": index}
        if inputs is not None:
            given = inputs[index]
            row.update(_own_columns(given) if isinstance(given, Mapping) else {"input": given})
        if columns is not None:
            row.update(zip(columns, predicted, strict=True))
        else:
            row["prediction"] = predicted
        if probabilities is not None:
            row["prediction"] = int(predicted)
            row["class_name"] = names[int(predicted)]
            row.update(
                {
                    f"prob_{name}": round(float(p), 6)
                    for name, p in zip(names, probabilities[index], strict=True)
                }
            )
        rows.append(row)
    return rows


def class_names_from(sources: Sequence[Callable[[], Sequence[Any]]]) -> Callable[[int], list[str]]:
    """A ``class_names`` function that takes the first source giving ``count`` names.

    Args:
        sources: Callables returning class names (a datamodule's, a checkpoint's); one
            that raises or gives another count is skipped. Without any, classes are
            named by their index.
    """

    def names(count: int) -> list[str]:
        for source in sources:
            try:
                found = [str(name) for name in source()]
            except (AttributeError, KeyError, RuntimeError, NotImplementedError, TypeError):
                continue
            if len(found) == count:
                return found
        return [str(index) for index in range(count)]

    return names


__all__ = [
    "ACCEPTED",
    "batch_inputs",
    "class_names_from",
    "inputs_only_predict",
    "interpret",
    "prediction_rows",
    "run_predict",
]
