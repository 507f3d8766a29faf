"""geovl:segment refuses bad input with a sentence the user can act on, and writes nothing:
no output files, no '.partial' files, no cached tile embeddings."""
from __future__ import annotations

import glob

import pytest
import torch
from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsGeometry, QgsPointXY,
                       QgsProcessingException, QgsProcessingFeedback, QgsProject)

from ..models.conftest import scene
from .conftest import partial_files, prompt_layer, to_map, write_rgb


@pytest.fixture
def raster(tmp_path):
    return write_rgb(tmp_path / "input.tif", scene(256, 256, seed=8))


def point(col: float, row: float) -> QgsGeometry:
    return QgsGeometry.fromPointXY(QgsPointXY(*to_map(col, row)))


def inside_prompts(**kwargs):
    return prompt_layer("Point", [(point(100.5, 80.5), 1, "road")], **kwargs)


def assert_refused(tmp_path, cache_dir, raster, model, phrase, feedback=None, **extra):
    import processing

    outputs = {"OUTPUT": tmp_path / "out.gpkg", "OUTPUT_MASK": tmp_path / "classes.tif",
               "OUTPUT_CENTERLINES": tmp_path / "lines.gpkg"}
    params = {"INPUT": raster, "MODEL": model, **{k: str(v) for k, v in outputs.items()}, **extra}
    with pytest.raises(QgsProcessingException, match=phrase):
        processing.run("geovl:segment", params, feedback=feedback)
    assert [name for name, path in outputs.items() if path.exists()] == []
    assert partial_files(tmp_path) == []
    assert glob.glob(str(cache_dir / "segment" / "*" / "tile_*")) == []


def test_nothing_to_segment(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """No prompt layer, no prior and no text: the message names the three ways to prompt."""
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt,
                   r"Give something to segment: a prompt layer \(PROMPTS\), a prior class raster \(PRIOR\) or "
                   r"text concepts \(TEXT")


def test_empty_prompt_layer(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """A prompt layer with no features warns that it is empty, then refuses saying so."""
    feedback = QgsProcessingFeedback()
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt, r"The prompt layer \(PROMPTS\) has no features with a "
                   "geometry: add points, polygons or lines", feedback=feedback, PROMPTS=prompt_layer("Point", []))
    assert "The prompt layer has no features." in feedback.textLog()


def test_prompts_outside_the_raster(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """Prompts wholly off the raster: one warning per prompt, then an error that says to check the CRS."""
    far = prompt_layer("Point", [(point(-50, 100), 1, "road"), (point(100, 300), 1, "road")])
    feedback = QgsProcessingFeedback()
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt,
                   r"None of the 2 prompts lies on the raster.*its CRS is right", feedback=feedback, PROMPTS=far)
    log = feedback.textLog()
    assert "Prompt 1 (point) lies outside the raster" in log
    assert "Prompt 2 (point) lies outside the raster" in log


def test_prompts_in_a_wrong_crs(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """The raster's UTM coordinates labelled EPSG:4326 (latitude 4.6 million degrees)
    cannot be transformed: the message names both CRSs instead of calling the layer empty."""
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt,
                   r"None of the prompts can be transformed from the prompt layer's CRS \(EPSG:4326\) to the "
                   r"raster's \(EPSG:32631\)\. Check that the prompt layer's CRS is right\.",
                   PROMPTS=inside_prompts(crs="EPSG:4326"))


def test_prompts_that_cannot_be_transformed_are_skipped(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """A prompt that cannot be transformed, then one in EPSG:4326 on the raster: a warning
    names the first, and the features after it are still read."""
    import processing

    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32631"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    on_raster = QgsGeometry.fromPointXY(to_wgs84.transform(QgsPointXY(*to_map(100.5, 80.5))))
    garbage = QgsGeometry.fromPointXY(QgsPointXY(*to_map(100.5, 80.5)))
    layer = prompt_layer("Point", [(garbage, 1, "road"), (on_raster, 1, "road")], crs="EPSG:4326")
    feedback = QgsProcessingFeedback()
    result = processing.run("geovl:segment", {"INPUT": raster, "MODEL": tiny_sam_ckpt, "PROMPTS": layer,
                                              "OUTPUT": "memory:"}, feedback=feedback)
    assert "Features 1 of the prompt layer cannot be transformed to the raster's CRS" in feedback.textLog()
    features = list(result["OUTPUT"].getFeatures())
    assert features and {f["prompt_id"] for f in features} == {2}


def test_prompt_layer_without_crs(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """A prompt layer whose CRS is unknown (QGIS set to leave it unknown) asks to set it."""
    layer = inside_prompts()
    layer.setCrs(QgsCoordinateReferenceSystem())
    assert not layer.crs().isValid()
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt,
                   r"The prompt layer has no coordinate reference system\. Set it", PROMPTS=layer)


def test_text_for_a_model_without_text(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """TEXT with a segment-anything checkpoint (points and boxes only) points at SAM 3."""
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt, r"cannot take text prompts\. Use a SAM 3 model",
                   TEXT="road; sidewalk")


def test_checkpoint_that_does_not_match_the_model_type(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """MODEL_TYPE vit_h with a 2-block, 32-wide checkpoint names the mismatch and what the file holds."""
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt,
                   r"does not match SAM model type vit_h: 420 weight\(s\) missing, e\.g\. image_encoder\.blocks\.10\."
                   r".* Its shapes are those of a SAM ViT of width 32, depth 2, 2 heads, 256 px input; set the model "
                   r"type to auto\.", PROMPTS=inside_prompts(), MODEL_TYPE=3)


def test_model_type_outside_the_list(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """The enum refuses a MODEL_TYPE index it does not list before the algorithm runs."""
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt, "MODEL_TYPE", PROMPTS=inside_prompts(),
                   MODEL_TYPE=9)


@pytest.mark.parametrize("state, phrase", [
    ({"backbone.conv1.weight": torch.zeros(4, 3, 3, 3)}, r"is not a Segment Anything checkpoint: it has no "
                                                          r"image_encoder\.\* weights\.$"),
    ({"vision_encoder.patch_embed.projection.weight": torch.zeros(4, 3, 16, 16)},
     r"not a Segment Anything checkpoint.*transformers SAM state dict: give the folder"),
])
def test_checkpoint_that_is_not_sam(plugin, raster, tmp_path, cache_dir, state, phrase):
    checkpoint = tmp_path / "other.pth"
    torch.save(state, checkpoint)
    assert_refused(tmp_path, cache_dir, raster, str(checkpoint), phrase, PROMPTS=inside_prompts())


def test_unknown_model(plugin, raster, tmp_path, cache_dir):
    assert_refused(tmp_path, cache_dir, raster, "no-such-sam", r"Unknown segmentation model 'no-such-sam'",
                   PROMPTS=inside_prompts())


def test_label_field_with_a_bad_value(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir):
    """A label that is neither 1 nor 0 (or true/false) names the feature and the field."""
    layer = prompt_layer("Point", [(point(100.5, 80.5), "1", "road"), (point(30.5, 30.5), "maybe", "road")],
                         label_type="string")
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt,
                   r"Feature 2 has label 'maybe' in the field label; use 1 for the object and 0 for background",
                   PROMPTS=layer, LABEL_FIELD="label")


@pytest.mark.parametrize("parameter", ["LABEL_FIELD", "CLASS_FIELD"])
def test_field_the_prompt_layer_lacks(plugin, tiny_sam_ckpt, raster, tmp_path, cache_dir, parameter):
    """A misspelt field name (qgis_process, scripts) is named with the fields there are, not a KeyError."""
    assert_refused(tmp_path, cache_dir, raster, tiny_sam_ckpt,
                   rf"The prompt layer has no field 'lable' \({parameter}\); its fields are: label, cls\.",
                   PROMPTS=inside_prompts(), **{parameter: "lable"})
