"""geovl:ask plans before it asks: a question too long for a prompt is refused, a grid of
many tiles is announced with the top-k alternative, and the tile list is streamed."""
from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geovl.errors import InputError
from geovl.geo.grid import plan_grid
from geovl.geo.raster import RasterSource
from geovl.pipelines import ask as ask_module
from geovl.pipelines.ask import ask
from geovl.pipelines.options import ModelOptions

from .conftest import Recorder, scene


def write_rgb(path, image: np.ndarray) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=image.shape[1], height=image.shape[0], count=3,
                       dtype="uint8", crs="EPSG:32631", transform=from_origin(500_000.0, 4_650_000.0, 0.5, 0.5)) as dst:
        dst.write(image.transpose(2, 0, 1))
    return str(path)


def test_a_question_of_100_kb_is_refused_with_its_length(tiny_florence2_dir, tmp_path):
    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    with pytest.raises(InputError, match=r"The question is 102,400 characters long; ask in at most 2,000"):
        ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "x" * 102_400)


def test_a_question_longer_than_the_model_reads_is_a_sentence(tiny_florence2_dir, tmp_path):
    """The longest question allowed passes the length check, and reaches the model; the
    tiny Florence-2 reads one token per character and has 256 positions, so the model's
    own limit refuses it, with a sentence instead of an IndexError."""
    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    with pytest.raises(InputError, match=r"The question is too long for .*: with its prompt and image it is "
                                         r"2,0\d\d tokens, and the model reads at most 256\. Ask a shorter"):
        ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "x" * ask_module.MAX_QUESTION_CHARS,
            mode="answer", max_new_tokens=4)


def test_asking_tiles_reports_progress_up_to_100_and_nothing_dropped_in_text_mode(tiny_florence2_dir, tmp_path):
    """Answers without grounding drop no box, so no note says so; the progress rises tile
    by tile to 100 and never beyond."""
    raster = write_rgb(tmp_path / "scene.tif", scene(64, 3 * 64))
    feedback = Recorder()
    ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "fields", mode="answer", max_new_tokens=4,
        feedback=feedback)
    asked = [v for v in feedback.percents if v < 100] + [100.0]
    assert feedback.percents[-1] == 100.0 and max(feedback.percents) == 100.0
    assert feedback.percents == sorted(feedback.percents)
    assert asked[:3] == pytest.approx([100 / 3, 200 / 3, 100.0])
    assert not any("malformed" in w for w in feedback.warnings)


def test_merge_priority_is_the_score_then_the_margin():
    from affine import Affine
    from rasterio.windows import Window
    from shapely.geometry import box

    from geovl.models.base import Answer
    from geovl.models.grounding import GroundedBox

    grid = plan_grid(Affine.identity(), Window(0, 0, 64, 64), 64)
    tile = next(iter(grid.tiles()))
    answer = Answer("", [GroundedBox("car", 10.0, 5.0, 20.0, 30.0, score=0.7), GroundedBox("car", 40.0, 40.0, 60.0, 50.0)])
    found = ask_module._objects(grid, tile, "0,0", answer, box(0, -64, 64, 64))
    assert [priority for _, priority in found] == [(0.7, 5.0), (0.0, 4.0)]


def test_every_tile_of_a_large_grid_is_announced_with_the_top_k_alternative(tiny_florence2_dir, tmp_path,
                                                                            monkeypatch):
    """More tiles than MANY_TILES with SELECT all: a warning names the count and top-k
    before the first question (the run is cancelled at the first tile)."""
    monkeypatch.setattr(ask_module, "MANY_TILES", 5)
    raster = write_rgb(tmp_path / "scene.tif", scene(3 * 64, 3 * 64))
    feedback = Recorder(cancel_after_progress=1)
    with pytest.raises(Exception, match="cancelled"):
        ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "airplanes", feedback=feedback)
    assert any("every one of the 9 tiles" in w and "top-k" in w for w in feedback.warnings)
    monkeypatch.setattr(ask_module, "MANY_TILES", 9)     # not more than MANY_TILES: not announced
    feedback = Recorder(cancel_after_progress=1)
    with pytest.raises(Exception, match="cancelled"):
        ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "airplanes", feedback=feedback)
    assert not any("every one of" in w for w in feedback.warnings)


def test_notes_say_what_was_asked_and_what_was_dropped():
    feedback = Recorder()
    notes = ask_module._notes([], 4, [], 3, feedback)
    assert notes == ["Asked 0 of 4 tile(s); 0 object(s) after merging duplicates across tile overlaps.",
                     "3 malformed or degenerate box(es) in the model's output were left out."]
    assert (feedback.infos, feedback.warnings) == ([notes[0]], [notes[1]])
    feedback = Recorder()
    assert ask_module._notes([], 4, [], 0, feedback) == [notes[0]] and feedback.warnings == []


@pytest.mark.parametrize("crs, transform, expected", [
    ("EPSG:32631", from_origin(500_000.0, 4_650_000.0, 0.5, 0.5), "(500016.0, 4649984.0)"),
    ("EPSG:4326", from_origin(10.0, 60.0, 0.0001, 0.0001), "(10.003200, 59.996800)")])
def test_a_reply_names_its_tile_centre_in_the_crs_units(tmp_path, crs, transform, expected):
    """Metres to a decimetre, degrees to six decimals (about 0.1 m)."""
    from shapely.geometry import box

    path = tmp_path / "centre.tif"
    with rasterio.open(path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8", crs=crs,
                       transform=transform) as dst:
        dst.write(np.zeros((3, 64, 64), np.uint8))
    (x0, y1), (x1, y0) = transform * (0, 0), transform * (64, 64)
    with RasterSource(str(path)) as source:
        reply = ask_module._reply(ask_module.AskedTile(0, 0, box(x0, y0, x1, y1), "a field", 0), None, source)
    assert reply.location == expected


def test_the_tiles_of_select_all_are_streamed_not_listed(tmp_path):
    """SELECT all yields the grid's tiles one by one with the grid's count: no list of
    millions of tiles is built before the first question."""
    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64))
    with RasterSource(raster) as source:
        grid = plan_grid(source.dataset.transform, source.area(None), 16)
        count, selected, index = ask_module._select_tiles(source, grid, "q", "all", None, 8, Recorder())
        assert (count, index) == (len(grid), None) and not isinstance(selected, (list, tuple))
        assert [tile for tile, _ in selected] == list(grid.tiles())


def test_a_report_on_a_full_disk_is_a_sentence_and_leaves_nothing(tiny_florence2_dir, tmp_path, small_disk):
    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64 * 16))
    disk = small_disk(8)
    with pytest.raises(InputError, match="the disk is full"):
        ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "airplanes", max_new_tokens=8,
            report_path=os.path.join(disk, "report.html"))
    assert os.listdir(disk) == []


def test_a_full_temp_folder_while_writing_the_report_tiles_is_a_sentence(tiny_florence2_dir, tmp_path, small_disk,
                                                                        monkeypatch):
    """The report's tiles go to a scratch folder in TMPDIR; when that disk fills up the
    sentence names it and says to set TMPDIR; the scratch folder is gone afterwards."""
    raster = write_rgb(tmp_path / "scene.tif", scene(64, 64 * 8))
    temp = small_disk(16)
    monkeypatch.setattr(tempfile, "tempdir", temp)
    report = tmp_path / "report.html"
    with pytest.raises(InputError, match=r"Could not write the report's tiles in the temp folder .*set TMPDIR"):
        ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "airplanes", max_new_tokens=8,
            report_path=str(report))
    assert not report.exists() and os.listdir(temp) == []


def test_each_tile_line_of_the_answer_gives_its_centre_in_map_units(tiny_florence2_dir, tmp_path):
    """Projected CRS: tile centres to 0.1 m (tiles of 32 m: 64 px of 0.5 m)."""
    raster = write_rgb(tmp_path / "scene.tif", scene(64, 128))
    result = ask(raster, ModelOptions(tiny_florence2_dir, "cpu", "fp32"), "airplanes", mode="answer",
                 max_new_tokens=8)
    assert "Tile 0,0 at (500016.0, 4649984.0)" in result.answer
    assert "Tile 0,1 at (500048.0, 4649984.0)" in result.answer
