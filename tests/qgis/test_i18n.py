"""The French translation: translator install/removal and translated algorithm names."""
from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest
from qgis.PyQt.QtCore import QCoreApplication

from .conftest import REPO_ROOT

SOURCE = "Text-to-image retrieval"


def ts_translation(context: str, source: str) -> str:
    """The translation of `source` in `context` of i18n/geovl_fr.ts."""
    root = ET.parse(os.path.join(REPO_ROOT, "i18n", "geovl_fr.ts")).getroot()
    for ctx in root.iter("context"):
        if ctx.findtext("name") == context:
            for message in ctx.iter("message"):
                if message.findtext("source") == source:
                    return message.findtext("translation")
    raise AssertionError(f"{source!r} is not in context {context} of geovl_fr.ts")


@pytest.fixture
def french(qgis_app):
    from geovl.geovl_plugin.translation import install_translator, remove_translator

    if not os.path.isfile(os.path.join(REPO_ROOT, "i18n", "geovl_fr.qm")):
        pytest.fail("i18n/geovl_fr.qm is missing: run `make transcompile`")
    translator = install_translator("fr")
    yield translator
    remove_translator(translator)


def test_install_and_remove_french(french):
    """install_translator('fr') translates as geovl_fr.ts says; remove_translator restores English."""
    from geovl.geovl_plugin.translation import remove_translator

    expected = ts_translation("RetrieveAlgorithm", SOURCE)
    assert french is not None
    assert expected and expected != SOURCE
    assert QCoreApplication.translate("RetrieveAlgorithm", SOURCE) == expected
    remove_translator(french)
    assert QCoreApplication.translate("RetrieveAlgorithm", SOURCE) == SOURCE


def test_algorithm_names_in_french(french):
    """With French installed, a new RetrieveAlgorithm and its parameters speak French."""
    from geovl.processing.retrieve import RetrieveAlgorithm

    alg = RetrieveAlgorithm()
    alg.initAlgorithm()
    assert alg.displayName() == ts_translation("RetrieveAlgorithm", SOURCE)
    assert alg.parameterDefinition("QUERY").description() == ts_translation("RetrieveAlgorithm", "Query text")
    # Shared parameters come from processing/base.py's module-level tr() ("@default" context).
    assert alg.parameterDefinition("DEVICE").description() == ts_translation("@default", "Device")


def test_unknown_locale_gives_no_translator(qgis_app):
    """A locale without a .qm gives None and changes nothing."""
    from geovl.geovl_plugin.translation import install_translator

    assert install_translator("xx") is None
    assert QCoreApplication.translate("RetrieveAlgorithm", SOURCE) == SOURCE


def test_segment_algorithm_in_french(french):
    """geovl:segment's name, parameters and refusals speak French, placeholders filled."""
    from geovl.processing.segment import SegmentAlgorithm

    alg = SegmentAlgorithm()
    alg.initAlgorithm()
    assert alg.displayName() == ts_translation("SegmentAlgorithm", "Prompted segmentation (SAM)") != \
        "Prompted segmentation (SAM)"
    assert alg.parameterDefinition("MODEL_TYPE").description() == ts_translation(
        "SegmentAlgorithm", "SAM checkpoint type")
    assert alg.parameterDefinition("PRECISION").description() == ts_translation("@default", "Precision")
    message = alg.tr("Feature {} has label {!r} in the field {}; use 1 for the object and 0 for background.")
    assert message.format(4, "maybe", "label") == \
        "L'entité 4 a l'étiquette 'maybe' dans le champ label ; utilisez 1 pour l'objet et 0 pour le fond."


def test_every_message_is_translated_with_its_placeholders():
    """No unfinished message in geovl_fr.ts, and each translation keeps the source's
    str.format placeholders in order ({}, {!r}, ...)."""
    import re

    root = ET.parse(os.path.join(REPO_ROOT, "i18n", "geovl_fr.ts")).getroot()
    for ctx in root.iter("context"):
        for message in ctx.iter("message"):
            source, translation = message.find("source").text, message.find("translation")
            assert translation.get("type") is None and translation.text, (ctx.findtext("name"), source)
            assert re.findall(r"\{[^}]*\}", translation.text) == re.findall(r"\{[^}]*\}", source), source


def test_runtime_sentences_in_french(french):
    """runtime/client.py (standard library only) speaks French once the plugin's translator
    is installed: a runtime that cannot start, and how a worker ended."""
    import shutil

    from geovl.runtime.client import Runtime, WorkerStopped, describe_exit

    runtime = Runtime(shutil.which("false"))   # "false -m geovl.runtime.worker" exits 1 before it is ready
    try:
        with pytest.raises(WorkerStopped) as info:
            runtime.run("retrieve", {}, lambda event: None)
    finally:
        runtime.stop()
    assert str(info.value) == (
        "L'environnement d'exécution de GeoVL n'a pas pu démarrer (code de sortie 1) : aucun message. Ouvrez "
        "Extensions › GeoVL › Environnement d'exécution… pour voir ce qui ne va pas et cliquez sur Réparer.")
    assert describe_exit(-9) == "signal 9, SIGKILL, tué : souvent par manque de mémoire"


def test_plugin_menu_and_settings_in_french(french):
    """The desktop modules' module-level tr() look up the "@default" context, where
    pylupdate5 files their sentences (a context of their own found no translation)."""
    from geovl.geovl_plugin import plugin, settings_page
    from geovl.processing import model_widget

    for module, source in ((plugin, "Settings…"), (plugin, "Install Example Model"),
                           (model_widget, ts_source_in("processing/model_widget.py")),
                           (settings_page, ts_source_in("geovl_plugin/settings_page.py"))):
        expected = ts_translation("@default", source)
        assert expected and expected != source and module.tr(source) == expected, (module.__name__, source)


def ts_source_in(path: str) -> str:
    """A translated source sentence of `path` in geovl_fr.ts's "@default" context."""
    root = ET.parse(os.path.join(REPO_ROOT, "i18n", "geovl_fr.ts")).getroot()
    for ctx in root.iter("context"):
        if ctx.findtext("name") == "@default":
            for message in ctx.iter("message"):
                places = [loc.get("filename", "") for loc in message.iter("location")]
                translation = message.findtext("translation")
                if any(p.endswith(path) for p in places) and translation and translation != message.findtext("source"):
                    return message.findtext("source")
    raise AssertionError(f"no translated sentence of {path} in geovl_fr.ts")


def test_installer_sentences_in_french(french, tmp_path):
    """runtime/install.py (standard library only) speaks French with the plugin's translator:
    the report's problem for a folder without a runtime, and a refusal raised by install()."""
    from geovl.runtime import install

    empty = tmp_path / "empty"
    empty.mkdir()
    source = "The runtime is not installed in {}: press Install (about {:.1f} GB)."
    expected = ts_translation("@default", source)
    assert expected != source
    assert install.report(str(empty))["problems"] == [expected.format(empty, install.download_estimate_gb())]

    (tmp_path / "notes.txt").write_text("the user's own file")
    with pytest.raises(install.InstallError) as info:
        install.install(str(tmp_path), lambda line: None, torch=False)
    source = ("{} is not empty and is not a GeoVL runtime (it has no runtime.json and no pyvenv.cfg), so it might "
              "hold your own files and the installer leaves it alone: choose an empty or new folder (the QGIS "
              "setting geovl/runtime, or GEOVL_RUNTIME).")
    assert str(info.value) == ts_translation("@default", source).format(tmp_path) != source.format(tmp_path)
