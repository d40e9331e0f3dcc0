"""The ``keras-designer`` command.

Exit codes, the same for every subcommand: 0 success, 1 a problem with the content (reported
per node, one ``node_id: message`` line each), 2 unreadable input (not a design, not a model,
a missing file). No subcommand prints a traceback for bad input.

TensorFlow is imported only inside the subcommands that need it, so ``--help``, ``templates``
and ``layers`` start instantly. Subcommands live in small modules (``designer/commands/``)
that each add themselves to the parser through ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from designer import settings, tf_startup
from designer.design.spec import DesignFileError
from designer.errors import EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE, CommandError
from designer.text import one_line

__all__ = ["EXIT_OK", "EXIT_PROBLEM", "EXIT_UNREADABLE", "CommandError", "main"]

# Each module defines register(subparsers); its handlers return an exit code.
COMMAND_MODULES = (
    "designer.commands.core",
    "designer.commands.train",
    "designer.commands.experiments",
    "designer.commands.search",
    "designer.commands.export",
    "designer.commands.explain",
    "designer.commands.bench",
    "designer.commands.cluster",
    "designer.commands.classroom",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keras-designer",
        description="Build Keras models as design files: validate, summarise, export, train.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Before anything imports TensorFlow: its start-up lines are not the command's to print.
    tf_startup.install()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_OK

    try:
        return int(args.handler(args) or EXIT_OK)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except DesignFileError as exc:
        print(
            f"error: {args.__dict__.get('design', '')}: {exc}".replace(": : ", ": "),
            file=sys.stderr,
        )
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, never a traceback
        print(f"error: {type(exc).__name__}: {one_line(exc, 300)}", file=sys.stderr)
        if settings.flag(settings.DEBUG):
            raise
        return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
