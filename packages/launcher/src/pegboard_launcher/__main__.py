"""``python -m pegboard_launcher`` is the ``pegboard`` command."""

from pegboard_launcher.cli import console_main

console_main()
