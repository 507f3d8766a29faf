"""segment-geospatial (SamGeo) on the benchmark raster, for bench/segment.py.

Runs only under the throwaway venv that holds samgeo (never the project's; samgeo is not
a GeoVL dependency):

    /tmp/samgeo-venv/bin/python bench/samgeo_peer.py --spec JSON --result PATH

spec: mode ("whole" or "windows"), raster, checkpoint, tile, boxes ([{row, col, box}],
box = [minx, miny, maxx, maxy] in the raster's CRS), out_dir.

- whole: SamGeo.set_image(raster) on the whole raster, then one predict with every box.
  segment-anything's predictor resizes the long side to 1024 px, so the model sees the
  raster downsampled; the effective resolution is reported.
- windows: what a user scripts to keep native resolution: each 1024 px window written to
  a GeoTIFF with rasterio (samgeo's split_raster needs GDAL's Python bindings, absent from
  a pip venv), then set_image and predict with that window's boxes.

Boxes go in as samgeo's documented way does, lon/lat with point_crs="EPSG:4326" (with
boxes in pixels, predict passes a numpy array to predict_torch for more than one box;
with point_crs equal to the raster's CRS, bbox_to_xy skips the conversion to pixels).
Each box's lower-left and upper-right corners are converted, so they map back exactly.
Masks are written to a GeoTIFF per predict (output=..., dtype="uint8").
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (stdlib helpers only: Timer, RSS, CPU time, write_json; no geovl here)


def lonlat(boxes: list[list[float]], crs) -> list[list[float]]:
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    out = []
    for minx, miny, maxx, maxy in boxes:
        lon0, lat0 = to_lonlat.transform(minx, miny)
        lon1, lat1 = to_lonlat.transform(maxx, maxy)
        out.append([lon0, lat0, lon1, lat1])
    return out


def effective(sam, pixel_m: float) -> dict:
    """What the model saw: the predictor's input size against the image it was given."""
    original, model_input = sam.predictor.original_size, sam.predictor.input_size
    scale = max(original) / max(model_input)
    return {"image_px": list(original), "model_input_px": list(model_input), "downsample": round(scale, 3),
            "m_per_px": round(pixel_m * scale, 3), "native_m_per_px": pixel_m}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    spec = json.loads(args.spec)

    import rasterio
    import torch
    from importlib.metadata import version
    from rasterio.windows import Window

    t = common.Timer()
    from samgeo import SamGeo
    import_s = t.seconds
    t = common.Timer()
    sam = SamGeo(model_type="vit_b", checkpoint=spec["checkpoint"], automatic=False, device="cpu")
    out = {"mode": spec["mode"], "samgeo": version("segment-geospatial"), "torch": torch.__version__,
           "torch_threads": torch.get_num_threads(), "import_s": round(import_s, 3), "load_s": round(t.seconds, 3),
           "boxes": len(spec["boxes"]), "loadavg_start": common.load_average()}
    with rasterio.open(spec["raster"]) as src:
        crs, transform, profile, pixel_m = src.crs, src.transform, src.profile, src.res[0]
        width, height = src.width, src.height
    tile, folder = spec["tile"], spec["out_dir"]

    cpu0 = common.cpu_seconds()
    t = common.Timer()
    if spec["mode"] == "whole":
        sam.set_image(spec["raster"])
        set_image_s = t.seconds
        sam.predict(boxes=lonlat([b["box"] for b in spec["boxes"]], crs), point_crs="EPSG:4326",
                    output=os.path.join(folder, "mask.tif"), dtype="uint8")
        out["set_image_s"] = round(set_image_s, 3)
        out["predict_s"] = round(t.seconds - set_image_s, 3)
        out["effective"] = effective(sam, pixel_m)
        out["masks_shape"] = list(sam.masks.shape)
    elif spec["mode"] == "windows":
        windows, write_s = [], 0.0
        with rasterio.open(spec["raster"]) as src:
            for row in range(-(-height // tile)):
                for col in range(-(-width // tile)):
                    boxes = [b["box"] for b in spec["boxes"] if (b["row"], b["col"]) == (row, col)]
                    if not boxes:
                        continue
                    w = Window(col * tile, row * tile, min(tile, width - col * tile), min(tile, height - row * tile))
                    path = os.path.join(folder, f"window_{row}_{col}.tif")
                    tw = common.Timer()
                    with rasterio.open(path, "w", **{**profile, "width": w.width, "height": w.height,
                                                     "transform": src.window_transform(w)}) as dst:
                        dst.write(src.read(window=w))
                    write_s += tw.seconds
                    tw = common.Timer()
                    sam.set_image(path)
                    sam.predict(boxes=lonlat(boxes, crs), point_crs="EPSG:4326",
                                output=os.path.join(folder, f"mask_{row}_{col}.tif"), dtype="uint8")
                    windows.append(round(tw.seconds, 3))
        out["windows"] = len(windows)
        out["window_s"] = windows
        out["write_windows_s"] = round(write_s, 3)
        out["effective"] = effective(sam, pixel_m)
    else:
        raise SystemExit(f"unknown mode {spec['mode']!r}")
    wall = t.seconds
    out.update({"wall_s": round(wall, 3), "cpu_utilisation": round((common.cpu_seconds() - cpu0) / wall, 2),
                "peak_rss_mb": round(common.peak_rss_mb(), 1), "loadavg_end": common.load_average(),
                "note": "wall_s: set_image + predict (+ writing the windows), model loaded before (load_s)"})
    common.write_json(args.result, out)


if __name__ == "__main__":
    main()
