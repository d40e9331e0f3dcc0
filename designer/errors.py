"""The errors the core raises for people, exit codes, and the error a subcommand ends with.

Every error meant to be read by a person (a design file that is not one, an edit that makes no
sense, a data set that cannot be loaded...) derives from :class:`DesignerError`, so a caller
that shows messages catches that one class, and a bug (any other exception) is never mistaken
for a person's mistake. Kept apart from ``designer.cli`` so that ``python -m designer.cli``
(where that module runs as ``__main__``) and the subcommand modules share one class.
"""

EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE = 0, 1, 2


class DesignerError(ValueError):
    """A problem a person can act on, said in one sentence (never a traceback).

    A ValueError, so code written before this class existed still catches it."""


class CommandError(Exception):
    """Raised by a subcommand to end with one clear line and an exit code."""

    def __init__(self, message: str, code: int = EXIT_UNREADABLE):
        super().__init__(message)
        self.code = code
