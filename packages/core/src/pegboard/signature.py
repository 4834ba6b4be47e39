"""Publish the full constructor signature of a class whose ``__init__`` forwards ``**kwargs``.

pegboard checks every config key against the signature of the class it builds (a typo
such as ``data.bach_size`` is refused with a suggestion). A subclass whose
``__init__(self, own..., **kwargs)`` forwards the rest to its base would hide the base's
arguments from that check; this class decorator sets ``cls.__signature__`` (what
``inspect.signature(cls)`` reports) to the subclass's own arguments followed by the base's,
and gives ``__init__`` the resolved annotations of both.

``__init__`` keeps its real signature: Lightning's ``save_hyperparameters`` reads it to
collect the arguments from the constructor's frame.
"""

from __future__ import annotations

import inspect
import typing
from typing import Any, TypeVar

C = TypeVar("C", bound=type)


def extends(cls: C) -> C:
    """Class decorator: ``inspect.signature(cls)`` lists the base's arguments too.

    Args:
        cls: A class whose ``__init__`` passes ``**kwargs`` to its base class.
    """
    init: Any = cls.__dict__["__init__"]
    base = cls.__mro__[1]
    base_init: Any = base.__init__  # type: ignore[misc]
    own = inspect.signature(init)
    forwarded = {p.name for p in own.parameters.values() if p.kind is p.VAR_KEYWORD}
    params = [p for p in list(own.parameters.values())[1:] if p.name not in forwarded]
    names = {p.name for p in params}
    # The class's signature, not its __init__'s: a base decorated here publishes its own.
    for param in inspect.signature(base).parameters.values():
        if param.name not in names and param.kind is not param.VAR_KEYWORD:
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY))
    cls.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    hints: dict[str, Any] = {**typing.get_type_hints(base_init), **typing.get_type_hints(init)}
    for name in forwarded:
        hints.pop(name, None)
    init.__annotations__ = hints
    return cls
