"""retrieve() embeds the query as the model's authors do: a class name through the
family's templates, a sentence as it is (the ranking against numpy cosines by hand)."""
from __future__ import annotations

import numpy as np
import pytest

from geovl.models.resolver import load_embedder
from geovl.pipelines.options import ModelOptions, TilingOptions
from geovl.pipelines.retrieve import retrieve

TEMPLATES = ("a satellite photo of {}.", "an aerial image of {}.")


@pytest.fixture
def templated_clip(tiny_clip_dir):
    """The tiny CLIP as the resolver caches it, given templates as a preset would give."""
    clip = load_embedder(tiny_clip_dir, "cpu", "fp32")
    clip.query_templates, clip.unit_template_mean = TEMPLATES, True
    yield clip
    clip.query_templates = ()


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def ranked_scores(rgb_raster, tiny_clip_dir, query: str, negative: str = "") -> list[float]:
    result = retrieve(rgb_raster, ModelOptions(tiny_clip_dir, "cpu", "fp32"), query, negative,
                      tiling=TilingOptions(tile_size=64), top_k=100)
    return sorted(((h.row, h.col), h.score) for h in result.hits)


def tile_matrix(rgb_raster, tiny_clip_dir) -> np.ndarray:
    from geovl.geo.tile_index import load_embeddings

    result = retrieve(rgb_raster, ModelOptions(tiny_clip_dir, "cpu", "fp32"), "x", tiling=TilingOptions(tile_size=64),
                      top_k=1)
    return result.index_path, load_embeddings(result.index_path)[1]


def test_a_class_name_is_the_template_ensemble_and_a_sentence_itself(templated_clip, rgb_raster, tiny_clip_dir,
                                                                     cache_dir):
    from geovl.geo.tile_index import read_cells

    index, matrix = tile_matrix(rgb_raster, tiny_clip_dir)
    cells = list(zip(*read_cells(index)))
    ensemble = unit(np.mean([unit(templated_clip.embed_texts([t.format("storage tanks")])[0]) for t in TEMPLATES],
                            axis=0))
    for query, vector in [("storage tanks", ensemble),
                          ("Many white storage tanks near a harbour.",
                           templated_clip.embed_texts(["Many white storage tanks near a harbour."])[0])]:
        expected = sorted(((int(r), int(c)), float(s)) for (r, c), s in zip(cells, matrix @ vector))
        got = ranked_scores(rgb_raster, tiny_clip_dir, query)
        assert [cell for cell, _ in got] == [cell for cell, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], atol=1e-5)
    # The bare class name is another direction: the templates are really used.
    bare = templated_clip.embed_texts(["storage tanks"])[0]
    assert float(bare @ ensemble) < 0.9999
