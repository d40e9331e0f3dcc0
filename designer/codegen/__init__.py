"""Design -> the Python script a person would have written by hand.

:func:`generate` is the whole API: ``model`` renders the layers and ``build_model()``, ``data``
the loading code of each data set, ``script`` the rest of the file around them.
"""

from designer.codegen.script import generate

__all__ = ["generate"]
