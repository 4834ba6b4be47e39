"""The full constructor signature of a class whose ``__init__`` forwards ``**kwargs``.

pegboard checks every config key against ``inspect.signature`` of the class it builds
(``pegboard.runner.validate``): a misspelt key such as ``model.ema_decy`` is refused with
a suggestion, a value of the wrong type with the type it should have. A subclass written
``__init__(self, own..., **task_options)`` that passes the rest on to its base would hide
the base's arguments from that check, since ``**kwargs`` takes any key.

``pegboard.Model.__init_subclass__`` and ``pegboard.DataModule.__init_subclass__`` call
``publish_signature`` on every subclass as it is created, so no decorator is needed. It sets
``cls.__signature__``, which ``inspect.signature(cls)`` returns before looking at
``__init__``: the class's own arguments followed by its base's, keyword-only, with their
annotations evaluated so the type check sees the base's annotations too.

``__init__`` is left as written: Lightning's ``save_hyperparameters`` reads its real
signature and frame to collect the arguments, and ``load_from_checkpoint`` passes the
saved ones back through ``**kwargs``.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any, TypeVar

C = TypeVar("C", bound=type)

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _evaluated_signature(obj: Any) -> inspect.Signature:
    # Modules with ``from __future__ import annotations`` hold annotations as strings,
    # which the type check cannot use; evaluate them here, once, where the names resolve.
    try:
        return inspect.signature(obj, eval_str=True)
    except Exception:
        # An annotation naming what only type checkers import: keep the strings (the
        # type check then skips those keys, and the key check still works).
        return inspect.signature(obj)


def _forwarded_to(cls: type) -> type:
    """The class whose ``__init__`` a ``super().__init__(...)`` in ``cls`` reaches."""
    return next(base for base in cls.__mro__[1:] if "__init__" in vars(base))


def publish_signature(cls: type) -> None:
    """Set ``cls.__signature__`` to its own arguments and those its ``**kwargs`` reach.

    Only a class whose own ``__init__`` takes ``**kwargs`` gets a combined signature; it
    is assumed to pass them to its base, as pegboard's models and datamodules do. The
    base's ``*args`` and ``**kwargs`` are left out: Lightning's bases take and ignore them,
    and keeping them would let any key through. A class that inherits ``__init__``
    inherits the signature with it. A class that sets ``__signature__`` in its body keeps
    its own (the way out for a class whose ``**kwargs`` go elsewhere).

    Args:
        cls: A class just created.
    """
    init = vars(cls).get("__init__")
    if init is None or "__signature__" in vars(cls):
        return
    own = _evaluated_signature(init)
    if not any(p.kind is p.VAR_KEYWORD for p in own.parameters.values()):
        if getattr(cls, "__signature__", None) is not None:
            # A base published its signature; this __init__ replaces it, and
            # inspect.signature reads that __init__ only when __signature__ is None.
            cls.__signature__ = None  # type: ignore[attr-defined]
        return
    params = [p for p in list(own.parameters.values())[1:] if p.kind is not p.VAR_KEYWORD]
    names = {p.name for p in params}
    # The base class's signature, not its __init__'s: a base that forwards in turn has
    # published its own combined one.
    for param in _evaluated_signature(_forwarded_to(cls)).parameters.values():
        if param.name not in names and param.kind not in _VARIADIC:
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    cls.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]


def extends(cls: C) -> C:
    """Deprecated, and removed after pegboard-core 0.1: subclasses need no decorator now.

    ``pegboard.Model`` and ``pegboard.DataModule`` subclasses publish their signature
    when they are created, so on them this does nothing. On any other class it still
    calls ``publish_signature``, as the decorator did.

    Args:
        cls: A class whose ``__init__`` passes ``**kwargs`` to its base class.
    """
    warnings.warn(
        f"pegboard.signature.extends is deprecated: remove @extends from {cls.__qualname__}; "
        "pegboard.Model and pegboard.DataModule subclasses publish their signature themselves",
        DeprecationWarning,
        stacklevel=2,
    )
    publish_signature(cls)
    return cls


__all__ = ["extends", "publish_signature"]
