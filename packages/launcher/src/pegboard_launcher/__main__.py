"""``python -m pegboard_launcher`` is the ``pegboard`` command."""

import sys

from pegboard_launcher.cli import main

sys.exit(main())
