"""list_rasters: folders (hidden temporaries and sidecars left out), text and CSV lists,
VRT mosaics (GDAL's own and hand-written), STAC ItemCollections and Items (asset choice,
href forms), and the sentences for inputs a user has to fix."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from geovl.errors import InputError
from geovl.geo.archive_inputs import ArchiveRaster, list_rasters


def write_tif(path, x_offset=0):
    """An 8x8 3-band uint8 GeoTIFF in EPSG:32633; returns its absolute path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    profile = dict(driver="GTiff", width=8, height=8, count=3, dtype="uint8", crs="EPSG:32633",
                   transform=from_origin(500000 + 80 * x_offset, 5000000, 10, 10))
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(np.full((3, 8, 8), x_offset, dtype="uint8"))
    return os.path.abspath(path)


def build_vrt(vrt, sources):
    """A mosaic VRT written by GDAL itself (Python bindings, else gdalbuildvrt)."""
    try:
        from osgeo import gdal
    except ImportError:
        if shutil.which("gdalbuildvrt") is None:
            pytest.skip("neither GDAL's Python bindings nor gdalbuildvrt is installed")
        subprocess.run(["gdalbuildvrt", "-q", vrt, *sources], check=True)
    else:
        gdal.UseExceptions()
        gdal.BuildVRT(vrt, sources).FlushCache()


def paths(rasters):
    return [raster.path for raster in rasters]


def error_of(source, **kwargs):
    with pytest.raises(InputError) as caught:
        list_rasters(str(source), **kwargs)
    return str(caught.value)


# Folders


def test_folder_lists_rasters_of_subfolders_sorted_without_hidden_files_and_sidecars(tmp_path):
    b = write_tif(str(tmp_path / "b.tif"))
    a = write_tif(str(tmp_path / "a.TIF"))
    nested = write_tif(str(tmp_path / "sub" / "c.tiff"))
    write_tif(str(tmp_path / ".x.partial.tif"))
    write_tif(str(tmp_path / ".cache" / "d.tif"))
    (tmp_path / "b.tif.aux.xml").write_text("<PAMDataset/>")
    (tmp_path / "b.tif.ovr").write_bytes(b"overview")
    (tmp_path / "b.tif.msk").write_bytes(b"mask")
    (tmp_path / "notes.txt").write_text("not a raster")

    rasters = list_rasters(str(tmp_path))

    assert rasters == [ArchiveRaster(a, "a.TIF"), ArchiveRaster(b, "b.tif"), ArchiveRaster(nested, "c.tiff")]


def test_folder_given_relatively_comes_back_absolute(tmp_path, monkeypatch):
    tif = write_tif(str(tmp_path / "archive" / "a.tif"))
    monkeypatch.chdir(tmp_path)

    assert paths(list_rasters("archive")) == [tif]


def test_folder_without_rasters_is_a_sentence_naming_it(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    write_tif(str(tmp_path / ".x.partial.tif"))

    message = error_of(tmp_path)

    assert str(tmp_path) in message
    assert "has no raster files (.tif, .tiff, .jp2, .img, .vrt)" in message


def test_missing_source_is_a_sentence_naming_it(tmp_path):
    message = error_of(tmp_path / "nowhere")

    assert str(tmp_path / "nowhere") in message
    assert "does not exist" in message


def test_single_raster_is_a_list_of_one(tmp_path):
    tif = write_tif(str(tmp_path / "scene.tif"))

    assert list_rasters(tif) == [ArchiveRaster(tif, "scene.tif")]


# Text lists


def test_text_list_skips_comments_and_blank_lines_and_resolves_relative_paths(tmp_path):
    a = write_tif(str(tmp_path / "lists" / "tiles" / "a.tif"))
    b = write_tif(str(tmp_path / "elsewhere" / "b.tif"))
    listing = tmp_path / "lists" / "archive.txt"
    listing.write_text(f"# the archive\n\ntiles/a.tif\n   \n  {b}  \n# tiles/old.tif\ntiles/a.tif\n")

    rasters = list_rasters(str(listing))

    assert rasters == [ArchiveRaster(a, "a.tif"), ArchiveRaster(b, "b.tif")]


def test_list_entries_are_resolved_against_the_list_folder_not_the_current_one(tmp_path, monkeypatch):
    a = write_tif(str(tmp_path / "lists" / "a.tif"))
    (tmp_path / "lists" / "archive.lst").write_text("a.tif\n")
    monkeypatch.chdir(tmp_path)

    assert paths(list_rasters("lists/archive.lst")) == [a]


def test_one_column_csv_is_a_list_and_its_quotes_are_removed(tmp_path):
    a = write_tif(str(tmp_path / "with, comma.tif"))
    b = write_tif(str(tmp_path / "b.tif"))
    (tmp_path / "archive.csv").write_text(f'"with, comma.tif"\n\n{b}\n')

    assert paths(list_rasters(str(tmp_path / "archive.csv"))) == [a, b]


def test_csv_with_two_columns_is_a_sentence_naming_the_row(tmp_path):
    write_tif(str(tmp_path / "a.tif"))
    (tmp_path / "archive.csv").write_text("a.tif,2021-06-01\n")

    message = error_of(tmp_path / "archive.csv")

    assert "a.tif, 2021-06-01" in message
    assert "one column" in message


def test_list_urls_become_gdal_paths_and_are_not_checked(tmp_path):
    (tmp_path / "archive.txt").write_text("https://example.com/a.tif?token=1\ns3://bucket/tiles/b.tif\n"
                                          "/vsizip/tiles.zip/c.tif\n")

    rasters = list_rasters(str(tmp_path / "archive.txt"))

    assert rasters == [ArchiveRaster("/vsicurl/https://example.com/a.tif?token=1", "a.tif"),
                       ArchiveRaster("/vsis3/bucket/tiles/b.tif", "b.tif"),
                       ArchiveRaster("/vsizip/tiles.zip/c.tif", "c.tif")]


def test_missing_list_entries_are_named_up_to_three_with_their_count(tmp_path):
    write_tif(str(tmp_path / "present.tif"))
    names = ["gone1.tif", "gone2.tif", "gone3.tif", "gone4.tif", "gone5.tif"]
    (tmp_path / "archive.txt").write_text("present.tif\n" + "\n".join(names) + "\n")

    message = error_of(tmp_path / "archive.txt")

    assert message.startswith("5 of the 6 rasters")
    assert str(tmp_path / "archive.txt") in message
    for name in names[:3]:
        assert str(tmp_path / name) in message
    assert "gone4" not in message and "and 2 more" in message


def test_list_with_only_comments_is_a_sentence_naming_it(tmp_path):
    (tmp_path / "archive.txt").write_text("# nothing yet\n\n")

    message = error_of(tmp_path / "archive.txt")

    assert str(tmp_path / "archive.txt") in message and "names no rasters" in message


def test_binary_file_as_list_is_a_sentence_naming_it(tmp_path):
    (tmp_path / "archive.gpkg").write_bytes(b"SQLite format 3\x00\xff\xfe\x80\x81")

    message = error_of(tmp_path / "archive.gpkg")

    assert str(tmp_path / "archive.gpkg") in message and "not a text file" in message


def test_unsupported_url_scheme_is_a_sentence_naming_it(tmp_path):
    (tmp_path / "archive.txt").write_text("ftp://example.com/a.tif\n")

    message = error_of(tmp_path / "archive.txt")

    assert "ftp://example.com/a.tif" in message and "ftp:" in message


# VRTs


def test_vrt_built_by_gdal_lists_each_source_file_once_relative_and_absolute(tmp_path):
    a = write_tif(str(tmp_path / "tiles" / "a.tif"), 0)
    b = write_tif(str(tmp_path / "tiles" / "b.tif"), 1)
    c = write_tif(str(tmp_path / "other" / "c.tif"), 2)
    vrt = str(tmp_path / "tiles" / "mosaic.vrt")
    build_vrt(vrt, [a, b, c])
    xml = open(vrt).read()
    assert 'relativeToVRT="1">a.tif<' in xml and f'relativeToVRT="0">{c}<' in xml

    rasters = list_rasters(vrt)

    assert rasters == [ArchiveRaster(a, "a.tif"), ArchiveRaster(b, "b.tif"), ArchiveRaster(c, "c.tif")]
    for raster, offset in zip(rasters, range(3)):
        with rasterio.open(raster.path) as dataset:
            assert dataset.read(1)[0, 0] == offset


def test_hand_written_vrt_honours_relative_to_vrt_and_ignores_overviews(tmp_path, monkeypatch):
    a = write_tif(str(tmp_path / "mosaic" / "tiles" / "a.tif"))
    b = write_tif(str(tmp_path / "b.tif"))
    cwd_tile = write_tif(str(tmp_path / "cwd" / "d.tif"))
    write_tif(str(tmp_path / "mosaic" / "overview.tif"))
    vrt = tmp_path / "mosaic" / "m.vrt"
    vrt.write_text(f"""<VRTDataset rasterXSize="16" rasterYSize="8">
  <VRTRasterBand dataType="Byte" band="1">
    <ComplexSource><SourceFilename relativeToVRT="1">tiles/a.tif</SourceFilename><SourceBand>1</SourceBand></ComplexSource>
    <SimpleSource><SourceFilename relativeToVRT="0">{b}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
    <Overview><SourceFilename relativeToVRT="1">overview.tif</SourceFilename><SourceBand>1</SourceBand></Overview>
  </VRTRasterBand>
  <VRTRasterBand dataType="Byte" band="2">
    <AveragedSource><SourceFilename relativeToVRT="1">tiles/a.tif</SourceFilename><SourceBand>2</SourceBand></AveragedSource>
    <SimpleSource><SourceFilename>d.tif</SourceFilename><SourceBand>2</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>""")
    # A path that is not relativeToVRT is opened by GDAL from the current folder.
    monkeypatch.chdir(tmp_path / "cwd")

    assert paths(list_rasters(str(vrt))) == [a, b, cwd_tile]


def test_vrt_without_sources_is_a_sentence_naming_it(tmp_path):
    vrt = tmp_path / "empty.vrt"
    vrt.write_text('<VRTDataset rasterXSize="8" rasterYSize="8"><VRTRasterBand dataType="Byte" band="1"/></VRTDataset>')

    message = error_of(vrt)

    assert str(vrt) in message and "no source files" in message


def test_vrt_with_a_missing_source_is_a_sentence_naming_it(tmp_path):
    write_tif(str(tmp_path / "a.tif"))
    vrt = tmp_path / "m.vrt"
    vrt.write_text('<VRTDataset rasterXSize="8" rasterYSize="8"><VRTRasterBand dataType="Byte" band="1">'
                   '<SimpleSource><SourceFilename relativeToVRT="1">a.tif</SourceFilename></SimpleSource>'
                   '<SimpleSource><SourceFilename relativeToVRT="1">lost.tif</SourceFilename></SimpleSource>'
                   '</VRTRasterBand></VRTDataset>')

    message = error_of(vrt)

    assert message.startswith("1 of the 2 rasters") and str(tmp_path / "lost.tif") in message


def test_invalid_vrt_xml_is_a_sentence_naming_it(tmp_path):
    vrt = tmp_path / "broken.vrt"
    vrt.write_text("<VRTDataset><VRTRasterBand>")

    message = error_of(vrt)

    assert str(vrt) in message and "not valid XML" in message


def test_xml_that_is_not_a_vrt_is_a_sentence_naming_its_root(tmp_path):
    vrt = tmp_path / "other.vrt"
    vrt.write_text("<PAMDataset/>")

    message = error_of(vrt)

    assert str(vrt) in message and "<PAMDataset>" in message


# STAC


def stac_item(item_id, assets):
    return {"type": "Feature", "stac_version": "1.0.0", "id": item_id, "geometry": None, "properties": {},
            "links": [], "assets": assets}


GEOTIFF = "image/tiff; application=geotiff; profile=cloud-optimized"


@pytest.fixture
def item_collection(tmp_path):
    """Three items: a "visual" asset, a data GeoTIFF beside a PNG thumbnail, an http href."""
    visual = write_tif(str(tmp_path / "items" / "one_visual.tif"))
    red = write_tif(str(tmp_path / "items" / "one_red.tif"))
    data = write_tif(str(tmp_path / "data" / "two.tif"))
    items = [
        stac_item("one", {"red": {"href": "items/one_red.tif", "type": GEOTIFF, "roles": ["data"]},
                          "visual": {"href": "items/one_visual.tif", "type": GEOTIFF, "roles": ["visual"]}}),
        stac_item("two", {"thumbnail": {"href": "two.png", "type": "image/png", "roles": ["thumbnail"]},
                          "metadata": {"href": "two.xml", "type": "application/xml", "roles": ["metadata"]},
                          "image": {"href": f"file://{data}", "type": "image/tiff; application=geotiff",
                                    "roles": ["data"]}}),
        stac_item("three", {"B04": {"href": "https://example.com/three/B04.tif", "type": GEOTIFF}}),
    ]
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return path, {"visual": visual, "red": red, "data": data}


def test_item_collection_gives_one_raster_per_item_with_its_id(item_collection):
    path, files = item_collection

    rasters = list_rasters(str(path))

    assert rasters == [ArchiveRaster(files["visual"], "one"), ArchiveRaster(files["data"], "two"),
                       ArchiveRaster("/vsicurl/https://example.com/three/B04.tif", "three")]


def test_asset_override_picks_that_asset(item_collection, tmp_path):
    path, files = item_collection
    items = json.loads(path.read_text())["features"][:1]
    one = tmp_path / "one.geojson"
    one.write_text(json.dumps({"type": "FeatureCollection", "features": items}))

    assert list_rasters(str(one), asset="red") == [ArchiveRaster(files["red"], "one")]


def test_asset_override_missing_in_an_item_names_the_item_and_its_assets(item_collection):
    path, _ = item_collection

    message = error_of(path, asset="red")

    assert "STAC item two" in message
    assert "'red'" in message and "thumbnail, metadata, image" in message


def test_item_without_a_raster_asset_is_a_sentence_naming_it(tmp_path):
    items = [stac_item("good", {"data": {"href": "https://example.com/good.tif", "type": GEOTIFF}}),
             stac_item("pictures-only", {
                 "thumbnail": {"href": "p.png", "type": "image/png", "roles": ["thumbnail"]},
                 "overview": {"href": "p.tif", "type": GEOTIFF, "roles": ["overview"]}})]
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))

    message = error_of(path)

    assert "STAC item pictures-only" in message and "thumbnail, overview" in message
    assert "good" not in message


def test_single_item_with_s3_and_jp2_assets(tmp_path):
    item = stac_item("S2B_T33UUP", {
        "preview": {"href": "s3://bucket/S2B/preview.png", "type": "image/png"},
        "TCI": {"href": "s3://bucket/S2B/TCI.jp2", "type": "image/jp2", "roles": ["data"]}})
    path = tmp_path / "item.json"
    path.write_text(json.dumps(item))

    assert list_rasters(str(path)) == [ArchiveRaster("/vsis3/bucket/S2B/TCI.jp2", "S2B_T33UUP")]


def test_items_with_the_same_href_are_kept_once(tmp_path):
    write_tif(str(tmp_path / "a.tif"))
    items = [stac_item(f"item{i}", {"visual": {"href": "./a.tif", "type": GEOTIFF}}) for i in range(3)]
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))

    assert list_rasters(str(path)) == [ArchiveRaster(str(tmp_path / "a.tif"), "item0")]


def test_missing_local_asset_is_a_sentence_naming_it(tmp_path):
    path = tmp_path / "search.json"
    path.write_text(json.dumps(stac_item("x", {"visual": {"href": "x/visual.tif", "type": GEOTIFF}})))

    message = error_of(path)

    assert str(tmp_path / "x" / "visual.tif") in message and "do not exist" in message


@pytest.mark.parametrize("document", [
    {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None, "properties": {}}]},
    {"type": "Collection", "id": "sentinel-2", "links": []},
    [1, 2, 3],
])
def test_json_that_is_not_stac_items_is_a_sentence_naming_it(tmp_path, document):
    path = tmp_path / "plain.geojson"
    path.write_text(json.dumps(document))

    message = error_of(path)

    assert str(path) in message and "neither a STAC ItemCollection nor a STAC Item" in message


def test_empty_item_collection_is_a_sentence_naming_it(tmp_path):
    path = tmp_path / "search.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))

    message = error_of(path)

    assert str(path) in message and "no items" in message


def test_invalid_json_is_a_sentence_naming_it_and_where(tmp_path):
    path = tmp_path / "search.json"
    path.write_text('{"type": "FeatureCollection",\n "features": [}')

    message = error_of(path)

    assert str(path) in message and "not valid JSON" in message and "line 2" in message
