"""Loads the plugin's compiled translation (i18n/geovl_<locale>.qm) for QGIS's locale."""
from __future__ import annotations

import os

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QCoreApplication, QTranslator

from ..runtime import i18n

I18N_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "i18n")


def install_translator(locale: str | None = None) -> QTranslator | None:
    """Install the translator for `locale` (default: QGIS's UI locale); None if there is no .qm."""
    locale = (locale or QgsApplication.locale() or "en")[:2]
    path = os.path.join(I18N_DIR, f"geovl_{locale}.qm")
    translator = QTranslator()
    if not os.path.isfile(path) or not translator.load(path):
        return None
    QCoreApplication.installTranslator(translator)
    i18n.set_translate(QCoreApplication.translate)   # the runtime cannot import Qt itself
    return translator


def remove_translator(translator: QTranslator | None) -> None:
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
