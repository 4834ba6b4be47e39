"""Check config values against the annotations of the classes they build, before building.

A wrong value (``trainer.max_epochs=abc``) should stop a run at once with the key, the
expected type and the value, not deep inside training with a traceback.
"""

from __future__ import annotations

import difflib
import inspect
import math
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pegboard.errors import ConfigError
from pegboard.runner.finetune import FINETUNE_KEYS

_HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}
#: pegboard's reserved keys: the runner removes them before building (``_kit_``).
_RESERVED_KEYS = {"_kit_"}
#: Those of the model node alone: its fine-tuning settings (``init_from``, ``freeze``...).
_MODEL_KEYS = set(FINETUNE_KEYS)


class _Unresolved:
    """A value only Hydra's runtime can resolve (``${hydra:runtime.output_dir}``)."""

    def __repr__(self) -> str:
        return "<resolved at run time>"


#: Stands for such a value in a node checked before Hydra runs: its type is not checked.
UNRESOLVED = _Unresolved()


def _flatten(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [leaf for arg in typing.get_args(annotation) for leaf in _flatten(arg)]
    return [annotation]


def _describe(annotation: Any) -> str:
    """``int or None``; literals of nested unions are merged into one ``one of`` list."""
    literals: list[Any] = []
    names: list[str] = []
    for leaf in _flatten(annotation):
        if typing.get_origin(leaf) is typing.Literal:
            literals.extend(typing.get_args(leaf))
        elif leaf is type(None):
            names.append("None")
        else:
            names.append(getattr(leaf, "__name__", str(leaf)))
    if literals:
        names.insert(0, "one of " + ", ".join(repr(value) for value in dict.fromkeys(literals)))
    return " or ".join(dict.fromkeys(names))


def _matches(value: Any, annotation: Any) -> bool | None:
    """True or False where the annotation tells, None where it cannot (so nothing is refused)."""
    if annotation is Any or annotation is inspect.Parameter.empty:
        return None
    if annotation is type(None) or annotation is None:
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        verdicts = [_matches(value, arg) for arg in typing.get_args(annotation)]
        if any(verdicts):
            return True
        return None if None in verdicts else False
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if isinstance(value, Mapping) and "_target_" in value:
        return None  # a nested object: checked on its own
    if origin in (list, tuple, Sequence) or annotation in (list, tuple):
        return isinstance(value, list | tuple)
    if origin in (dict, Mapping) or annotation is dict:
        return isinstance(value, Mapping)
    if getattr(annotation, "__name__", "") == "Tensor":
        # Configs give tensor-valued arguments (an lr, a weight decay) as plain numbers.
        return isinstance(value, int | float) and not isinstance(value, bool)
    return None


def _signature_of(target: Any) -> tuple[dict[str, inspect.Parameter], dict[str, Any], bool]:
    func = target.__init__ if inspect.isclass(target) else target
    try:
        params = dict(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return {}, {}, True
    try:
        hints = typing.get_type_hints(func)
    except Exception:
        hints = {
            k: v for k, v in getattr(func, "__annotations__", {}).items() if not isinstance(v, str)
        }
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return params, hints, takes_kwargs


def check_node(node: Mapping[str, Any], path: str) -> None:
    """Check every argument of a ``_target_`` node (and nested nodes) against its target.

    Args:
        node: A resolved config node as plain containers.
        path: Where the node sits in the config, for messages (``"trainer"``).

    Raises:
        ConfigError: A target outside the allow-list of ``pegboard.targets``, a key the
            target does not take, or a value of the wrong type.
    """
    from hydra.utils import get_object

    from pegboard.targets import check_targets

    # The allow-list is a string check: it must run before get_object imports anything.
    check_targets(node, path)
    for key, value in node.items():
        if isinstance(value, Mapping) and key not in _HYDRA_KEYS | _RESERVED_KEYS:
            check_node(value, f"{path}.{key}")
    target_name = node.get("_target_")
    if not isinstance(target_name, str):
        return
    try:
        target = get_object(target_name)
    except Exception as error:
        raise ConfigError(f"{path}._target_={target_name!r} cannot be imported: {error}") from error
    params, hints, takes_kwargs = _signature_of(target)
    if not params:
        return
    reserved = _RESERVED_KEYS | (_MODEL_KEYS if path == "model" else set())
    for key, value in node.items():
        if key in _HYDRA_KEYS or key in reserved:
            continue
        if key not in params:
            if takes_kwargs:
                continue
            valid = [name for name in params if name not in ("self", "args", "kwargs")]
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" Did you mean {path}.{close[0]}?" if close else ""
            raise ConfigError(f"{path}.{key} is not an argument of {target_name}.{hint}")
        annotation = hints.get(key, params[key].annotation)
        if value is UNRESOLVED:
            continue
        if isinstance(value, float) and math.isnan(value):
            # Never a setting: torch accepts some (SGD's lr) and trains on nothing but NaN.
            raise ConfigError(f"{path}.{key}=nan is not a number; give it a value")
        if _matches(value, annotation) is False:
            raise ConfigError(
                f"{path}.{key}={value!r}: expected {_describe(annotation)}, "
                f"got {type(value).__name__} (argument {key!r} of {target_name})"
            )


__all__ = ["UNRESOLVED", "check_node"]
