"""The translation hook of the runtime's sentences for the user (client, remote, install).

Standard library only: these modules run inside QGIS's Python but cannot import Qt (the
worker and the installer run outside QGIS too). The plugin points the hook at Qt's
translator (set_translate) when it loads; until then, and outside QGIS, tr() keeps the
English source.
"""
from __future__ import annotations

from typing import Callable


def _untranslated(context: str, text: str) -> str:
    return text


_translate: Callable[[str, str], str] = _untranslated


def set_translate(translate: Callable[[str, str], str]) -> None:
    """Translate the runtime's sentences with `translate(context, text)`, e.g. QCoreApplication.translate."""
    global _translate
    _translate = translate


def tr(text: str) -> str:
    # pylupdate5 files module-level tr() calls under the "@default" context.
    return _translate("@default", text)
