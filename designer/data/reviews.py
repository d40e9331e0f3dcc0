"""Made-up movie reviews: an offline text set for the LSTM template (IMDB needs the network).

Each review is a few clauses like "the plot was not very clever" or "i found the music
dull"; its label is positive when its sentiment words, each flipped by a "not" in front of it,
add up above zero. Word order therefore matters ("not dull" is praise), which is what a
recurrent layer is for, while a bag of words alone does worse.

Everything below the imports is self-contained (numpy only): generated scripts include it as
it is (``script_source``), so a script trains on exactly the reviews the app showed.
"""

from __future__ import annotations

import numpy as np

N_REVIEWS = 4000
REVIEW_LENGTH = 200  # as the Keras IMDB set is used in the template: padded at the front


GOOD = (
    "clever",
    "moving",
    "brilliant",
    "funny",
    "beautiful",
    "gripping",
    "charming",
    "superb",
    "touching",
    "fresh",
    "stunning",
    "delightful",
    "smart",
    "tense",
)
BAD = (
    "dull",
    "boring",
    "clumsy",
    "awful",
    "predictable",
    "tedious",
    "bland",
    "silly",
    "lifeless",
    "messy",
    "forced",
    "flat",
    "weak",
    "shallow",
)
SUBJECTS = (
    "the plot",
    "the acting",
    "the story",
    "the music",
    "the ending",
    "the script",
    "the cast",
    "the dialogue",
    "the camera work",
    "this film",
    "the director's work",
    "the pacing",
    "the characters",
    "the whole thing",
)
LINKS = ("was", "felt", "seemed", "is", "looked")
SOFTENERS = ("very", "really", "quite", "rather", "truly", "", "", "")
FILLERS = (
    "i think",
    "to be honest",
    "overall",
    "in the end",
    "and",
    "but",
    "also",
    "sadly",
    "luckily",
    "for me",
    "at times",
)


def review_vocabulary():
    """Word ids: 0 is padding, 1 unknown, then every word the reviews use, sorted."""
    phrases = GOOD + BAD + SUBJECTS + LINKS + SOFTENERS + FILLERS + ("not i found",)
    return ["<pad>", "<unknown>", *sorted({w for p in phrases for w in p.split()})]


def make_reviews(seed, n=N_REVIEWS, length=REVIEW_LENGTH):
    """``n`` reviews as word ids padded at the front to ``length``, their labels (1 = positive)
    and the vocabulary (``vocab[i]`` is the word with id i)."""
    vocab = review_vocabulary()
    ids = {w: i for i, w in enumerate(vocab)}
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length), dtype="int32")
    y = np.zeros(n, dtype="int64")
    for row in range(n):
        target = row % 2  # balanced classes
        while True:  # draw clauses until their sentiment agrees with the target (and isn't 0)
            tokens, score = [], 0
            for _ in range(rng.integers(2, 6)):
                if tokens and rng.random() < 0.5:
                    tokens += str(rng.choice(FILLERS)).split()
                positive = rng.random() < (0.7 if target else 0.3)
                negated = rng.random() < 0.3  # "not dull" says something positive
                word = str(rng.choice(GOOD if positive != negated else BAD))
                score += 1 if positive else -1
                if rng.random() < 0.25:
                    clause = ["i", "found", *str(rng.choice(SUBJECTS)).split()]
                else:
                    clause = [*str(rng.choice(SUBJECTS)).split(), str(rng.choice(LINKS))]
                clause += (["not"] if negated else []) + str(rng.choice(SOFTENERS)).split() + [word]
                tokens += clause
            if (score > 0) == bool(target) and score != 0:
                break
        tokens = tokens[-length:]
        x[row, length - len(tokens) :] = [ids[t] for t in tokens]
        y[row] = target
    return x, y, vocab


def script_source():
    """This module's code from the word lists on: what a generated script includes."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    start = source.index("GOOD = (")
    end = source.index("def script_source(")
    return source[start:end].rstrip() + "\n"
