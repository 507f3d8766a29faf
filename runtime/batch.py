"""`python -m geovl.runtime.batch`: archive jobs from the command line, for machines
without QGIS (a Ray cluster's head node, a server).

    python -m geovl.runtime.batch index ARCHIVE --model M [--index FILE.gpkg] [--ray ADDRESS]
    python -m geovl.runtime.batch query FILE.gpkg "storage tanks" [--top-k 10] [--output hits.gpkg]

ARCHIVE is a folder of rasters, a text list of them, a VRT or a STAC ItemCollection JSON
(see pipelines/archive.py). Progress goes to stderr; Ctrl-C stops at the next batch, and
running the same command again goes on from what was written.
"""
from __future__ import annotations

import argparse
import signal
import sys

from ..errors import GeoVLError, InputError
from ..geo import archive_index, tile_index
from ..geo.gpkg import write_feature_tables
from ..models.resolver import load_embedder
from ..pipelines.archive import IN_PROCESS, ArchiveHit, index_archive, rank_archive
from ..pipelines.options import ModelOptions, TilingOptions
from .jobs import hits_table


class ConsoleFeedback:
    """Pipeline feedback on stderr: messages as they come, progress every 5 %; Ctrl-C
    (SIGINT) or SIGTERM cancels at the next batch."""

    def __init__(self):
        self._stop, self._shown = False, -5.0
        self._previous = {number: signal.signal(number, self._cancel) for number in (signal.SIGINT, signal.SIGTERM)}

    def close(self) -> None:
        """Give the signals back to their earlier handlers."""
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _cancel(self, *_) -> None:
        self._stop = True
        print("Stopping at the next batch; run the same command again to go on.", file=sys.stderr, flush=True)

    def progress(self, percent: float) -> None:
        if percent - self._shown >= 5 or percent >= 100 > self._shown:
            self._shown = percent
            print(f"{percent:5.1f} %", file=sys.stderr, flush=True)

    def info(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def warning(self, message: str) -> None:
        print(f"Warning: {message}", file=sys.stderr, flush=True)

    def cancelled(self) -> bool:
        return self._stop


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    feedback = ConsoleFeedback()
    try:
        if args.command == "index":
            result = index_archive(
                args.archive, ModelOptions(args.model, args.device, args.precision),
                TilingOptions(tile_size=args.tile_size, overlap=args.overlap, resolution=args.resolution,
                              bands=tuple(args.bands) if args.bands else None),
                asset=args.asset, index_path=args.index, batch_size=args.batch_size, cluster=args.ray,
                workers=args.workers, feedback=feedback)
            print(f"{result.index_path}: {result.tile_count} tiles of {result.raster_count} rasters "
                  f"({result.tiles_embedded} embedded now, {result.tiles_resumed} by an earlier run).")
        else:
            hits, meta = _query(args, feedback)
            for hit in hits:
                print(f"{hit.rank}\t{hit.score:.4f}\t{hit.raster}\t{hit.row}\t{hit.col}")
            if args.output:
                write_feature_tables(args.output, {"hits": hits_table(hits)}, meta["crs_wkt"], meta.get("epsg"))
    except GeoVLError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        feedback.close()
    return 0


def _query(args, feedback: ConsoleFeedback) -> tuple[list[ArchiveHit], dict]:
    """The hits of the query, and the index's metadata."""
    found = tile_index.check_index(args.index)
    if not found.geovl or found.problem or not archive_index.is_archive(args.index):
        problem = found.problem or ("it is another kind of file or index" if found.exists else "it does not exist")
        raise InputError(f"'{args.index}' is not a complete GeoVL archive index ({problem}). Build it with "
                         "`python -m geovl.runtime.batch index`.")
    embedder = load_embedder(args.model or found.meta["model_name"], args.device, args.precision, log=feedback.info)
    return rank_archive(args.index, found.meta, embedder, args.text, args.negative, args.top_k, feedback), found.meta


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geovl.runtime.batch", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    index = commands.add_parser("index", help="embed the tiles of every raster of an archive into one index")
    index.add_argument("archive", help="a folder of rasters, a text list of them, a VRT or a STAC ItemCollection")
    index.add_argument("--model", required=True, help="preset, hub id or local path of a CLIP-family model")
    index.add_argument("--index", help="the index GeoPackage (default: in GeoVL's cache)")
    index.add_argument("--asset", default="", help="STAC asset key to read (default: visual, else the first image)")
    index.add_argument("--ray", default="", help=f"Ray address (ray://host:10001, auto); default RAY_ADDRESS, else a "
                       f"local Ray instance; '{IN_PROCESS}' embeds in this process without Ray")
    index.add_argument("--workers", type=int, default=0, help="model copies on Ray (default: one per GPU, else CPU)")
    index.add_argument("--tile-size", type=int, default=0, help="tile side in pixels (default: the model's input)")
    index.add_argument("--overlap", type=int, default=0, help="pixels shared by neighbouring tiles")
    index.add_argument("--resolution", type=float, default=0.0, help="metres per pixel to read at (0: native)")
    index.add_argument("--bands", type=int, nargs=3, help="the three bands to read (default: RGB, else 1 2 3)")
    index.add_argument("--batch-size", type=int, default=32)
    query = commands.add_parser("query", help="rank the tiles of an archive index against a text")
    query.add_argument("index", help="the archive index GeoPackage")
    query.add_argument("text", help="what to find")
    query.add_argument("--negative", default="", help="what the results should not look like")
    query.add_argument("--top-k", type=int, default=10)
    query.add_argument("--model", default="", help="default: the model the index was made with")
    query.add_argument("--output", help="write the hits to this GeoPackage")
    for command in (index, query):
        command.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
        command.add_argument("--precision", default="auto", help="auto, fp32, fp16 or bf16")
    return parser


if __name__ == "__main__":
    sys.exit(main())
