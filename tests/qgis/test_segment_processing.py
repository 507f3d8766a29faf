"""geovl:segment through processing.run with tiny SAMs: outputs as QGIS layers, class and
label fields, prompts reprojected from EPSG:4326 (parity with SamPredictor), boxes from
polygons, points along lines, stitching across tiles, and the embedding cache."""
from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest
import rasterio
import torch
from qgis.core import (Qgis, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsGeometry, QgsPointXY,
                       QgsProcessingFeedback, QgsProject, QgsRasterLayer, QgsRectangle, QgsVectorLayer, QgsWkbTypes)
from scipy import ndimage
from segment_anything import SamPredictor

from ..models.conftest import scene
from .conftest import ORIGIN_X, ORIGIN_Y, SEGMENT_PIXEL, partial_files, prompt_layer, to_map, write_rgb

CLOSING_RADIUS = 2  # the algorithm closes every mask with a disk of 2 px (GeoSAM's clean-up)
FIELDS = ["class", "score", "area_m2", "prompt_id", "model", "source", "version"]


FP32, BF16 = 1, 2  # PRECISION enum: auto, fp32, bf16, fp16


def run_segment(raster, model, prompts, feedback=None, **extra):
    """Pinned to fp32: the tests compare exactly with SamPredictor, which runs in fp32
    (where the CPU has native bf16, `auto` resolves to bf16); MIN_AREA 0 keeps every
    polygon, as the reference's connected areas are counted."""
    import processing

    params = {"INPUT": raster, "PROMPTS": prompts, "MODEL": model, "REFINE": False, "OUTPUT": "memory:",
              "PRECISION": FP32, "MIN_AREA": 0, **extra}
    return processing.run("geovl:segment", params, feedback=feedback)


def point(col: float, row: float) -> QgsGeometry:
    return QgsGeometry.fromPointXY(QgsPointXY(*to_map(col, row)))


def read_band(path: str) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def predictor(ckpt: str, factory, image: np.ndarray) -> SamPredictor:
    sam = factory()
    sam.load_state_dict(torch.load(ckpt, weights_only=True))
    reference = SamPredictor(sam)
    reference.set_image(image)
    return reference


def closed(mask: np.ndarray, radius: int = CLOSING_RADIUS) -> np.ndarray:
    """scipy's binary closing with a disk of the edge-replicated mask (reference for the engine's clean-up)."""
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    padded = np.pad(mask, radius, mode="edge")
    return ndimage.binary_closing(padded, structure=yy * yy + xx * xx <= radius * radius)[radius:-radius,
                                                                                           radius:-radius]


def best_mask(reference: SamPredictor, multimask: bool, **prompt):
    masks, scores, _ = reference.predict(**{k: np.asarray(v, float) for k, v in prompt.items()},
                                         multimask_output=multimask)
    best = int(np.argmax(scores))
    return masks[best], float(scores[best])


def expected_classes(results: list[tuple[int, np.ndarray, float]], shape) -> np.ndarray:
    """The class raster the algorithm documents: each pixel takes the class of the
    best-scored (closed) mask covering it, masks taken in prompt order."""
    classes = np.zeros(shape, np.uint8)
    best = np.full(shape, -np.inf, np.float32)
    for code, mask, score in results:
        take = closed(mask) & (score > best)
        classes[take], best[take] = code, score
    return classes


def features_of(layer: QgsVectorLayer) -> list:
    return sorted(layer.getFeatures(), key=lambda f: (f["class"], f["prompt_id"], f.geometry().area()))


def test_points_with_class_and_label_fields(plugin, tiny_sam_ckpt, tiny_sam_factory, tmp_path, cache_dir):
    """Point prompts of two classes and a background point: the class raster is what
    SamPredictor gives for each class's prompts (background point joined to its class),
    polygons carry class, score, area, prompt id and provenance, centre lines follow roads."""
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "one_tile.tif", image)
    layer = prompt_layer("Point", [(point(100.5, 80.5), 1, "road"),       # fid 1
                                   (point(200.5, 30.5), 0, "road"),       # fid 2: background of road
                                   (point(40.5, 200.5), 1, "sidewalk")])  # fid 3
    mask_path = str(tmp_path / "classes.tif")
    result = run_segment(raster, tiny_sam_ckpt, layer, LABEL_FIELD="label", CLASS_FIELD="cls",
                         OUTPUT_MASK=mask_path, OUTPUT_CENTERLINES="memory:")

    reference = predictor(tiny_sam_ckpt, tiny_sam_factory, image)
    road, road_score = best_mask(reference, False, point_coords=[[100.5, 80.5], [200.5, 30.5]], point_labels=[1, 0])
    walk, walk_score = best_mask(reference, True, point_coords=[[40.5, 200.5]], point_labels=[1])
    expected = expected_classes([(1, road, road_score), (2, walk, walk_score)], image.shape[:2])
    assert set(np.unique(expected)) == {0, 1, 2}, "both classes should show for this test to bite"

    # The class raster: uint8, nodata 0, EPSG:32631 on the input's grid, class table and colours.
    assert result["OUTPUT_MASK"] == mask_path
    np.testing.assert_array_equal(read_band(mask_path), expected)
    classes = QgsRasterLayer(mask_path, "classes", "gdal")
    assert classes.isValid() and classes.crs().authid() == "EPSG:32631"
    assert (classes.width(), classes.height()) == (256, 256)
    assert classes.extent() == QgsRectangle(ORIGIN_X, ORIGIN_Y - 128, ORIGIN_X + 128, ORIGIN_Y)
    provider = classes.dataProvider()
    assert provider.dataType(1) == Qgis.DataType.Byte
    assert provider.sourceHasNoDataValue(1) and provider.sourceNoDataValue(1) == 0
    assert classes.renderer().type() == "paletted"  # QGIS shows the classes with their colour table
    with rasterio.open(mask_path) as src:
        assert json.loads(src.tags()["GEOVL_CLASSES"]) == {"1": "road", "2": "sidewalk"}
        assert src.tags()["TIFFTAG_IMAGEDESCRIPTION"] == "GeoVL classes: 1 = road, 2 = sidewalk"

    # The polygons: one per connected area of a class, in the raster's CRS.
    polygons = result["OUTPUT"]
    assert isinstance(polygons, QgsVectorLayer) and polygons.isValid()
    assert polygons.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry
    assert polygons.crs().authid() == "EPSG:32631"
    assert polygons.fields().names() == FIELDS
    features = features_of(polygons)
    assert features
    for code, name, prompt_id, score in [(1, "road", 1, road_score), (2, "sidewalk", 3, walk_score)]:
        mine = [f for f in features if f["class"] == name]
        _, count = ndimage.label(expected == code)
        assert len(mine) == count
        assert sum(f["area_m2"] for f in mine) == pytest.approx((expected == code).sum() * SEGMENT_PIXEL ** 2)
        for f in mine:
            assert f.geometry().area() == pytest.approx(f["area_m2"])
            assert f["prompt_id"] == prompt_id
            assert f["score"] == pytest.approx(score, abs=1e-5)
            assert f["model"] == tiny_sam_ckpt and f["version"] == "1"
            assert os.path.realpath(f["source"]) == os.path.realpath(raster)
    assert {f["class"] for f in features} == {"road", "sidewalk"}

    # Centre lines: only the road class, inside the road area.
    lines = result["OUTPUT_CENTERLINES"]
    assert isinstance(lines, QgsVectorLayer) and lines.isValid()
    assert lines.geometryType() == QgsWkbTypes.GeometryType.LineGeometry
    assert lines.crs().authid() == "EPSG:32631"
    assert lines.fields().names() == ["class", "length", "model", "source"]
    road_area = QgsGeometry.unaryUnion([f.geometry() for f in features if f["class"] == "road"])
    near_road = road_area.buffer(SEGMENT_PIXEL, 4)
    centre_lines = list(lines.getFeatures())
    assert centre_lines
    for line in centre_lines:
        assert line["class"] == "road"
        assert line["length"] == pytest.approx(line.geometry().length())
    assert near_road.contains(QgsGeometry.collectGeometry([line.geometry() for line in centre_lines]))

    # ROAD_CLASS names the class whose centre lines are drawn.
    walks = run_segment(raster, tiny_sam_ckpt, layer, LABEL_FIELD="label", CLASS_FIELD="cls", ROAD_CLASS="sidewalk",
                        OUTPUT_CENTERLINES="memory:")["OUTPUT_CENTERLINES"]
    walk_area = QgsGeometry.unaryUnion([f.geometry() for f in features if f["class"] == "sidewalk"])
    walk_lines = list(walks.getFeatures())
    assert walk_lines and {line["class"] for line in walk_lines} == {"sidewalk"}
    assert walk_area.buffer(SEGMENT_PIXEL, 4).contains(QgsGeometry.collectGeometry([line.geometry()
                                                                                    for line in walk_lines]))


def test_without_fields_one_class_and_no_centerlines_unless_asked(plugin, tiny_sam_ckpt, tiny_sam_factory,
                                                                   tmp_path, cache_dir):
    """Without LABEL_FIELD and CLASS_FIELD every prompt is an object of the one class
    'object' (the 0 in the label field is ignored); OUTPUT_CENTERLINES is made only on request."""
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "one_tile.tif", image)
    layer = prompt_layer("Point", [(point(100.5, 80.5), 1, "road"), (point(200.5, 30.5), 0, "road")])
    mask_path = str(tmp_path / "classes.tif")
    result = run_segment(raster, tiny_sam_ckpt, layer, OUTPUT_MASK=mask_path)

    reference = predictor(tiny_sam_ckpt, tiny_sam_factory, image)
    first, first_score = best_mask(reference, True, point_coords=[[100.5, 80.5]], point_labels=[1])
    second, second_score = best_mask(reference, True, point_coords=[[200.5, 30.5]], point_labels=[1])
    expected = expected_classes([(1, first, first_score), (1, second, second_score)], image.shape[:2])
    np.testing.assert_array_equal(read_band(mask_path), expected)
    with rasterio.open(mask_path) as src:
        assert json.loads(src.tags()["GEOVL_CLASSES"]) == {"1": "object"}
    assert {f["class"] for f in result["OUTPUT"].getFeatures()} == {"object"}
    assert result.get("OUTPUT_CENTERLINES") is None


def test_box_from_polygon_in_wgs84_equals_sam_predictor(plugin, tiny_sam_ckpt, tiny_sam_factory, tmp_path,
                                                         cache_dir):
    """A polygon prompt in EPSG:4326 over a raster in EPSG:32631 becomes the box of pixel
    corners (40, 60)-(120, 150): the class raster equals SamPredictor's mask for that box."""
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "one_tile.tif", image)
    to_wgs84 = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:32631"),
                                      QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
    corners = [to_map(40, 60), to_map(120, 60), to_map(120, 150), to_map(40, 150)]
    lonlat = [to_wgs84.transform(QgsPointXY(*c)) for c in corners]
    assert all(abs(p.x() - 3.0) < 0.01 and abs(p.y() - 42.0) < 0.1 for p in lonlat)  # UTM 31N, 500 km E
    # The algorithm transforms the corners back. The round trip moves them by far less
    # than 1e-6 px, which the prompt's float32 pixel coordinates round away: exact parity.
    back = [to_wgs84.transform(p, Qgis.TransformDirection.Reverse) for p in lonlat]
    assert max(max(abs(b.x() - c[0]), abs(b.y() - c[1])) for b, c in zip(back, corners)) < 1e-6 * SEGMENT_PIXEL
    layer = prompt_layer("Polygon", [(QgsGeometry.fromPolygonXY([lonlat + lonlat[:1]]), 1, "road")],
                         crs="EPSG:4326")
    mask_path = str(tmp_path / "classes.tif")
    result = run_segment(raster, tiny_sam_ckpt, layer, CLASS_FIELD="cls", OUTPUT_MASK=mask_path)

    reference = predictor(tiny_sam_ckpt, tiny_sam_factory, image)
    mask, score = best_mask(reference, False, box=[40, 60, 120, 150])
    assert 0 < mask.sum() < mask.size, "the reference mask should be a real shape for this test to bite"
    np.testing.assert_array_equal(read_band(mask_path), closed(mask).astype(np.uint8))
    features = list(result["OUTPUT"].getFeatures())
    assert features and all(f["class"] == "road" and f["prompt_id"] == 1 for f in features)
    assert all(f["score"] == pytest.approx(score, abs=1e-5) for f in features)
    # The same box one pixel wider gives another mask: the comparison sees pixel-level shifts.
    shifted, _ = best_mask(reference, False, box=[39, 60, 120, 150])
    assert (closed(shifted) != closed(mask)).any()


def test_bf16_class_raster_close_to_fp32_sam_predictor(plugin, tiny_sam_ckpt, tiny_sam_factory, tmp_path,
                                                        cache_dir):
    """In bf16 (what `auto` gives on CPUs with native bf16) the class raster stays within
    2 % of the pixels of fp32 SamPredictor's, and scores within 0.02: the bf16 path has its
    own tolerance, the fp32 tests above compare exactly."""
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "one_tile.tif", image)
    layer = prompt_layer("Point", [(point(100.5, 80.5), 1, "road"), (point(40.5, 200.5), 1, "road")])
    mask_path = str(tmp_path / "classes_bf16.tif")
    result = run_segment(raster, tiny_sam_ckpt, layer, OUTPUT_MASK=mask_path, PRECISION=BF16)

    reference = predictor(tiny_sam_ckpt, tiny_sam_factory, image)
    first, first_score = best_mask(reference, True, point_coords=[[100.5, 80.5]], point_labels=[1])
    second, second_score = best_mask(reference, True, point_coords=[[40.5, 200.5]], point_labels=[1])
    expected = expected_classes([(1, first, first_score), (1, second, second_score)], image.shape[:2])
    assert 0 < expected.sum() < expected.size, "the reference should be a real shape for this test to bite"
    assert (read_band(mask_path) != expected).mean() < 0.02
    scores = sorted(f["score"] for f in result["OUTPUT"].getFeatures())
    assert scores and all(min(abs(s - first_score), abs(s - second_score)) < 0.02 for s in scores)


def test_line_points_at_line_spacing(plugin, tiny_sam_ckpt, tiny_sam_factory, tmp_path, cache_dir):
    """A line of 100 m with LINE_SPACING 25 m prompts SamPredictor's five points 50 px apart."""
    image = scene(256, 256, seed=5)
    raster = write_rgb(tmp_path / "one_tile.tif", image)
    line = QgsGeometry.fromPolylineXY([QgsPointXY(*to_map(20.5, 128.5)), QgsPointXY(*to_map(220.5, 128.5))])
    layer = prompt_layer("LineString", [(line, 1, "road")])
    mask_path = str(tmp_path / "classes.tif")
    run_segment(raster, tiny_sam_ckpt, layer, LINE_SPACING=25.0, OUTPUT_MASK=mask_path)

    reference = predictor(tiny_sam_ckpt, tiny_sam_factory, image)
    xs = [20.5, 70.5, 120.5, 170.5, 220.5]
    mask, _ = best_mask(reference, False, point_coords=[[x, 128.5] for x in xs], point_labels=[1] * 5)
    assert 0 < mask.sum() < mask.size
    np.testing.assert_array_equal(read_band(mask_path), closed(mask).astype(np.uint8))
    # The default spacing (32 px) prompts other points and gives another mask.
    default, _ = best_mask(reference, False, point_coords=[[x, 128.5] for x in np.arange(20.5, 221, 32)],
                           point_labels=[1] * 7)
    assert (closed(default) != closed(mask)).any()


def test_line_spacing_decides_which_tiles_are_prompted(plugin, whole_tile_sam_ckpt, tmp_path, cache_dir):
    """With a SAM whose masks fill the tile, a line over three 256 px tiles sampled every
    300 m (600 px) prompts only its ends, in tiles 0 and 2 (two polygons); the default
    spacing (32 px) prompts all three tiles (one polygon)."""
    raster = write_rgb(tmp_path / "three_tiles.tif", scene(256, 768, seed=4) | 1)
    line = QgsGeometry.fromPolylineXY([QgsPointXY(*to_map(100, 128)), QgsPointXY(*to_map(700, 128))])
    layer = prompt_layer("LineString", [(line, 1, "road")])

    sparse = features_of(run_segment(raster, whole_tile_sam_ckpt, layer, LINE_SPACING=300.0)["OUTPUT"])
    boxes = sorted((f.geometry().boundingBox() for f in sparse), key=lambda b: b.xMinimum())
    assert boxes == [QgsRectangle(ORIGIN_X, ORIGIN_Y - 128, ORIGIN_X + 128, ORIGIN_Y),
                     QgsRectangle(ORIGIN_X + 256, ORIGIN_Y - 128, ORIGIN_X + 384, ORIGIN_Y)]

    dense = features_of(run_segment(raster, whole_tile_sam_ckpt, layer)["OUTPUT"])
    assert len(dense) == 1
    assert dense[0].geometry().boundingBox() == QgsRectangle(ORIGIN_X, ORIGIN_Y - 128, ORIGIN_X + 384, ORIGIN_Y)


def test_object_across_tiles_is_one_polygon(plugin, whole_tile_sam_ckpt, tmp_path, cache_dir):
    """A box over tiles 0 and 1 of three (whole-tile masks, a nodata hole in tile 0) is one
    polygon over both tiles with its hole; tile 2 is never decoded."""
    image = scene(256, 768, seed=1)
    image[image == 0] = 1
    image[100:140, 50:90] = 0  # nodata hole
    raster = write_rgb(tmp_path / "three_tiles.tif", image, nodata=0)
    box = QgsGeometry.fromRect(QgsRectangle(*to_map(100, 200), *to_map(400, 20)))
    feedback = QgsProcessingFeedback()
    result = run_segment(raster, whole_tile_sam_ckpt, prompt_layer("Polygon", [(box, 1, "road")]),
                         feedback=feedback)
    assert "2 tile(s) decoded, 2 encoded in this run" in feedback.textLog()
    features = list(result["OUTPUT"].getFeatures())
    assert len(features) == 1
    geometry = features[0].geometry()
    assert not geometry.isMultipart()
    assert geometry.boundingBox() == QgsRectangle(ORIGIN_X, ORIGIN_Y - 128, ORIGIN_X + 256, ORIGIN_Y)
    rings = geometry.asPolygon()
    assert len(rings) == 2
    hole = QgsGeometry.fromPolygonXY([rings[1]]).boundingBox()
    assert hole == QgsRectangle(*to_map(50, 140), *to_map(90, 100))
    area = (512 * 256 - 40 * 40) * SEGMENT_PIXEL ** 2
    assert geometry.area() == pytest.approx(area) and features[0]["area_m2"] == pytest.approx(area)
    assert features[0]["prompt_id"] == 1


def test_second_run_reuses_the_embedding_cache(plugin, tiny_sam_ckpt, tmp_path, cache_dir, monkeypatch):
    """New prompts on the same raster only decode: no tile is encoded again, the tile
    files are untouched, and the result equals a run with an empty cache."""
    raster = write_rgb(tmp_path / "two_tiles.tif", scene(256, 512, seed=3))
    first_prompts = prompt_layer("Point", [(point(30.5, 40.5), 1, ""), (point(300.5, 40.5), 1, "")])
    feedback = QgsProcessingFeedback()
    run_segment(raster, tiny_sam_ckpt, first_prompts, feedback=feedback)
    assert "2 tile(s) decoded, 2 encoded in this run" in feedback.textLog()
    tiles = sorted(glob.glob(str(cache_dir / "segment" / "*" / "tile_*.safetensors")))
    assert [os.path.basename(t) for t in tiles] == ["tile_0_0.safetensors", "tile_0_1.safetensors"]
    stamps = [os.stat(t).st_mtime_ns for t in tiles]

    box = QgsGeometry.fromRect(QgsRectangle(*to_map(10, 200), *to_map(480, 100)))
    new_prompts = prompt_layer("Polygon", [(box, 1, "")])
    feedback = QgsProcessingFeedback()
    cached = str(tmp_path / "cached.tif")
    run_segment(raster, tiny_sam_ckpt, new_prompts, feedback=feedback, OUTPUT_MASK=cached)
    assert "2 tile(s) decoded, 0 encoded in this run" in feedback.textLog()
    assert sorted(glob.glob(str(cache_dir / "segment" / "*" / "tile_*.safetensors"))) == tiles
    assert [os.stat(t).st_mtime_ns for t in tiles] == stamps

    monkeypatch.setenv("GEOVL_CACHE_DIR", str(tmp_path / "empty-cache"))
    fresh = str(tmp_path / "fresh.tif")
    feedback = QgsProcessingFeedback()
    run_segment(raster, tiny_sam_ckpt, new_prompts, feedback=feedback, OUTPUT_MASK=fresh)
    assert "2 tile(s) decoded, 2 encoded in this run" in feedback.textLog()
    assert read_band(cached).any()
    np.testing.assert_array_equal(read_band(cached), read_band(fresh))
    assert partial_files(tmp_path) == []


def test_outputs_to_files(plugin, tiny_sam_ckpt, tmp_path, cache_dir):
    """GeoPackage outputs for polygons and centre lines, a GeoTIFF class raster."""
    raster = write_rgb(tmp_path / "one_tile.tif", scene(256, 256, seed=5))
    layer = prompt_layer("Point", [(point(100.5, 80.5), 1, "road")])
    out, lines, mask = (str(tmp_path / name) for name in ("segments.gpkg", "lines.gpkg", "classes.tif"))
    result = run_segment(raster, tiny_sam_ckpt, layer, CLASS_FIELD="cls", OUTPUT=out, OUTPUT_MASK=mask,
                         OUTPUT_CENTERLINES=lines)
    assert (result["OUTPUT"], result["OUTPUT_MASK"], result["OUTPUT_CENTERLINES"]) == (out, mask, lines)
    polygons = QgsVectorLayer(out, "segments", "ogr")
    assert polygons.isValid() and polygons.featureCount() > 0 and polygons.crs().authid() == "EPSG:32631"
    assert set(FIELDS) <= set(polygons.fields().names())
    centre = QgsVectorLayer(lines, "lines", "ogr")
    assert centre.isValid() and centre.crs().authid() == "EPSG:32631"
    assert {f["class"] for f in centre.getFeatures()} <= {"road"}
    assert QgsRasterLayer(mask, "classes", "gdal").isValid()


@pytest.mark.parametrize("pixel, crs, resolution, given, expected", [
    ((2.0, 0.5), "EPSG:32633", 0.0, None, 16 * 2.0 * 0.5),        # 16 of the raster's own pixels
    ((1.0, 1.0), "EPSG:32633", 3.0, None, 16 * 9.0),              # 16 pixels of RESOLUTION
    ((1.0, 1.0), "EPSG:32633", 0.25, None, 16 * 0.0625),          # ... finer than a metre too
    ((1.0, 1.0), "EPSG:32633", 0.0, 5.0, 5.0),                     # MIN_AREA as given
    ((1.0, 1.0), "EPSG:32633", 0.0, 0.0, 0.0),                     # 0 keeps every polygon
    # degrees at 60 N on WGS 84: a degree of the parallel is 55,800 m, of the meridian 111,412 m
    ((1e-5, 1e-5), "EPSG:4326", 0.0, None, 16 * 0.55800 * 1.11412),
])
def test_min_area_defaults_to_sixteen_pixels_of_ground(plugin, tmp_path, pixel, crs, resolution, given, expected):
    from qgis.core import QgsProcessingContext, QgsProject
    from rasterio.transform import from_origin

    from geovl.processing.segment import SegmentAlgorithm

    from ..conftest import write_raster

    origin = (10.0, 60.0005) if crs == "EPSG:4326" else (500_000.0, 4_650_000.0)
    path = write_raster(tmp_path / "pixels.tif", np.zeros((3, 100, 100), np.uint8), crs=crs,
                        transform=from_origin(*origin, *pixel))
    algorithm = SegmentAlgorithm()
    algorithm.initAlgorithm()
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    parameters = {} if given is None else {"MIN_AREA": given}
    assert algorithm._min_area(parameters, context, path, resolution) == pytest.approx(expected, rel=2e-3)


def test_prior_without_a_file_is_rendered_at_its_own_pixels(plugin, tiny_sam_ckpt, tmp_path, cache_dir):
    """A PRIOR that is a layer with no file of its own (a QGIS virtual raster of 0.5 m
    pixels) is rendered on its own grid, not resampled, before its classes give prompts."""
    from rasterio.transform import from_origin

    from ..conftest import write_raster
    from .conftest import SEGMENT_CRS, virtual_raster

    raster = write_rgb(tmp_path / "one_tile.tif", scene(256, 256, seed=5))
    classes = np.zeros((1, 256, 256), np.uint8)
    classes[0, 60:120, 40:200] = 1
    prior_file = write_raster(tmp_path / "prior.tif", classes, crs=SEGMENT_CRS,
                              transform=from_origin(ORIGIN_X, ORIGIN_Y, SEGMENT_PIXEL, SEGMENT_PIXEL))
    side = 256 * SEGMENT_PIXEL
    prior = virtual_raster(prior_file, SEGMENT_CRS, (ORIGIN_X, ORIGIN_Y - side, ORIGIN_X + side, ORIGIN_Y), 256, 256,
                           "prior")
    feedback = QgsProcessingFeedback()
    result = run_segment(raster, tiny_sam_ckpt, None, feedback=feedback, PRIOR=prior)
    assert "Rendering layer 'prior' to a 256 x 256 px GeoTIFF." in feedback.textLog()
    assert result["OUTPUT"].featureCount() > 0
