"""Errors that pegboard reports to users as short messages instead of tracebacks."""

from __future__ import annotations


class PegboardError(Exception):
    """Base class of errors whose message alone tells the user what to fix."""


class ConfigError(PegboardError):
    """A configuration value or option is wrong; the message names it and what would be right."""


class DataNotFound(ConfigError):
    """A datamodule's files are not on this machine (and downloading was not asked for).

    The message says where they were looked for and how to get them; the conformance kit
    reports such a dataset ``skip``, not ``fail``.
    """


class PluginError(PegboardError):
    """A plugin pack is broken, incompatible or in conflict with another pack."""


__all__ = ["ConfigError", "DataNotFound", "PegboardError", "PluginError"]
