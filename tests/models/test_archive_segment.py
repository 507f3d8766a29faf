"""Segmentation over an archive (pipelines/archive_segment.py): each raster segmented as
geovl:segment segments it, with the prompts that fall on it; every feature with its
raster; a cancelled run goes on with the rasters not done; GeoJSON prompts; the command."""
from __future__ import annotations

import json
import os
import sqlite3

import numpy as np
import pytest
from rasterio.crs import CRS
from rasterio.transform import from_origin
from rasterio.warp import transform as transform_coords

from geovl.errors import Cancelled, InputError
from geovl.geo.gpkg import blob_geometry
from geovl.pipelines.archive import IN_PROCESS
from geovl.pipelines.archive_segment import SegmentJob, prompts_on, read_prompts, segment_archive
from geovl.pipelines.options import ModelOptions
from geovl.pipelines.segment import MapPrompt, segment

from ..conftest import write_raster
from .conftest import Recorder, scene

CRS_UTM, PIXEL, Y0 = "EPSG:32631", 0.5, 5_412_000.0
X0S = (448_000.0, 449_000.0, 450_000.0)


def write_sheets(folder) -> list[str]:
    """Three 256 x 256 px sheets side by side (1 km apart), 0.5 m pixels."""
    os.makedirs(folder, exist_ok=True)
    return [write_raster(os.path.join(folder, f"sheet{i}.tif"), np.moveaxis(scene(256, 256, seed=i), -1, 0),
                         crs=CRS_UTM, transform=from_origin(x0, Y0, PIXEL, PIXEL)) for i, x0 in enumerate(X0S)]


# points on sheets 0 and 1 (none on sheet 2), a box on sheet 1, and a point on no sheet
PROMPTS = (MapPrompt("point", ((X0S[0] + 50.25, Y0 - 40.25),), 1, "road", 1),
           MapPrompt("point", ((X0S[1] + 80.25, Y0 - 30.25),), 1, "road", 2),
           MapPrompt("box", ((X0S[1] + 10.0, Y0 - 100.0), (X0S[1] + 60.0, Y0 - 60.0)), 1, "roof", 3),
           MapPrompt("point", ((X0S[0] - 500.0, Y0 + 500.0),), 1, "road", 4))


def job(model, **extra) -> SegmentJob:
    return SegmentJob(ModelOptions(model, "cpu", "fp32"), prompts=PROMPTS, prompts_crs=CRS_UTM, **extra)


def features(path: str) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return sorted((raster, name, cls, round(area, 6), prompt_id, blob_geometry(geom).wkt)
                      for raster, name, cls, area, prompt_id, geom in
                      con.execute('SELECT raster, name, "class", area_m2, prompt_id, geom FROM regions'))


def test_each_raster_is_segmented_as_segment_does_it_with_its_prompts(tiny_sam_ckpt, tmp_path, cache_dir):
    sheets = write_sheets(tmp_path / "sheets")
    output = str(tmp_path / "regions.gpkg")
    result = segment_archive(str(tmp_path / "sheets"), job(tiny_sam_ckpt), output, cluster=IN_PROCESS)
    assert (result.raster_count, result.rasters_segmented, result.rasters_resumed) == (3, 3, 0)
    expected = []
    for sheet, prompts in ((sheets[0], PROMPTS[:1]), (sheets[1], PROMPTS[1:3])):
        single = segment(sheet, ModelOptions(tiny_sam_ckpt, "cpu", "fp32"), prompts=prompts)
        expected += [(sheet, os.path.basename(sheet), r.class_name, round(r.area_m2, 6), r.prompt_id, r.polygon.wkt)
                     for r in single.regions]
    assert expected and features(output) == sorted(expected)
    assert result.region_count == len(expected)
    assert CRS.from_wkt(result.crs_wkt) == CRS.from_user_input(CRS_UTM)


def test_a_cancelled_run_goes_on_with_the_rasters_not_done(tiny_sam_ckpt, tmp_path, cache_dir):
    write_sheets(tmp_path / "sheets")
    whole = segment_archive(str(tmp_path / "sheets"), job(tiny_sam_ckpt), str(tmp_path / "whole.gpkg"),
                            cluster=IN_PROCESS)
    output = tmp_path / "regions.gpkg"
    with pytest.raises(Cancelled):
        segment_archive(str(tmp_path / "sheets"), job(tiny_sam_ckpt), str(output), cluster=IN_PROCESS,
                        feedback=Recorder(cancel_after_progress=1))
    assert not output.exists()
    feedback = Recorder()
    resumed = segment_archive(str(tmp_path / "sheets"), job(tiny_sam_ckpt), str(output), cluster=IN_PROCESS,
                              feedback=feedback)
    assert (resumed.rasters_resumed, resumed.rasters_segmented) == (1, 2)
    assert any("Segmenting 2 of 3 rasters (1 done by an earlier run)" in line for line in feedback.infos)
    assert features(str(output)) == features(whole.output_path)


def test_prompts_in_another_crs_fall_on_their_rasters(tmp_path):
    sheet = write_sheets(tmp_path / "sheets")[0]
    lon, lat = transform_coords(CRS_UTM, "EPSG:4326", [X0S[0] + 50.25], [Y0 - 40.25])
    far_lon, far_lat = transform_coords(CRS_UTM, "EPSG:4326", [X0S[2] + 50.0], [Y0 - 40.0])
    given = (MapPrompt("point", ((lon[0], lat[0]),), 1, "road", 1),
             MapPrompt("point", ((far_lon[0], far_lat[0]),), 1, "road", 2))
    found = prompts_on(sheet, given, "EPSG:4326")
    assert [p.prompt_id for p in found] == [1]
    assert found[0].coords[0] == pytest.approx((X0S[0] + 50.25, Y0 - 40.25), abs=1e-6)


def test_geojson_prompts(tmp_path):
    path = tmp_path / "prompts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": 7, "properties": {"class": "road"},
         "geometry": {"type": "MultiPoint", "coordinates": [[2.0, 48.0], [2.1, 48.1]]}},
        {"type": "Feature", "properties": {"label": 0},
         "geometry": {"type": "Polygon", "coordinates": [[[2, 48], [3, 48], [3, 49], [2, 48]]]}},
        {"type": "Feature", "properties": None,
         "geometry": {"type": "LineString", "coordinates": [[2, 48, 10], [2.5, 48.5, 11]]}}]}))
    prompts, crs = read_prompts(str(path))
    assert crs == "EPSG:4326"
    assert prompts == [MapPrompt("point", ((2.0, 48.0),), 1, "road", 7),
                       MapPrompt("point", ((2.1, 48.1),), 1, "road", 7),
                       MapPrompt("box", ((2.0, 48.0), (3.0, 49.0)), 0, "", 2),
                       MapPrompt("line", ((2.0, 48.0), (2.5, 48.5)), 1, "", 3)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(InputError, match="hold no point, line or polygon"):
        read_prompts(str(path))


def test_nothing_to_segment_is_a_sentence(tiny_sam_ckpt, tmp_path, cache_dir):
    sheets = write_sheets(tmp_path / "sheets")
    with pytest.raises(InputError, match="nothing to segment"):
        segment_archive(str(tmp_path / "sheets"), SegmentJob(ModelOptions(tiny_sam_ckpt)), str(tmp_path / "o.gpkg"))
    with pytest.raises(InputError, match="is one of the archive's rasters"):
        segment_archive(str(tmp_path / "sheets"), job(tiny_sam_ckpt), sheets[1], cluster=IN_PROCESS)


def test_the_command_line_segments_an_archive(tiny_sam_ckpt, tmp_path, cache_dir, capsys):
    from geovl.runtime.batch import main

    write_sheets(tmp_path / "sheets")
    lon, lat = transform_coords(CRS_UTM, "EPSG:4326", [X0S[1] + 80.25], [Y0 - 30.25])
    prompts = tmp_path / "prompts.geojson"
    prompts.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"class": "road"},
         "geometry": {"type": "Point", "coordinates": [lon[0], lat[0]]}}]}))
    output = tmp_path / "roads.gpkg"
    assert main(["segment", str(tmp_path / "sheets"), "--model", tiny_sam_ckpt, "--prompts", str(prompts),
                 "--output", str(output), "--device", "cpu", "--precision", "fp32", "--ray", IN_PROCESS]) == 0
    assert "3 rasters (3 segmented now, 0 by an earlier run)" in capsys.readouterr().out
    assert {row[0] for row in features(str(output))} == {str(tmp_path / "sheets" / "sheet1.tif")}
