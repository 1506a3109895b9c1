"""Exception hierarchy: the CLI maps ``UsageError`` subclasses to exit code 2, the rest to 1."""


class DedupeError(Exception):
    """Base class for every error dedupe raises on purpose."""


class UsageError(DedupeError):
    """The user asked for something that cannot work as written (exit code 2)."""


class ConfigError(UsageError):
    """A configuration key or value is wrong; the message names the dotted key."""


class InputError(DedupeError):
    """An input path cannot be read at all (a bad record is a ``Reject``, not an error)."""
