"""Keras code -> a design, read with :mod:`ast` and never run.

    >>> result = import_source(open("train.py").read())
    >>> result.design            # None when no model could be read
    >>> result.note_lines()      # ["line 3: Dense is not imported: read as keras.layers.Dense"]
    >>> result.problem_lines()   # what was not read, each with its line

:mod:`reader` walks the statements (:mod:`calls` says what each call makes, :mod:`names` how
Keras spells things), :mod:`graph` collects the nodes, :mod:`layers` turns one layer into a
catalog node through Keras' own config, and :mod:`assemble` makes the design.
"""

from designer.codeimport.assemble import CodeImport, SourceError, import_file, import_source

__all__ = ["CodeImport", "SourceError", "import_file", "import_source"]
