"""Exit codes and the error a subcommand raises to end with one clear line.

Kept apart from ``designer.cli`` so that ``python -m designer.cli`` (where that module runs as
``__main__``) and the subcommand modules share one class.
"""

EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE = 0, 1, 2


class CommandError(Exception):
    """Raised by a subcommand to end with one clear line and an exit code."""

    def __init__(self, message: str, code: int = EXIT_UNREADABLE):
        super().__init__(message)
        self.code = code
