"""transformers SAM / SAM2 / SAM3 through the public loader, checked against each family's
documented reference path: `model(**processor(images, prompts))` then the processor's
own mask post-processing, with model and processor loaded independently from the same
folder."""
from __future__ import annotations

import functools
import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import Sam2Model, Sam2Processor, Sam3Model, Sam3Processor, SamModel, SamProcessor

from geovl.errors import ModelError
from geovl.models.base import SegmentPrompt
from geovl.models.resolver import load_segmenter
from geovl.models.transformers_segmenter import (TransformersSam2Segmenter, TransformersSam3Segmenter, TransformersSamSegmenter,
                                                  load_transformers_segmenter)

from .conftest import scene

CPU = torch.device("cpu")
SIZE = (100, 150)  # (h, w): not square and not any encoder's input size, so both axes are rescaled differently
PROMPTS = {
    "one point": dict(points=[[40.0, 30.0]], labels=[1]),
    "points": dict(points=[[40.0, 30.0], [120.0, 70.0], [10.0, 90.0]], labels=[1, 1, 0]),
    "box": dict(box=[20.0, 15.0, 95.0, 80.0]),
    "points and box": dict(points=[[60.0, 50.0]], labels=[1], box=[20.0, 15.0, 95.0, 80.0]),
}
FAMILIES = {"sam": (SamModel, SamProcessor), "sam2": (Sam2Model, Sam2Processor)}
EMBEDDING_KEYS = {"sam": ["image_embeddings", "reshaped_input_size"],
                  "sam2": ["image_embeddings.0", "image_embeddings.1", "image_embeddings.2"],
                  "sam3": ["backbone_features"]}


@pytest.fixture(scope="module")
def image():
    return scene(*SIZE, seed=1)


@pytest.fixture(scope="module")
def model_dirs(tiny_transformers_sam_dir, tiny_sam2_dir, tiny_sam3_dir):
    return {"sam": tiny_transformers_sam_dir, "sam2": tiny_sam2_dir, "sam3": tiny_sam3_dir}


@pytest.fixture(scope="module")
def segmenters(model_dirs):
    return {family: load_transformers_segmenter("tiny", folder, False, CPU, torch.float32)
            for family, folder in model_dirs.items()}


def segment_prompt(points=(), labels=(), box=None, mask_logits=None) -> SegmentPrompt:
    return SegmentPrompt(points=np.array(points, np.float32).reshape(-1, 2), labels=np.array(labels, np.int64),
                         box=None if box is None else np.array(box, np.float32), mask_logits=mask_logits)


@functools.cache
def reference_model(family: str, folder: str):
    model_class, processor_class = FAMILIES[family]
    return model_class.from_pretrained(folder).eval(), processor_class.from_pretrained(folder)


def reference(family: str, folder: str, image, multimask: bool, points=None, labels=None, box=None,
              input_masks=None):
    """The family's documented path: (masks at the image's size, iou scores, low-res logits)
    for the one object prompted."""
    model, processor = reference_model(family, folder)
    inputs = processor(images=image, input_points=None if points is None else [[points]],
                       input_labels=None if labels is None else [[labels]],
                       input_boxes=None if box is None else [[box]], return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs, input_masks=input_masks, multimask_output=multimask)
    sizes = [inputs["original_sizes"]] + ([inputs["reshaped_input_sizes"]] if family == "sam" else [])
    masks = processor.post_process_masks(outputs.pred_masks, *sizes)[0][0]
    return masks.numpy(), outputs.iou_scores[0, 0].numpy(), outputs.pred_masks[0, 0].numpy()


def assert_equals_reference(segmentation, masks, scores, logits):
    best = int(scores.argmax())
    assert segmentation.mask.dtype == bool and segmentation.mask.shape == SIZE
    np.testing.assert_array_equal(segmentation.mask, masks[best])
    assert segmentation.score == pytest.approx(float(scores[best]), abs=1e-6)
    np.testing.assert_allclose(segmentation.logits, logits[best], atol=1e-5)
    assert 0 < segmentation.mask.mean() < 1  # a mask with edges, so a wrong transform would show


@pytest.mark.parametrize("multimask", [False, True])
@pytest.mark.parametrize("kind", list(PROMPTS))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_decode_equals_reference(model_dirs, segmenters, image, family, kind, multimask):
    segmenter = segmenters[family]
    prompt = PROMPTS[kind]
    segmentation = segmenter.decode(segmenter.encode(image), SIZE, segment_prompt(**prompt), multimask)
    assert_equals_reference(segmentation, *reference(family, model_dirs[family], image, multimask, **prompt))


@pytest.mark.parametrize("family", list(FAMILIES))
def test_dense_prompt_equals_reference(model_dirs, segmenters, image, family):
    """An earlier decode's low-res logits fed back as the dense prompt (SAM's input_masks)."""
    segmenter = segmenters[family]
    embedding = segmenter.encode(image)
    prompt = PROMPTS["one point"]
    first = segmenter.decode(embedding, SIZE, segment_prompt(**prompt), multimask=True)
    refined = segmenter.decode(embedding, SIZE, segment_prompt(**prompt, mask_logits=first.logits))
    masks, scores, logits = reference(family, model_dirs[family], image, False, **prompt,
                                      input_masks=torch.as_tensor(first.logits)[None, None])
    assert_equals_reference(refined, masks, scores, logits)
    plain = segmenter.decode(embedding, SIZE, segment_prompt(**prompt))
    assert not np.allclose(refined.logits, plain.logits)  # the dense prompt is not ignored


def test_text_equals_reference(tiny_sam3_dir, segmenters, image):
    segmenter = segmenters["sam3"]
    found = segmenter.decode_text(segmenter.encode(image), SIZE, "road")

    model, processor = Sam3Model.from_pretrained(tiny_sam3_dir).eval(), Sam3Processor.from_pretrained(tiny_sam3_dir)
    inputs = processor(images=image, text="road", return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs)
    expected = processor.post_process_instance_segmentation(outputs, target_sizes=inputs["original_sizes"].tolist())[0]
    queries = outputs.pred_masks.shape[1]
    assert 0 < len(expected["scores"]) < queries  # the threshold keeps some queries and drops others
    assert len(found) == len(expected["scores"])
    for segmentation, mask, score in zip(found, expected["masks"], expected["scores"]):
        assert segmentation.mask.dtype == bool and segmentation.mask.shape == SIZE
        np.testing.assert_array_equal(segmentation.mask, mask.numpy().astype(bool))
        assert segmentation.score == pytest.approx(float(score), abs=1e-6)
    # Each instance carries its own query's low-res logits, in query order.
    logits = outputs.pred_masks[0].numpy()
    queries_of = [[q for q in range(queries) if np.allclose(s.logits, logits[q], atol=1e-5)] for s in found]
    assert all(len(q) == 1 for q in queries_of) and sorted(queries_of) == queries_of


@pytest.mark.parametrize("family", ["sam", "sam2", "sam3"])
def test_embedding_round_trips_through_safetensors(segmenters, image, tmp_path, family):
    segmenter = segmenters[family]
    embedding = segmenter.encode(image)
    assert sorted(embedding) == EMBEDDING_KEYS[family]
    assert all(value.device == CPU for value in embedding.values())
    save_file(embedding, tmp_path / "tile.safetensors")
    loaded = load_file(tmp_path / "tile.safetensors")
    if family == "sam3":
        before, after = (segmenter.decode_text(e, SIZE, "road") for e in (embedding, loaded))
        assert len(before) == len(after) > 0
    else:
        before, after = (segmenter.decode(e, SIZE, segment_prompt(**PROMPTS["points"])) for e in (embedding, loaded))
        before, after = [before], [after]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a.mask, b.mask)
        assert a.score == b.score


def test_families_through_the_resolver(model_dirs):
    expected = {"sam": (TransformersSamSegmenter, 256, False), "sam2": (TransformersSam2Segmenter, 128, False),
                "sam3": (TransformersSam3Segmenter, 112, True)}
    for family, (cls, input_size, takes_text) in expected.items():
        segmenter = load_segmenter(model_dirs[family], "cpu", "fp32")
        assert type(segmenter) is cls
        assert (segmenter.input_size, segmenter.takes_text) == (input_size, takes_text)


@pytest.mark.parametrize("family", ["sam", "sam2"])
def test_text_prompt_on_point_models_is_refused(segmenters, image, family):
    segmenter = segmenters[family]
    with pytest.raises(ModelError, match="cannot take text prompts.*SAM3.*point or box prompts"):
        segmenter.decode_text(segmenter.encode(image), SIZE, "road")


def test_point_prompt_on_sam3_is_refused(segmenters, image):
    segmenter = segmenters["sam3"]
    with pytest.raises(ModelError, match="takes text prompts, not points or boxes"):
        segmenter.decode(segmenter.encode(image), SIZE, segment_prompt(**PROMPTS["one point"]))


@pytest.mark.parametrize("family", ["sam", "sam2", "sam3"])
def test_bf16_encoder_fp32_decoder(model_dirs, image, family):
    """The image encoder runs and caches in bf16; decoding casts up and runs in fp32."""
    segmenter = load_transformers_segmenter("tiny", model_dirs[family], False, CPU, torch.bfloat16)
    embedding = segmenter.encode(image)
    assert {v.dtype for v in embedding.values() if v.is_floating_point()} == {torch.bfloat16}
    encoder = {id(p): p for module in segmenter._encoder_modules() for p in module.parameters()}
    assert {p.dtype for p in encoder.values()} == {torch.bfloat16}
    assert {p.dtype for p in segmenter.model.parameters() if id(p) not in encoder} == {torch.float32}
    if family == "sam3":
        found = segmenter.decode_text(embedding, SIZE, "road")
        assert all(s.mask.shape == SIZE for s in found)
    else:
        segmentation = segmenter.decode(embedding, SIZE, segment_prompt(**PROMPTS["points and box"]))
        assert segmentation.mask.shape == SIZE and segmentation.logits.dtype == np.float32


@pytest.mark.parametrize("family, video_type", [("sam2", "sam2_video"), ("sam3", "sam3_video")])
def test_video_checkpoints_load_as_image_models(model_dirs, segmenters, image, tmp_path, family, video_type):
    """The hub's SAM 2 and SAM3 checkpoints are saved as video models; their image model loads from them."""
    folder = shutil.copytree(model_dirs[family], tmp_path / video_type)
    config = json.loads((folder / "config.json").read_text())
    if family == "sam3":  # Sam3VideoConfig nests the image model's config as its detector
        config = {"model_type": video_type, "detector_config": config}
    else:  # Sam2VideoConfig holds Sam2Config's fields (and the video memory's, left at their defaults)
        config["model_type"] = video_type
    (folder / "config.json").write_text(json.dumps(config))
    image_model = segmenters[family]
    video_model = load_transformers_segmenter("tiny", str(folder), False, CPU, torch.float32)
    assert type(video_model) is type(image_model)
    embedding = video_model.encode(image)
    if family == "sam3":
        expected, found = (model.decode_text(embedding, SIZE, "road") for model in (image_model, video_model))
    else:
        prompt = segment_prompt(**PROMPTS["points"])
        expected, found = ([model.decode(embedding, SIZE, prompt)] for model in (image_model, video_model))
    assert len(found) == len(expected) > 0
    for a, b in zip(expected, found):  # equal masks: the weights were loaded, not left at random init
        np.testing.assert_array_equal(a.mask, b.mask)


def test_not_a_sam_model(tiny_clip_dir):
    with pytest.raises(ModelError, match="'clip' model, not a Segment Anything model"):
        load_transformers_segmenter("tiny-clip", tiny_clip_dir, False, CPU, torch.float32)


def test_offline_hub_id_names_the_fix():
    with pytest.raises(ModelError, match="hf download geovl-test/no-such-sam"):
        load_transformers_segmenter("geovl-test/no-such-sam", "geovl-test/no-such-sam", True, CPU, torch.float32)
