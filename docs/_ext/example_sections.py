"""A griffe extension for the API reference: docstrings' ``Example:`` sections.

The library's docstrings head their doctests ``Example:`` (one example each, Google style).
Griffe's Google parser reads only ``Examples:`` as the examples section and would render
``Example:`` as an admonition of quoted text, so this extension renames the heading before
the docstrings are parsed; the doctests then render as code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_HEADING = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Renames each docstring's ``Example:`` heading to ``Examples:``."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _HEADING.sub(r"\1Examples:", obj.docstring.value)
