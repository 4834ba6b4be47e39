"""The ``pegboard`` command: plugin discovery, the config search path, and dispatch."""

__version__ = "0.1.0"
