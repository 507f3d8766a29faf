"""Short retrieval queries embedded as each family's authors embed class names (a template
ensemble), sentences as they are; checked against the embedders' own embed_texts and against
open_clip's model on the raw features for the families that average those."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from geovl.models.base import is_short_query
from geovl.models.open_clip_embedder import OpenClipEmbedder
from geovl.models.presets import (EMBEDDER_PRESETS, RS5M_TEMPLATES, SATELLITE_PHOTO_TEMPLATES)
from geovl.models.resolver import load_embedder
from geovl.models.transformers_embedder import TransformersEmbedder

CPU = torch.device("cpu")
SENTENCE = "A busy airport with many airplanes."


def unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, np.float64)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.mark.parametrize("text, short", [
    ("airport", True), ("storage tanks", True), (" baseball field ", True), ("red roof houses near", True),
    (SENTENCE, False), ("a building next to a lake", False), ("where are the ships?", False),
    ("ships.", False), ("", False), ("   ", False)])
def test_short_query_or_sentence(text, short):
    assert is_short_query(text) is short


# Templates that differ in their first characters: the tiny CLIP reads 32 (characters).
TEMPLATES = ("{}.", "an image of {}", "{} from above")


@pytest.fixture(scope="module")
def clip_with_templates(tiny_clip_dir):
    """The tiny CLIP folder as a preset with templates would load it (unit mean, as open_clip's
    zero-shot classifier)."""
    return TransformersEmbedder("tiny-clip", tiny_clip_dir, False, CPU, torch.float32, templates=TEMPLATES)


def test_short_query_is_the_renormalised_mean_of_unit_template_embeddings(clip_with_templates):
    rows = clip_with_templates.embed_texts([t.format("storage tanks") for t in TEMPLATES])
    expected = unit(unit(rows).mean(axis=0))
    query = clip_with_templates.embed_query("storage tanks")
    np.testing.assert_allclose(query, expected, atol=1e-6)
    assert np.linalg.norm(query) == pytest.approx(1, abs=1e-6)
    # not the bare words, nor one template alone
    assert np.abs(query - clip_with_templates.embed_texts(["storage tanks"])[0]).max() > 1e-3
    assert np.abs(query - rows[0]).max() > 1e-3


def test_sentence_is_embedded_as_it_is(clip_with_templates):
    np.testing.assert_array_equal(clip_with_templates.embed_query(SENTENCE),
                                  clip_with_templates.embed_texts([SENTENCE])[0])


def test_model_without_templates_embeds_as_before(tiny_clip_dir):
    embedder = load_embedder(tiny_clip_dir, "cpu", "fp32")
    assert embedder.query_templates == ()
    np.testing.assert_array_equal(embedder.embed_query("storage tanks"), embedder.embed_texts(["storage tanks"])[0])


def test_raw_mean_as_rs5m_and_itra_average(tiny_open_clip_ckpt):
    """GeoRSCLIP's and RemoteCLIP's own zeroshot_classifier average the raw text features
    of the templates, then normalise: checked on open_clip's model of the same tensors."""
    import open_clip

    embedder = OpenClipEmbedder("tiny", tiny_open_clip_ckpt, "tiny-ViT-16", CPU, torch.float32,
                                templates=RS5M_TEMPLATES, unit_template_mean=False)
    model = open_clip.create_model("tiny-ViT-16", pretrained=None)
    model.load_state_dict(torch.load(tiny_open_clip_ckpt, weights_only=True))
    texts = [t.format("harbour") for t in RS5M_TEMPLATES]
    with torch.no_grad():
        raw = model.eval().encode_text(open_clip.get_tokenizer("tiny-ViT-16")(texts)).numpy()
    np.testing.assert_allclose(embedder.embed_query("harbour"), unit(raw.mean(axis=0)), atol=1e-5)
    unit_mean = unit(unit(raw).mean(axis=0))
    assert np.abs(embedder.embed_query("harbour") - unit_mean).max() > 1e-4  # the two means differ here


def test_preset_templates_are_the_authors():
    presets = EMBEDDER_PRESETS
    assert presets["georsclip-vit-b-32"].templates == RS5M_TEMPLATES and len(RS5M_TEMPLATES) == 105
    assert len(set(RS5M_TEMPLATES)) == 105
    assert {"a remote sensing image of many {}.", "an aerial image of a hard to see {}.",
            "a jpeg corrupted satellite image of a {}.", "a satellite image of a cool {}."} <= set(RS5M_TEMPLATES)
    assert not presets["georsclip-vit-b-32"].unit_template_mean
    assert presets["remoteclip-vit-b-32"].templates == SATELLITE_PHOTO_TEMPLATES
    assert presets["git-rsclip"].templates == ("a remote sensing image of {}",)
    assert presets["clip-rsicd"].templates == ("Aerial photograph of {}",)
    from open_clip.zero_shot_metadata import SIMPLE_IMAGENET_TEMPLATES
    assert presets["clip-vit-b-32"].templates == tuple(t("{}") for t in SIMPLE_IMAGENET_TEMPLATES)
    for preset in presets.values():
        assert preset.templates and all(t.count("{}") == 1 for t in preset.templates)
