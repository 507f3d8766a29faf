"""Patch features (the deep-feature change method) through the public resolver, checked
against each family's own public API run on models loaded independently from the same
files: transformers' vision towers and SAM image embeddings, open_clip's token output,
segment-anything's SamPredictor."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from geovl.errors import ModelError
from geovl.models.patch_features import OpenClipPatchFeatures, SegmenterPatchFeatures, TransformersPatchFeatures
from geovl.models.resolver import load_embedder, load_feature_extractor, load_segmenter

from .conftest import scene

# family -> the fixture holding its model, and its patch grid (side) at its input size
FAMILIES = {
    "clip": ("tiny_clip_dir", 4),               # 64 px, 16 px patches
    "siglip": ("tiny_siglip_dir", 4),           # 64 px, 16 px patches
    "open_clip": ("tiny_open_clip_ckpt", 4),    # 64 px, 16 px patches
    "sam": ("tiny_sam_ckpt", 16),               # 256 px, 16 px patches
    "transformers-sam": ("tiny_transformers_sam_dir", 16),  # 256 px, 16 px patches
    "sam2": ("tiny_sam2_dir", 8),               # 128 px, Hiera stride 16
    "sam3": ("tiny_sam3_dir", 8),               # 112 px, 14 px patches
}


@pytest.fixture(scope="module")
def spec(request):
    return lambda family: request.getfixturevalue(FAMILIES[family][0])


@pytest.fixture(scope="module")
def extractor(spec):
    return lambda family: load_feature_extractor(spec(family), "cpu", "fp32")


def tiles(size: int, count: int = 2) -> list[np.ndarray]:
    return [scene(size, size, seed) for seed in range(1, count + 1)]


# ---------------------------------------------------------------- parity with each family's own API

def test_clip_equals_clip_vision_tower(extractor, tiny_clip_dir):
    """CLIP: the vision tower's last hidden state without the class token, on CLIP's own (PIL) processor's pixels."""
    from transformers import CLIPImageProcessorPil, CLIPModel
    images = tiles(64)
    model = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    pixels = CLIPImageProcessorPil.from_pretrained(tiny_clip_dir)(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        tokens = model.vision_model(pixel_values=pixels).last_hidden_state[:, 1:]
    np.testing.assert_allclose(extractor("clip").patch_features(images), tokens.reshape(2, 4, 4, -1).numpy(),
                               rtol=0, atol=1e-5)


def test_siglip_equals_siglip_vision_tower(extractor, tiny_siglip_dir):
    """SigLIP: every token of the vision tower's last hidden state (SigLIP has no class token)."""
    from transformers import SiglipImageProcessorPil, SiglipModel
    images = tiles(64)
    model = SiglipModel.from_pretrained(tiny_siglip_dir).eval()
    processor = SiglipImageProcessorPil.from_pretrained(tiny_siglip_dir)
    pixels = processor(images=images, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        tokens = model.vision_model(pixel_values=pixels).last_hidden_state
    assert tokens.shape[1] == 16
    np.testing.assert_allclose(extractor("siglip").patch_features(images), tokens.reshape(2, 4, 4, -1).numpy(),
                               rtol=0, atol=1e-5)


def test_open_clip_equals_encode_image_tokens(extractor, tiny_open_clip_ckpt):
    """open_clip: the tokens encode_image returns with the tower's output_tokens set, on open_clip's eval transform."""
    import open_clip
    images = tiles(64)
    model, _, transform = open_clip.create_model_and_transforms("tiny-ViT-16")
    model.load_state_dict(torch.load(tiny_open_clip_ckpt, weights_only=True))
    model.eval().visual.output_tokens = True
    with torch.no_grad():
        _, tokens = model.encode_image(torch.stack([transform(Image.fromarray(im)) for im in images]))
    np.testing.assert_allclose(extractor("open_clip").patch_features(images), tokens.reshape(2, 4, 4, -1).numpy(),
                               rtol=0, atol=1e-5)


def test_open_clip_shared_model_is_left_as_it_was(extractor, tiny_open_clip_ckpt):
    """The embedder the resolver shares still returns pooled embeddings after patch features ran."""
    features = extractor("open_clip")
    features.patch_features(tiles(64, 1))
    embedder = load_embedder(tiny_open_clip_ckpt, "cpu", "fp32")
    assert embedder.model.visual.output_tokens is False
    assert embedder.embed_images(tiles(64, 1)).shape == (1, 16)


def test_sam_equals_sam_predictor(extractor, tiny_sam_ckpt, tiny_sam_factory):
    """segment-anything: SamPredictor.set_image then get_image_embedding, channels last."""
    from segment_anything import SamPredictor
    images = tiles(256)
    sam = tiny_sam_factory()
    sam.load_state_dict(torch.load(tiny_sam_ckpt, weights_only=True))
    predictor = SamPredictor(sam)
    expected = []
    for image in images:
        predictor.set_image(image)
        expected.append(predictor.get_image_embedding().permute(0, 2, 3, 1).numpy())
    np.testing.assert_allclose(extractor("sam").patch_features(images), np.concatenate(expected), rtol=0, atol=1e-5)


@pytest.mark.parametrize("family", ["transformers-sam", "sam2", "sam3"])
def test_transformers_sam_equals_model_embeddings(extractor, spec, family):
    """transformers SAM: SamModel.get_image_embeddings; SAM 2: the last (coarsest) level of
    Sam2Model.get_image_embeddings; SAM3: get_vision_features' last hidden state on its patch grid."""
    import transformers
    model_class, processor_class = {"transformers-sam": ("SamModel", "SamProcessor"),
                                    "sam2": ("Sam2Model", "Sam2Processor"),
                                    "sam3": ("Sam3Model", "Sam3Processor")}[family]
    model = getattr(transformers, model_class).from_pretrained(spec(family)).eval()
    processor = getattr(transformers, processor_class).from_pretrained(spec(family))
    features = extractor(family)
    images = tiles(features.input_size)
    pixels = processor(images=images, return_tensors="pt")["pixel_values"]
    side = FAMILIES[family][1]
    with torch.no_grad():
        if family == "transformers-sam":
            expected = model.get_image_embeddings(pixels).permute(0, 2, 3, 1)
        elif family == "sam2":
            expected = model.get_image_embeddings(pixels)[-1].permute(0, 2, 3, 1)
        else:
            expected = model.get_vision_features(pixels).last_hidden_state.reshape(2, side, side, -1)
    np.testing.assert_allclose(features.patch_features(images), expected.numpy(), rtol=0, atol=1e-5)


# ---------------------------------------------------------------- the grid

@pytest.mark.parametrize("family", list(FAMILIES))
def test_shape_is_one_vector_per_patch(extractor, family):
    """(N, rows, cols, C) float32, rows x cols the backbone's patch grid over its square input."""
    features = extractor(family)
    side = FAMILIES[family][1]
    out = features.patch_features(tiles(features.input_size, 3))
    assert out.dtype == np.float32 and out.shape[:3] == (3, side, side) and np.isfinite(out).all()
    assert features.device.type == "cpu" and features.dtype == torch.float32


# SigLIP is left out: its random tiny tower mixes tokens so much that the changed quadrant
# leads the others by as little as 10% on some images. It shares CLIP's code path (the same
# adapter, the same reshape), and its parity test pins the token order.
@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "siglip"])
def test_local_change_moves_the_patches_there(extractor, family):
    """Repainting the top-right quadrant changes the top-right patches most, at least twice as
    much on average as any other quadrant's: row 0 is the image's top, column 0 its left (a
    transposed or flipped grid would show the change in another quadrant)."""
    features = extractor(family)
    size = features.input_size
    before = scene(size, size, 4)
    after = before.copy()
    after[: size // 2, size // 2:] = 255 - after[: size // 2, size // 2:]
    a, b = features.patch_features([before, after])
    change = np.linalg.norm(a - b, axis=-1)
    half = change.shape[0] // 2
    quadrants = {"top-left": change[:half, :half], "top-right": change[:half, half:],
                 "bottom-left": change[half:, :half], "bottom-right": change[half:, half:]}
    others = max(q.mean() for name, q in quadrants.items() if name != "top-right")
    assert quadrants["top-right"].mean() > 2 * others


# ---------------------------------------------------------------- the resolver

@pytest.mark.parametrize("family, adapter", [
    ("sam", SegmenterPatchFeatures), ("transformers-sam", SegmenterPatchFeatures), ("sam2", SegmenterPatchFeatures),
    ("sam3", SegmenterPatchFeatures), ("clip", TransformersPatchFeatures), ("siglip", TransformersPatchFeatures),
    ("open_clip", OpenClipPatchFeatures)])
def test_resolver_routes_and_shares_the_loaded_model(spec, family, adapter):
    """SAM checkpoint files and SAM-family folders go through load_segmenter, CLIP / SigLIP
    folders and open_clip checkpoints through load_embedder; the wrapper is cached and wraps
    the very model those loaders cache (nothing is loaded twice)."""
    features = load_feature_extractor(spec(family), "cpu", "fp32")
    assert type(features) is adapter and load_feature_extractor(spec(family), "cpu", "fp32") is features
    if adapter is SegmenterPatchFeatures:
        assert features.segmenter is load_segmenter(spec(family), "cpu", "fp32")
    else:
        assert features.embedder is load_embedder(spec(family), "cpu", "fp32")
    assert features.input_size == {"sam": 256, "transformers-sam": 256, "sam2": 128, "sam3": 112}.get(family, 64)


@pytest.fixture(scope="module")
def tiny_resnet_ckpt(tmp_path_factory):
    """An open_clip ModifiedResNet checkpoint (RemoteCLIP RN50's tower class, 8 wide, one block
    per stage): building the real RN50 takes seconds and its file is 400 MB."""
    import open_clip

    folder = tmp_path_factory.mktemp("tiny-open-clip-resnet")
    config = {"embed_dim": 16, "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 8},
              "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2}}
    (folder / "tiny-RN-patch-test.json").write_text(json.dumps(config))
    open_clip.add_model_config(str(folder / "tiny-RN-patch-test.json"))
    torch.manual_seed(0)
    path = folder / "tiny-resnet.pt"
    torch.save(open_clip.create_model("tiny-RN-patch-test", pretrained=None).state_dict(), path)
    return str(path)


def test_resnet_tower_is_refused_with_a_vit_to_use(tiny_resnet_ckpt):
    """A ResNet tower (RemoteCLIP RN50) has no patch tokens: the error says so and names a ViT preset."""
    assert load_embedder(tiny_resnet_ckpt, "cpu", "fp32").arch == "tiny-RN-patch-test"
    with pytest.raises(ModelError, match=r"ResNet image tower \(tiny-RN-patch-test\), which has no patch grid.*"
                                         r"remoteclip-vit-b-32"):
        load_feature_extractor(tiny_resnet_ckpt, "cpu", "fp32")


def test_non_sam_checkpoint_file_goes_to_the_embedder(tmp_path):
    """A checkpoint file that is neither SAM nor open_clip gets load_embedder's error, not SAM's."""
    path = tmp_path / "other.pt"
    torch.save({"encoder.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(ModelError, match="not an open_clip image-text checkpoint"):
        load_feature_extractor(str(path), "cpu", "fp32")


@pytest.mark.parametrize("preset, repo", [("sam-vit-b", "facebook/sam-vit-base"),
                                          ("clip-rsicd", "flax-community/clip-rsicd-v2")])
def test_presets_route_by_family(preset, repo):
    """A segmenter preset goes to load_segmenter and an embedder preset to load_embedder:
    offline, each fails with the hub error naming its own repository."""
    with pytest.raises(ModelError, match=f"Model '{preset}' \\({repo} on the Hugging Face hub\\)"):
        load_feature_extractor(preset, "cpu", "fp32")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_half_precision_gives_float32_features_close_to_fp32(spec, family):
    """In bf16 the backbone runs in bf16 and the features still come back as float32,
    pointing where the fp32 ones do (cosine similarity per patch)."""
    half, full = (load_feature_extractor(spec(family), "cpu", precision) for precision in ("bf16", "fp32"))
    images = tiles(full.input_size, 1)
    a, b = half.patch_features(images), full.patch_features(images)
    assert half.dtype == torch.bfloat16 and a.dtype == np.float32
    cosine = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    assert cosine.min() > 0.99
