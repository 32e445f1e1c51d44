"""click's own sentences (usage errors, "Error:", "Try ... for help") in the course's language.

click marks each sentence it prints for gettext, and each click module binds
``_`` and ``ngettext`` when it is imported. :func:`use` rebinds those names in
the modules whose sentences a student can meet to a lookup in the catalogue's
``cli.click`` table (grader/i18n: click's English text -> translation). A
sentence the table lacks stays click's English. gettext's own catalogues do
not help here: they choose the language from the environment, not from
course.toml.
"""
from __future__ import annotations

import gettext
import importlib

import click

from grader import i18n

#: The click modules that print to a student: errors, parser, parameter types, help.
MODULES = ("core", "exceptions", "parser", "types", "formatting", "decorators", "termui")
#: click's English sentence -> the translation in use (empty: click's English).
_table: dict[str, str] = {}


def use(language: str | None) -> None:
    """Print click's sentences in ``language``; None restores click's English (the staff commands)."""
    _table.clear()
    if language:
        _table.update(i18n.catalogue(language if language in i18n.available() else "en").get("cli.click", {}))
    for name in MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = translate if _table else gettext.gettext
        if hasattr(module, "ngettext"):
            module.ngettext = translate_counted if _table else gettext.ngettext
    click.types.Path.name = property(path_noun, lambda self, value: None)


def translate(message: str) -> str:
    """click's ``message`` in the language in use."""
    return _table.get(message, message)


def translate_counted(singular: str, plural: str, n: int) -> str:
    """click's singular or plural sentence for ``n``, in the language in use."""
    return translate(singular if n == 1 else plural)


def path_noun(path: click.Path) -> str:
    """The kind a path parameter names in its errors ("File 'x' is a directory."), looked up when read:
    click stores it when the parameter is made, and the commands built at import predate :func:`use`."""
    if path.file_okay and not path.dir_okay:
        return translate("file")
    if path.dir_okay and not path.file_okay:
        return translate("directory")
    return translate("path")
