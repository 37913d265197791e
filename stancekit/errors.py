"""All exceptions raised by stancekit."""

from __future__ import annotations


class StancekitError(Exception):
    """Base class of every error stancekit raises on purpose."""


class DataError(StancekitError, ValueError):
    """Bad training, evaluation or labelling input, located by file and line."""

    def __init__(self, problem: str, source: str | None = None, line: int | None = None):
        self.problem = problem
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source} line {line}: " if line is not None else f"{source}: "
        super().__init__(where + problem)


class UsageError(StancekitError):
    """A command that cannot start as given (the CLI exits 2): an input that does not
    exist, an output folder that is missing or read-only, an output that exists, an
    output another run is writing, or nothing to resume. Raised before any work."""


class TooManyRejects(StancekitError):
    """A run stopped because more records were rejected than ``max_errors`` allows."""


class ModelLoadError(StancekitError, OSError):
    """A model folder is missing, incomplete or incompatible."""


class ConfigError(StancekitError, ValueError):
    """An invalid model or training configuration."""


class MissingExtraError(StancekitError, ImportError):
    """A feature needs an optional dependency group (an extra) that is not installed."""
