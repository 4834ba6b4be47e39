"""``model.init_from``: start training from trained weights, tensor by tensor.

The weights come from a local file (a pegboard or Lightning checkpoint, a state-dict
``.pt``/``.pth``, a ``.safetensors`` file), an ``http(s)://`` URL verified by its
SHA-256 (``pegboard.weights``) or a model version in the MLflow registry
(``models:/NAME/VERSION``): ``pegboard.runner.finetune.weights_path`` finds it. Every
file is read without running code.

Each tensor of the model whose name and shape match one of the file's is loaded; the
others keep their fresh initialization: a classifier head for another number of classes
is re-initialized, and one line says so. A state dict saved from the bare network
(``conv1.weight``) fits a LightningModule that holds it as an attribute
(``net.conv1.weight``): the prefix that matches most names is used, and named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pegboard.errors import ConfigError
from pegboard.runner.finetune import weights_path

Shape = tuple[int, ...]
#: How many names a message lists before it says how many more there are.
SHOWN = 4


@dataclass
class Matching:
    """How a file's tensors map onto a model's.

    Args:
        strip: The prefix taken off the file's names (``""``: none).
        add: The prefix put before them (``""``: none).
        loaded: Model name to file name, for each tensor whose name and shape match.
        reshaped: ``(model name, file shape, model shape)`` for each name that matches
            with another shape.
        missing: Model names the file does not hold.
        unused: File names the model does not hold.
    """

    strip: str = ""
    add: str = ""
    loaded: dict[str, str] = field(default_factory=dict)
    reshaped: list[tuple[str, Shape, Shape]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    def rename(self, name: str) -> str:
        """A file name as the model would call it under this matching.

        Args:
            name: A name of the file.
        """
        return self.add + name.removeprefix(self.strip) if name.startswith(self.strip) else name


def _listed(names: Iterable[str], limit: int = SHOWN) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _shape(shape: Shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _prefixes(names: Iterable[str], share: float = 0.0) -> list[str]:
    """``""`` and the first components (with their dot) of at least ``share`` of the names."""
    counts: dict[str, int] = {}
    names = list(names)
    for name in names:
        if "." in name:
            first = name.split(".", 1)[0] + "."
            counts[first] = counts.get(first, 0) + 1
    return ["", *(first for first, count in counts.items() if count >= share * len(names))]


def _match(
    model: Mapping[str, Shape], source: Mapping[str, Shape], strip: str, add: str
) -> Matching:
    matching = Matching(strip, add)
    renamed: dict[str, str] = {}
    for name in source:
        if strip and not name.startswith(strip):
            matching.unused.append(name)
            continue
        renamed.setdefault(matching.rename(name), name)
    for name, shape in model.items():
        found = renamed.get(name)
        if found is None:
            matching.missing.append(name)
        elif tuple(source[found]) == tuple(shape):
            matching.loaded[name] = found
        else:
            matching.reshaped.append((name, tuple(source[found]), tuple(shape)))
    matching.unused += [name for renamed_name, name in renamed.items() if renamed_name not in model]
    return matching


def match_names(model: Mapping[str, Shape], source: Mapping[str, Shape]) -> Matching:
    """Map a file's tensor names onto a model's, choosing the prefix that fits best.

    The names are tried as they are, with a top-level part of the model put before them
    (``conv1.weight`` -> ``net.conv1.weight``), with their own first part taken off
    (``module.``, another module's attribute), and with both. The matching with most
    names in common wins; on a tie, the one that changes least.

    Args:
        model: The model's state-dict names and shapes.
        source: The file's names and shapes.
    """
    best: Matching | None = None
    rank: tuple[int, int] = (-1, -1)
    # A prefix to take off is a wrapper's (module., model.): one that most names share.
    for strip in _prefixes(source, share=0.5):
        for add in _prefixes(model):
            if strip == add and strip:
                continue
            matching = _match(model, source, strip, add)
            score = (len(matching.loaded) + len(matching.reshaped), len(matching.loaded))
            if score > rank:  # strictly better: the simpler matchings are tried first
                best, rank = matching, score
    assert best is not None
    return best


def report(label: str, matching: Matching, total: int) -> str:
    """The one line that says what was loaded, what was re-initialized and why.

    Args:
        label: ``model.init_from=<source>``.
        matching: What ``match_names`` found.
        total: How many tensors the model holds.
    """
    parts = [f"{label}: loaded {len(matching.loaded)} of {total} tensors"]
    if matching.reshaped:
        changed = (f"{n} {_shape(old)} -> {_shape(new)}" for n, old, new in matching.reshaped)
        parts.append(
            f"re-initialized {len(matching.reshaped)} whose shape changed: "
            + _listed(changed, 2 * SHOWN)
        )
    if matching.strip or matching.add:
        strip = f"{matching.strip!r} taken off" if matching.strip else ""
        add = f"{matching.add!r} added" if matching.add else ""
        parts.append(f"the file's names with {' and '.join(p for p in (strip, add) if p)}")
    if matching.missing:
        parts.append(
            f"{len(matching.missing)} not in the file keep their initialization "
            f"({_listed(matching.missing)})"
        )
    if matching.unused:
        unused = _listed(matching.unused)
        parts.append(f"{len(matching.unused)} of the file's are not in the model ({unused})")
    return "; ".join(parts)


def unrelated(
    label: str, matching: Matching, model: Mapping[str, Shape], source: Mapping[str, Shape]
) -> str:
    """The one-line refusal of weights that share no parameter with the model.

    Args:
        label: ``model.init_from=<source>``.
        matching: The best matching found.
        model: The model's names and shapes.
        source: The file's names and shapes.
    """
    held = (f"{name} {_shape(shape)}" for name, shape in source.items())
    holds = (f"{name} {_shape(shape)}" for name, shape in model.items())
    names = (
        f"{len(matching.reshaped)} names match with other shapes "
        f"({_listed(f'{n} {_shape(o)} -> {_shape(w)}' for n, o, w in matching.reshaped)})"
        if matching.reshaped
        else "no name matches"
    )
    return (
        f"{label}: no parameter of the model matches the file by name and shape ({names}), "
        "so nothing would load: a checkpoint of another architecture? The file holds "
        f"{len(source)} tensors ({_listed(held)}); the model {len(model)} ({_listed(holds)})"
    )


@dataclass(frozen=True)
class Loaded:
    """What ``init_weights`` did.

    Args:
        line: The one-line report (``report``).
        names: The model's names of the tensors loaded.
    """

    line: str
    names: frozenset[str]


def load_matching(model: Any, weights: Mapping[str, Any], label: str) -> Loaded:
    """Load every tensor of ``weights`` whose name and shape match one of ``model``'s.

    Args:
        model: An ``nn.Module`` (the built LightningModule).
        weights: Names to tensors (``pegboard.weights.load_weights_file``).
        label: How the source is named in messages (``model.init_from=...``).

    Returns:
        The report line and the names loaded.

    Raises:
        ConfigError: No parameter of the model matches (``unrelated``).
    """
    state = model.state_dict()
    shapes = {name: tuple(tensor.shape) for name, tensor in state.items()}
    source = {name: tuple(tensor.shape) for name, tensor in weights.items()}
    matching = match_names(shapes, source)
    parameters = {name for name, _ in model.named_parameters()}
    if not parameters & set(matching.loaded):
        raise ConfigError(unrelated(label, matching, shapes, source))
    model.load_state_dict(
        {name: weights[found] for name, found in matching.loaded.items()}, strict=False
    )
    return Loaded(report(label, matching, len(shapes)), frozenset(matching.loaded))


def init_weights(
    model: Any, init_from: str, sha256: str | None = None, tracking_uri: str | None = None
) -> Loaded:
    """Start ``model`` from the weights ``init_from`` names (see the module's docstring).

    Args:
        model: The built LightningModule.
        init_from: A file, an ``http(s)://`` URL or ``models:/NAME/VERSION``.
        sha256: The SHA-256 the file must have (required for a URL).
        tracking_uri: The MLflow store of ``models:/`` sources.

    Returns:
        The one-line report of what was loaded and what was not, and the names loaded.
    """
    from pegboard.weights import load_weights_file

    path = weights_path(init_from, sha256, tracking_uri)
    return load_matching(model, load_weights_file(path), f"model.init_from={init_from}")


__all__ = [
    "Loaded",
    "Matching",
    "init_weights",
    "load_matching",
    "match_names",
    "report",
    "unrelated",
]
