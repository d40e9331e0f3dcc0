"""``class create|submit|leaderboard|close|open``: assignments for a classroom (issue 16).

``train DESIGN --assignment DIR`` (in ``designer.commands.train``) trains on an assignment's
data; the rules it checks first are :func:`designer.classroom.scoring.check_design`'s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from designer.classroom import assignment as assignments
from designer.classroom import passphrase
from designer.classroom.rules import Broken, Rules
from designer.classroom.scoring import RulesBroken, submit
from designer.classroom.submissions import check_name, csv_text, leaderboard, read_submissions
from designer.errors import EXIT_OK, EXIT_PROBLEM, EXIT_UNREADABLE, CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "class",
        help="classroom assignments: create, submit, leaderboard, close, open",
        description="Assignments with a hidden test set, rules and a leaderboard.",
    )
    group = p.add_subparsers(dest="class_command", metavar="ACTION")
    p.set_defaults(handler=lambda args: p.print_help() or EXIT_UNREADABLE)

    c = group.add_parser("create", help="make an assignment folder (prints the passphrase)")
    c.add_argument("dir", help="the folder to create (new or empty)")
    c.add_argument("--dataset", required=True, metavar="ID", help="data set id (see `datasets`)")
    c.add_argument("--template", metavar="ID", help="starting design (default: one made for it)")
    c.add_argument("--title", metavar="TEXT", help="what students see at the top")
    c.add_argument("--max-params", type=int, metavar="N", help="most parameters a design may have")
    c.add_argument("--max-epochs", type=int, metavar="N", help="most epochs a run may train")
    c.add_argument("--allow", metavar="TYPE,...", help="the only layer types a design may use")
    c.add_argument("--lock", metavar="NODE,...", help="template nodes students cannot change")
    c.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        metavar="F",
        help="share of the data held back as the hidden test set (default 0.2)",
    )
    c.add_argument("--seed", type=int, default=42, metavar="S", help="seed of the split")
    c.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="take the teacher passphrase from this environment variable (default: generate)",
    )
    c.set_defaults(handler=cmd_create)

    s = group.add_parser("submit", help="score a run on the hidden test set and record it")
    s.add_argument("dir", help="the assignment folder")
    s.add_argument("run", help="a run directory trained with --assignment")
    s.add_argument("--name", required=True, help="the student's display name")
    s.set_defaults(handler=cmd_submit)

    b = group.add_parser("leaderboard", help="RANK SCORE SUBMISSIONS NAME, best first")
    b.add_argument("dir", help="the assignment folder")
    b.add_argument("--csv", metavar="FILE", help="also write every submission to this CSV")
    b.set_defaults(handler=cmd_leaderboard)

    for action, help_text in (("close", "stop taking submissions"), ("open", "take them again")):
        o = group.add_parser(action, help=help_text)
        o.add_argument("dir", help="the assignment folder")
        o.set_defaults(handler=cmd_open_close, open=action == "open")


def _list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [t.strip() for t in text.split(",") if t.strip()]


def open_assignment(folder: str) -> assignments.Assignment:
    """The assignment in ``folder``, or one line and exit 2."""
    try:
        return assignments.load(folder)
    except assignments.AssignmentError as exc:
        raise CommandError(str(exc)) from None


def print_broken(broken: list[Broken]) -> int:
    for b in broken:
        print(b.line())
    return EXIT_PROBLEM


def cmd_create(args) -> int:
    given = None
    if args.passphrase_env:
        given = os.environ.get(args.passphrase_env)
        if not given:
            raise CommandError(f"--passphrase-env: ${args.passphrase_env} is not set or empty")
    rules = Rules(
        max_params=args.max_params,
        max_epochs=args.max_epochs,
        allow=_list(args.allow),
        lock=_list(args.lock) or [],
    )
    try:
        made = assignments.create(
            args.dir,
            args.dataset,
            template_id=args.template,
            title=args.title,
            rules=rules,
            test_fraction=args.test_fraction,
            seed=args.seed,
        )
    except assignments.AssignmentError as exc:
        raise CommandError(str(exc)) from None
    secret = given or passphrase.generate()
    passphrase.write(made.teacher_file, secret)
    print(
        f"{made.folder}: {made.title} · {made.n_train} training rows, "
        f"{made.n_hidden} hidden test rows · template {made.template_id or 'a minimal start'}"
    )
    print(f"students train with: keras-designer train DESIGN --assignment {made.folder}")
    if given:
        print(f"the passphrase is the one in ${args.passphrase_env} (only its hash is kept)")
    else:
        print(f"teacher passphrase: {secret}")
    return EXIT_OK


def cmd_submit(args) -> int:
    problem = check_name(args.name)
    if problem:
        raise CommandError(f"--name: {problem}")
    assignment = open_assignment(args.dir)
    if not assignment.open:
        raise CommandError("submissions are closed for this assignment", EXIT_PROBLEM)
    if not Path(args.run).is_dir():
        raise CommandError(f"{args.run} is not a run directory")
    try:
        sub = submit(assignment, args.run, args.name)
    except RulesBroken as exc:
        return print_broken(exc.broken)
    except assignments.AssignmentError as exc:
        raise CommandError(str(exc), EXIT_PROBLEM) from None
    print(f"{sub.name}: {assignment.metric} on {assignment.n_hidden} hidden rows")
    print(f"score: {sub.score:.4f}")
    return EXIT_OK


def cmd_leaderboard(args) -> int:
    assignment = open_assignment(args.dir)
    subs = read_submissions(assignment.folder)
    for standing in leaderboard(subs):
        print(standing.line())
    if args.csv:
        try:
            Path(args.csv).write_text(csv_text(subs), encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {args.csv}: {exc.strerror or exc}") from None
        print(f"wrote {len(subs)} submissions to {args.csv}", file=sys.stderr)
    return EXIT_OK


def cmd_open_close(args) -> int:
    assignment = open_assignment(args.dir)
    assignment.set_open(args.open)
    print(f"{assignment.folder}: submissions {'open' if args.open else 'closed'}")
    return EXIT_OK
