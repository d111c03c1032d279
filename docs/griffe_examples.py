"""Griffe extension for the API reference: keras-ip docstrings head their doctests "Example:".

Google style reads a singular "Example:" as an admonition whose body is Markdown, so the
`>>>` lines would lose their code formatting. This renames the heading to "Examples:",
the section griffe renders as Python console code. Loaded from mkdocs.yml.
"""

import re

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class DoctestExamples(griffe.Extension):
    def on_object(self, *, obj, **kwargs):
        del kwargs
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE_HEADING.sub(r"\1Examples:", obj.docstring.value)
