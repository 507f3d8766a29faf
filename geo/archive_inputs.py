"""The rasters of an archive: what a user gives as the archive of a retrieval index, turned
into the list of raster paths the index is built from.

An archive is a folder of rasters, a text list of raster paths, a VRT mosaic (each of its
source files is one raster, so every tile of the mosaic knows the file it came from), a
STAC ItemCollection or Item (one raster per item), or a single raster. Every raster comes
back as a path rasterio opens (an absolute local path, or a GDAL /vsi path for a remote
href) with a short label for users. Nothing here opens a raster or needs GDAL: a local path
is only checked to exist, a remote one not at all.
"""
from __future__ import annotations

import csv
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from ..errors import InputError

_RASTER_EXTENSIONS = (".tif", ".tiff", ".jp2", ".img", ".vrt")
_STAC_EXTENSIONS = (".json", ".geojson")
_CLOUD_PREFIXES = {"s3": "/vsis3/", "gs": "/vsigs/"}
_STAC_RASTER_TYPES = ("image/tiff", "geotiff", "image/jp2")
_STAC_RASTER_ROLES = {"data", "visual"}
_MISSING_NAMED = 3
_ARCHIVE_KINDS = "a folder of rasters, a text list of raster paths, a VRT or a STAC ItemCollection JSON"


@dataclass(frozen=True)
class ArchiveRaster:
    """One raster of an archive."""

    path: str  # what rasterio.open accepts: an absolute local path or a GDAL /vsi path
    name: str  # a short label for users: the STAC item id, else the file name


def list_rasters(source: str, asset: str = "") -> list[ArchiveRaster]:
    """The rasters of the archive `source`, each once, in the archive's order.

    `source` is a folder (its raster files and those of its subfolders, sorted by path,
    hidden ones left out), a VRT (its source files), a STAC ItemCollection or Item JSON
    (one raster per item: the asset named `asset`, else "visual", else the first GeoTIFF or
    JPEG 2000 data asset), a single raster, or else a text list (one path per line).
    `asset` only applies to STAC. Raises InputError with a sentence for the user.
    """
    if not os.path.exists(source):
        raise InputError(f"The archive {source} does not exist; give {_ARCHIVE_KINDS}.")
    source = os.path.abspath(source)
    extension = _extension(source)
    if os.path.isdir(source):
        rasters = _folder_rasters(source)
    elif extension == ".vrt":
        rasters = _vrt_rasters(source)
    elif extension in _RASTER_EXTENSIONS:
        rasters = [_raster(source)]
    elif extension in _STAC_EXTENSIONS:
        rasters = _stac_rasters(source, asset)
    else:
        rasters = _list_file_rasters(source)
    rasters = _unique(rasters)
    _check_local_paths_exist(rasters, source)
    return rasters


def _folder_rasters(folder: str) -> list[ArchiveRaster]:
    paths = []
    for root, subfolders, files in os.walk(folder):
        # Hidden names are GeoVL's own temporary files (.x.partial.tif) and tools' folders.
        subfolders[:] = [name for name in subfolders if not _hidden(name)]
        paths += [os.path.join(root, name) for name in files
                  if not _hidden(name) and _extension(name) in _RASTER_EXTENSIONS]
    if not paths:
        raise InputError(f"The folder {folder} has no raster files ({', '.join(_RASTER_EXTENSIONS)}) in it or its "
                         "subfolders; choose the folder that holds the rasters, or give a list of their paths.")
    return [_raster(path) for path in sorted(paths)]


def _list_file_rasters(list_file: str) -> list[ArchiveRaster]:
    entries = _list_entries(list_file)
    if not entries:
        raise InputError(f"The list {list_file} names no rasters; write one raster path per line "
                         "(lines starting with # are comments).")
    folder = os.path.dirname(list_file)
    return [_raster(_resolve(entry, folder)) for entry in entries]


def _list_entries(list_file: str) -> list[str]:
    lines = _read_text(list_file).splitlines()
    if _extension(list_file) == ".csv":
        lines = [_single_csv_cell(row, list_file) for row in csv.reader(lines)]
    stripped = (line.strip() for line in lines)
    return [line for line in stripped if line and not line.startswith("#")]


def _single_csv_cell(row: list[str], list_file: str) -> str:
    cells = [cell.strip() for cell in row if cell.strip()]
    if len(cells) > 1:
        raise InputError(f"The list {list_file} has a row with {len(cells)} columns ({', '.join(cells)}); "
                         "keep one column with one raster path per row.")
    return cells[0] if cells else ""


def _vrt_rasters(vrt: str) -> list[ArchiveRaster]:
    root = _parse_xml(vrt)
    if root.tag != "VRTDataset":
        raise InputError(f"The file {vrt} is not a GDAL VRT: its root element is <{root.tag}>, not <VRTDataset>; "
                         "rebuild it with gdalbuildvrt.")
    folder = os.path.dirname(vrt)
    # SimpleSource, ComplexSource, AveragedSource, KernelFilteredSource, ...; an <Overview>
    # also names a SourceFilename, but that is the same raster at a coarser scale.
    filenames = [source.find("SourceFilename") for source in root.iter() if source.tag.endswith("Source")]
    paths = [_vrt_source_path(element, folder) for element in filenames
             if element is not None and (element.text or "").strip()]
    if not paths:
        raise InputError(f"The VRT {vrt} has no source files in its bands; give a VRT that mosaics raster "
                         "files (gdalbuildvrt), or the folder of the rasters.")
    return [_raster(path) for path in paths]


def _vrt_source_path(filename: ET.Element, vrt_folder: str) -> str:
    relative_to_vrt = filename.get("relativeToVRT") == "1"
    # GDAL opens a relative path that is not relativeToVRT from the current folder.
    return _resolve(filename.text.strip(), vrt_folder if relative_to_vrt else os.getcwd())


def _stac_rasters(json_file: str, asset: str) -> list[ArchiveRaster]:
    items = _stac_items(_read_json(json_file), json_file)
    folder = os.path.dirname(json_file)
    return [_item_raster(item, number, asset, folder) for number, item in enumerate(items, start=1)]


def _stac_items(document: Any, json_file: str) -> list[dict]:
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "Feature" and _is_stac_item(document):
        return [document]
    features = document.get("features") if kind == "FeatureCollection" else None
    if features == []:
        raise InputError(f"The STAC ItemCollection {json_file} has no items; save a search that finds some.")
    if isinstance(features, list) and all(_is_stac_item(feature) for feature in features):
        return features
    raise InputError(f"The file {json_file} is neither a STAC ItemCollection nor a STAC Item (its type is {kind!r}, "
                     "or its features have no 'assets'); save the items of a STAC search as an ItemCollection, or "
                     "give a folder, a list or a VRT of the rasters.")


def _is_stac_item(feature: Any) -> bool:
    return isinstance(feature, dict) and feature.get("type") == "Feature" and isinstance(feature.get("assets"), dict)


def _item_raster(item: dict, number: int, asset: str, json_folder: str) -> ArchiveRaster:
    item_id = str(item.get("id") or "")
    label = item_id or f"number {number}"
    assets = item["assets"]
    keys = ", ".join(assets) or "none"
    if asset and asset not in assets:
        raise InputError(f"The STAC item {label} has no asset {asset!r}; choose one of its assets: {keys}.")
    key = asset or _default_asset(assets)
    if key is None:
        raise InputError(f"The STAC item {label} has no GeoTIFF or JPEG 2000 data asset (its assets: {keys}); "
                         "name the asset to use.")
    href = assets[key].get("href") if isinstance(assets[key], dict) else None
    if not isinstance(href, str) or not href.strip():
        raise InputError(f"The asset {key!r} of the STAC item {label} has no href; choose another asset ({keys}).")
    path = _resolve(href.strip(), json_folder)
    return ArchiveRaster(path, item_id or _file_name(path))


def _default_asset(assets: dict) -> str | None:
    if "visual" in assets:
        return "visual"
    return next((key for key, entry in assets.items() if _is_raster_asset(entry)), None)


def _is_raster_asset(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    media_type = str(entry.get("type", "")).lower()
    roles = entry.get("roles") or []
    return (any(kind in media_type for kind in _STAC_RASTER_TYPES)
            and (not roles or bool(_STAC_RASTER_ROLES.intersection(roles))))


def _resolve(reference: str, folder: str) -> str:
    """The path rasterio opens for `reference`, a path or URI written in a file in `folder`."""
    if reference.startswith("/vsi"):
        return reference
    url = urlparse(reference)
    if url.scheme in ("http", "https"):
        return "/vsicurl/" + reference
    if url.scheme in _CLOUD_PREFIXES:
        return _CLOUD_PREFIXES[url.scheme] + url.netloc + url.path
    if url.scheme == "file":
        return os.path.abspath(url2pathname(url.path))
    # A one-letter scheme is a Windows drive (C:\...), not a URI.
    if len(url.scheme) > 1:
        raise InputError(f"The raster address {reference} starts with {url.scheme}:, which GeoVL cannot read; "
                         "use a local path or an http(s)://, s3:// or gs:// address.")
    return os.path.abspath(os.path.join(folder, reference))


def _check_local_paths_exist(rasters: list[ArchiveRaster], source: str) -> None:
    missing = [raster.path for raster in rasters
               if not raster.path.startswith("/vsi") and not os.path.exists(raster.path)]
    if not missing:
        return
    named = ", ".join(missing[:_MISSING_NAMED])
    if len(missing) > _MISSING_NAMED:
        named += f" and {len(missing) - _MISSING_NAMED} more"
    raise InputError(f"{len(missing)} of the {len(rasters)} rasters of the archive {source} do not exist: {named}; "
                     "correct or remove them.")


def _unique(rasters: list[ArchiveRaster]) -> list[ArchiveRaster]:
    first_by_path: dict[str, ArchiveRaster] = {}
    for raster in rasters:
        first_by_path.setdefault(raster.path, raster)
    return list(first_by_path.values())


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8-sig") as file:
            return file.read()
    except UnicodeDecodeError:
        raise InputError(f"The archive {path} is not a text file; give {_ARCHIVE_KINDS}.") from None
    except OSError as exc:
        raise InputError(f"The archive {path} cannot be read ({exc.strerror}); check its permissions.") from exc


def _read_json(path: str) -> Any:
    try:
        return json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"The file {path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                         "save the STAC items again.") from None


def _parse_xml(path: str) -> ET.Element:
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(f"The VRT {path} is not valid XML ({exc}); rebuild it with gdalbuildvrt.") from None
    except OSError as exc:
        raise InputError(f"The VRT {path} cannot be read ({exc.strerror}); check its permissions.") from exc


def _raster(path: str) -> ArchiveRaster:
    return ArchiveRaster(path, _file_name(path))


def _file_name(path: str) -> str:
    # A remote href may carry a query (a signed URL's token) after the file name.
    return os.path.basename(path.split("?", 1)[0] if path.startswith("/vsi") else path)


def _extension(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _hidden(name: str) -> bool:
    return name.startswith(".")
