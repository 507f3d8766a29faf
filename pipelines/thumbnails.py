"""Small JPEG pictures of tiles for HTML reports, with outlines drawn on them.

Images are inline (data URIs), so a report is one file that opens anywhere, QGIS's
results viewer included.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageDraw

THUMBNAIL_PX = 256
OUTLINE_COLOUR = (255, 40, 40)
STYLE = ("body{font-family:sans-serif;max-width:60em;margin:1em auto}"
         "pre{white-space:pre-wrap;background:#f4f4f4;padding:.6em}"
         ".tile{display:flex;gap:1em;margin:1em 0;border-top:1px solid #ccc;padding-top:1em}"
         "img{border:1px solid #888}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}")


def outlined_jpeg(image: np.ndarray, outlines: list[np.ndarray], size: int = THUMBNAIL_PX) -> bytes:
    """A JPEG of the (H, W, 3) image at most `size` px a side, each outline ((N, 2) x, y
    in the image's pixels) drawn as a closed red line."""
    picture = Image.fromarray(np.ascontiguousarray(image[..., :3]))
    picture.thumbnail((size, size))
    fx, fy = picture.width / image.shape[1], picture.height / image.shape[0]
    draw = ImageDraw.Draw(picture)
    for outline in outlines:
        draw.polygon([tuple(p) for p in np.asarray(outline) * (fx, fy)], outline=OUTLINE_COLOUR, width=2)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=90, subsampling=0)  # thin red lines stay red
    return buffer.getvalue()


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
