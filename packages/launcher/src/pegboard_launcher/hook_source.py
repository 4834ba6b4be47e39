"""What a pack's hook module implements, read from its source without importing it.

``pegboard --help`` lists the commands packs add and ``pegboard plugins`` the hooks each
pack implements, yet neither may import a hook module (it may import torch, or do
anything at import). Its source is parsed instead, as the manifest's is: functions
marked ``@hookimpl`` (or ``@pegboard.hookimpl``) are the hooks it implements, and a
``pegboard_commands`` that returns a dict literal of the module's own functions names its
commands, each summarised by the first line of its function's docstring.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from importlib.metadata import Distribution

from pegboard_launcher.static_api import manifest_file

COMMANDS_HOOK = "pegboard_commands"


@dataclass(frozen=True)
class HookSource:
    """A hook module as its source tells.

    Args:
        module: The hook module's dotted name.
        found: Whether its source file was found and parsed.
        hooks: The hooks it implements, by name.
        commands: Command name to one-line summary; ``None`` when ``pegboard_commands``
            builds its dict at run time (the commands exist, but cannot be listed).
    """

    module: str
    found: bool = False
    hooks: tuple[str, ...] = ()
    commands: dict[str, str] | None = field(default_factory=dict)


def _is_hookimpl(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
    return name == "hookimpl"


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _summary(function: _Function | None) -> str:
    doc = ast.get_docstring(function) if function is not None else None
    return (doc or "").strip().splitlines()[0] if doc and doc.strip() else ""


def _commands(hook: _Function, functions: dict[str, _Function]) -> dict[str, str] | None:
    returns = [node for node in ast.walk(hook) if isinstance(node, ast.Return)]
    if len(returns) != 1 or not isinstance(returns[0].value, ast.Dict):
        return None
    commands: dict[str, str] = {}
    for key, value in zip(returns[0].value.keys, returns[0].value.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        named = functions.get(value.id) if isinstance(value, ast.Name) else None
        commands[key.value] = _summary(named)
    return commands


def parse_hook_source(module: str, source: str) -> HookSource:
    """Read the hooks and commands of a hook module's source.

    Args:
        module: The module's dotted name.
        source: Its Python source.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return HookSource(module)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    hooks = tuple(
        name
        for name, node in functions.items()
        if any(_is_hookimpl(decorator) for decorator in node.decorator_list)
    )
    commands: dict[str, str] | None = {}
    if COMMANDS_HOOK in hooks:
        commands = _commands(functions[COMMANDS_HOOK], functions)
    return HookSource(module, True, hooks, commands)


def read_hook_source(module: str, dist: Distribution | None) -> HookSource:
    """Find a pack's hook module beside its distribution (or on ``sys.path``) and read it.

    Args:
        module: The hook module's dotted name (``Plugin.hooks``).
        dist: The pack's distribution.
    """
    path = manifest_file(module, dist)
    if path is None:
        return HookSource(module)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return HookSource(module)
    return parse_hook_source(module, source)


__all__ = ["HookSource", "parse_hook_source", "read_hook_source"]
