"""Classroom assignments: a data set with a hidden test set, a starting design, rules, and a
log of scored submissions (issue 16).

An assignment is a folder::

    assignment.json        everything a student may see: title, data set, rules, open/closed
    template.json          the starting design (its data: the training part below)
    data/train.npz         the rows students train on, already preprocessed (x, y)
    hidden/test.npz        the held-back rows (x exactly what the model takes, y), never shown
    teacher.json           the scrypt hash of the teacher passphrase
    submissions.jsonl      one scored submission per line, appended atomically

Only ``keras-designer class ...`` and the server read ``hidden/``; nothing a student can
download is built from it.
"""

from .assignment import Assignment, AssignmentError, create, load
from .rules import Rules, broken_rules
from .submissions import Submission, leaderboard, read_submissions

__all__ = [
    "Assignment",
    "AssignmentError",
    "Rules",
    "Submission",
    "broken_rules",
    "create",
    "leaderboard",
    "load",
    "read_submissions",
]
