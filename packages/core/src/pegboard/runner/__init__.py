"""The Hydra runner: task functions behind ``pegboard train`` and friends.

Internal to pegboard: packs import only the contract that docs/packs.md lists.

Only light modules load here; the heavy training code is imported when a job starts.
"""

from pegboard.runner.app import COMMANDS, run_command

__all__ = ["COMMANDS", "run_command"]
