"""The HTML report of an ask run: the answer, then each asked tile with its answer and a
thumbnail with the boxes the model drew on it.

Tiles are written to a scratch file as they are asked (a run over every tile of a large
raster must not hold all thumbnails in memory); `finish` puts the answer on top and
moves the whole into place in one rename. The scratch file lives in a scratch folder of
geo.files, so a killed run's is removed by a later one.
"""
from __future__ import annotations

import contextlib
import html
import os
import shutil

import numpy as np

from ..errors import InputError
from ..geo.boxes import box_corners
from ..geo.files import atomic_path, scratch_folder
from ..models.grounding import GroundedBox
from .answers import TileReply
from .thumbnails import STYLE, THUMBNAIL_PX, data_uri, outlined_jpeg


def thumbnail(image: np.ndarray, boxes: list[GroundedBox], size: int = THUMBNAIL_PX) -> bytes:
    """A JPEG of the (H, W, 3) tile at most `size` px, the (rotated) boxes outlined."""
    return outlined_jpeg(image, [box_corners(b.x0, b.y0, b.x1, b.y1, b.angle) for b in boxes], size)


class AskReport:
    """Write with `add_tile` per asked tile, then `finish`; leaving the block without
    `finish` (an error, a cancel) leaves nothing at `path`."""

    def __init__(self, path: str, question: str, model: str, source: str):
        self.path, self.question, self.model, self.source = path, question, model, source
        self.count = 0
        self._scratch = contextlib.ExitStack()

    def __enter__(self) -> "AskReport":
        folder = self._scratch.enter_context(scratch_folder("geovl-ask-"))
        # unbuffered: a failed write fails at once, not again when the file is closed
        self._tiles = self._scratch.enter_context(open(os.path.join(folder, "tiles.html"), "wb+", buffering=0))
        return self

    def __exit__(self, *exc) -> None:
        self._scratch.close()

    def add_tile(self, reply: TileReply, image: np.ndarray, boxes: list[GroundedBox],
                 retrieval_score: float | None = None) -> None:
        self.count += 1
        picture = data_uri(thumbnail(image, boxes))
        facts = [f"{len(boxes)} box(es)"] + ([f"retrieval score {retrieval_score:.3f}"]
                                             if retrieval_score is not None else [])
        entry = (f'<div class="tile"><img src="{picture}" alt="tile {html.escape(reply.label)}">'
                 f"<div><h3>Tile {html.escape(reply.label)}</h3><p>Centre {html.escape(reply.location)}; "
                 f"{', '.join(facts)}</p><pre>{html.escape(reply.text) or '<i>(no text)</i>'}</pre></div></div>\n")
        try:
            self._tiles.write(entry.encode("utf-8"))
        except OSError as exc:
            raise InputError(f"Could not write the report's tiles in the temp folder "
                             f"'{os.path.dirname(self._tiles.name)}': {exc.strerror or exc}. Free some space there, "
                             f"or set TMPDIR to a folder on another disk.") from exc

    def finish(self, answer: str, notes: list[str]) -> None:
        e = html.escape
        head = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>GeoVL: {e(self.question)}</title>'
                f"<style>{STYLE}</style></head><body><h1>{e(self.question)}</h1>"
                f"<p>Model {e(self.model)}; raster {e(self.source)}.</p><h2>Answer</h2><pre>{e(answer)}</pre>"
                + "".join(f"<p>{e(note)}</p>" for note in notes)
                + f"<h2>Tiles asked ({self.count})</h2>\n")
        self._tiles.seek(0)
        with atomic_path(self.path) as tmp:
            with open(tmp, "wb") as out:
                out.write(head.encode("utf-8"))
                shutil.copyfileobj(self._tiles, out)
                out.write(b"</body></html>\n")
