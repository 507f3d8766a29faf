"""segment-anything checkpoints through the resolver: architecture read off the
checkpoint, and masks equal to segment-anything's own SamPredictor."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor, sam_model_registry
from segment_anything.build_sam import _build_sam

from geovl.errors import ModelError
from geovl.models.base import SegmentPrompt
from geovl.models.resolver import load_segmenter
from geovl.models.sam_segmenter import MODEL_TYPES, infer_architecture


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (200, 180, 3), dtype=np.uint8)  # not square, not the input size
    image[40:120, 30:100] = (200, 60, 40)
    return image


def test_standard_architectures_are_recognised():
    for name in MODEL_TYPES:
        if name == "vit_h":
            continue  # 2.5 GB of random weights to build; vit_b and vit_l cover the rule
        state = sam_model_registry[name]().state_dict()
        assert infer_architecture(state) == MODEL_TYPES[name]
        assert infer_architecture(state).description == name


def test_other_sizes_are_inferred():
    arch = infer_architecture(_build_sam(32, 2, 2, [1]).state_dict())
    assert (arch.embed_dim, arch.depth, arch.num_heads, arch.global_attn_indexes) == (32, 2, 2, (1,))
    assert (arch.img_size, arch.window_size, arch.out_chans) == (1024, 14, 256)


PROMPTS = {
    "one point": dict(points=[[50.0, 60.0]], labels=[1]),
    "points": dict(points=[[50.0, 60.0], [90.0, 100.0], [150.0, 20.0]], labels=[1, 1, 0]),
    "box": dict(box=[25.0, 35.0, 105.0, 125.0]),
    "points and box": dict(points=[[60.0, 70.0]], labels=[1], box=[25.0, 35.0, 105.0, 125.0]),
}


@pytest.mark.parametrize("multimask", [False, True])
@pytest.mark.parametrize("kind", list(PROMPTS))
def test_decode_equals_sam_predictor(tiny_sam_ckpt, tiny_sam_factory, image, kind, multimask):
    segmenter = load_segmenter(tiny_sam_ckpt, device="cpu", precision="fp32")
    reference = SamPredictor(_reference_sam(tiny_sam_ckpt, tiny_sam_factory))
    reference.set_image(image)

    embedding = segmenter.encode(image)
    torch.testing.assert_close(embedding["image_embeddings"], reference.get_image_embedding(), rtol=0, atol=0)

    spec = PROMPTS[kind]
    prompt = SegmentPrompt(points=np.array(spec.get("points", np.zeros((0, 2))), np.float32),
                           labels=np.array(spec.get("labels", []), np.int64),
                           box=np.array(spec["box"], np.float32) if "box" in spec else None)
    result = segmenter.decode(embedding, image.shape[:2], prompt, multimask=multimask)
    masks, scores, logits = reference.predict(
        point_coords=np.array(spec["points"]) if "points" in spec else None,
        point_labels=np.array(spec["labels"]) if "labels" in spec else None,
        box=np.array(spec["box"]) if "box" in spec else None, multimask_output=multimask)
    best = int(np.argmax(scores))
    assert result.mask.shape == image.shape[:2]
    np.testing.assert_array_equal(result.mask, masks[best])
    assert result.score == pytest.approx(float(scores[best]), abs=1e-6)
    np.testing.assert_allclose(result.logits, logits[best], atol=1e-5)

    # The dense prompt (previous logits), as GeoSAM's refinement pass uses it.
    refined = segmenter.decode(embedding, image.shape[:2],
                               SegmentPrompt(prompt.points, prompt.labels, prompt.box, result.logits))
    masks2, scores2, _ = reference.predict(
        point_coords=np.array(spec["points"]) if "points" in spec else None,
        point_labels=np.array(spec["labels"]) if "labels" in spec else None,
        box=np.array(spec["box"]) if "box" in spec else None, mask_input=logits[best][None],
        multimask_output=False)
    np.testing.assert_array_equal(refined.mask, masks2[0])


def test_wrong_model_type_names_the_mismatch(tiny_sam_ckpt):
    with pytest.raises(ModelError, match=r"does not match SAM model type vit_h: 420 weight\(s\) missing.*"
                       r"those of a SAM ViT of width 32, depth 2, 2 heads, 256 px input"):
        load_segmenter(tiny_sam_ckpt, device="cpu", precision="fp32", model_type="vit_h")


def test_standard_type_mismatch_suggests_the_right_one(tmp_path):
    path = tmp_path / "sam_b.pth"
    torch.save(sam_model_registry["vit_b"]().state_dict(), path)
    with pytest.raises(ModelError, match=r"vit_l: 168 weight\(s\) missing, e.g. image_encoder\.blocks\.12\..*"
                                         r"those of vit_b; set the model type to auto or vit_b"):
        load_segmenter(str(path), device="cpu", precision="fp32", model_type="vit_l")
    state = sam_model_registry["vit_b"]().state_dict()
    state["mask_decoder.mask_tokens.weight"] = torch.zeros(5, 256)
    torch.save(state, path)
    with pytest.raises(ModelError, match=r"vit_b: mask_decoder\.mask_tokens\.weight has shape \(5, 256\) in the "
                                         r"checkpoint but \(4, 256\) in the model"):
        load_segmenter(str(path), device="cpu", precision="fp32", model_type="vit_b")


def test_not_a_sam_checkpoint(tmp_path):
    path = tmp_path / "clip.pt"
    torch.save({"visual.conv1.weight": torch.zeros(4, 3, 2, 2)}, path)
    with pytest.raises(ModelError, match="not a Segment Anything checkpoint"):
        load_segmenter(str(path), device="cpu", precision="fp32")


def test_unknown_model_type(tiny_sam_ckpt):
    with pytest.raises(ModelError, match="Unknown SAM model type 'vit_x'"):
        load_segmenter(tiny_sam_ckpt, device="cpu", precision="fp32", model_type="vit_x")


def _reference_sam(path: str, tiny_sam_factory):
    """The tiny Sam built by the fixture's own recipe (not by the resolver), with the file's weights."""
    sam = tiny_sam_factory()
    sam.load_state_dict(torch.load(path, weights_only=True))
    return sam


@pytest.mark.parametrize("kind", ["one point", "points", "box", "points and box"])
def test_decode_batch_equals_one_decode_per_object(tiny_sam_ckpt, image, kind):
    """Several objects in one pass of the mask decoder (SamPredictor.predict_torch's
    B x N prompts) give each object's own decode, dense prompts (refinement) included."""
    segmenter = load_segmenter(tiny_sam_ckpt, device="cpu", precision="fp32")
    embedding = segmenter.encode(image)
    spec, rng = PROMPTS[kind], np.random.default_rng(0)
    prompts = []
    for shift in rng.uniform(-20, 20, (5, 2)):
        points = np.array(spec.get("points", np.zeros((0, 2))), np.float32) + shift.astype(np.float32)
        box = np.array(spec["box"], np.float32) + np.tile(shift, 2).astype(np.float32) if "box" in spec else None
        prompts.append(SegmentPrompt(points, np.array(spec.get("labels", []), np.int64), box))
    multimask = kind == "one point"
    batched = segmenter.decode_batch(embedding, image.shape[:2], prompts, multimask)
    refined = segmenter.decode_batch(embedding, image.shape[:2],
                                     [SegmentPrompt(p.points, p.labels, p.box, r.logits) for p, r in zip(prompts, batched)])
    for prompt, first, second in zip(prompts, batched, refined):
        alone = segmenter.decode(embedding, image.shape[:2], prompt, multimask)
        np.testing.assert_allclose(first.logits, alone.logits, atol=1e-4)
        assert first.score == pytest.approx(alone.score, abs=1e-5)
        assert (first.mask != alone.mask).mean() < 1e-3   # at most threshold ties flip
        again = segmenter.decode(embedding, image.shape[:2], SegmentPrompt(prompt.points, prompt.labels, prompt.box,
                                                                          alone.logits))
        np.testing.assert_allclose(second.logits, again.logits, atol=1e-4)
    assert len({first.mask.tobytes() for first in batched}) > 1, "the objects should differ for this test to bite"


@pytest.mark.parametrize("kind", ["one point", "points and box"])
def test_bf16_decode_close_to_fp32(tiny_sam_ckpt, image, kind):
    """In bf16 the mask decoder runs in bf16 (most of the cost of many prompts) on the same
    embedding, with a tolerance of its own: scores within 0.02, logits within 0.1 of their
    spread, under 2 % of the mask pixels flipped."""
    fp32 = load_segmenter(tiny_sam_ckpt, device="cpu", precision="fp32")
    bf16 = load_segmenter(tiny_sam_ckpt, device="cpu", precision="bf16")
    embedding = fp32.encode(image)
    spec = PROMPTS[kind]
    prompt = SegmentPrompt(points=np.array(spec["points"], np.float32), labels=np.array(spec["labels"], np.int64),
                           box=np.array(spec["box"], np.float32) if "box" in spec else None)
    exact = fp32.decode(embedding, image.shape[:2], prompt, multimask=kind == "one point")
    reduced = bf16.decode(embedding, image.shape[:2], prompt, multimask=kind == "one point")
    assert reduced.logits.dtype == np.float32 and reduced.mask.shape == image.shape[:2]
    assert not np.array_equal(reduced.logits, exact.logits), "bf16 decoding should not be fp32's"
    spread = float(exact.logits.std())
    assert np.abs(reduced.logits - exact.logits).mean() < 0.1 * spread
    assert reduced.score == pytest.approx(exact.score, abs=0.02)
    assert (reduced.mask != exact.mask).mean() < 0.02
