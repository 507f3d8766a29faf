"""`python -m geovl.runtime.batch`: archive jobs from the command line, for machines
without QGIS (a Ray cluster's head node, a server).

    python -m geovl.runtime.batch index ARCHIVE --model M [--index FILE.gpkg] [--ray ADDRESS]
    python -m geovl.runtime.batch query FILE.gpkg "storage tanks" [--top-k 10] [--output hits.gpkg]
    python -m geovl.runtime.batch segment ARCHIVE --model M --output roads.gpkg (--prompts P.geojson | --text road)

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
from ..pipelines.archive_segment import SegmentJob, read_prompts, segment_archive
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
            result = index_archive(args.archive, ModelOptions(args.model, args.device, args.precision), _tiling(args),
                                   asset=args.asset, index_path=args.index, batch_size=args.batch_size,
                                   cluster=args.ray, workers=args.workers, feedback=feedback)
            print(f"{result.index_path}: {result.tile_count} tiles of {result.raster_count} rasters "
                  f"({result.tiles_embedded} embedded now, {result.tiles_resumed} by an earlier run).")
        elif args.command == "segment":
            prompts, crs = read_prompts(args.prompts) if args.prompts else ([], "EPSG:4326")
            job = SegmentJob(ModelOptions(args.model, args.device, args.precision), tuple(prompts), crs,
                             tuple(t.strip() for t in args.text.split(";") if t.strip()), _tiling(args),
                             args.model_type, not args.no_refine, args.min_area, 0, args.simplify,
                             args.centerlines, args.road_class)
            result = segment_archive(args.archive, job, args.output, asset=args.asset, cluster=args.ray,
                                     workers=args.workers, feedback=feedback)
            print(f"{result.output_path}: {result.region_count} regions and {result.centerline_count} centre lines "
                  f"from {result.raster_count} rasters ({result.rasters_segmented} segmented now, "
                  f"{result.rasters_resumed} by an earlier run).")
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


def _tiling(args) -> TilingOptions:
    return TilingOptions(tile_size=args.tile_size, overlap=args.overlap, resolution=args.resolution,
                         bands=tuple(args.bands) if args.bands else None)


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
    segment = commands.add_parser("segment", help="segment every raster of an archive into one GeoPackage")
    for command in (index, segment):
        command.add_argument("archive", help="a folder of rasters, a text list of them, a VRT or a STAC "
                             "ItemCollection")
        command.add_argument("--model", required=True, help="preset, hub id or local path of the model")
        command.add_argument("--asset", default="", help="STAC asset key to read (default: visual, else the first "
                             "image)")
        command.add_argument("--ray", default="", help=f"Ray address (ray://host:10001, auto); default RAY_ADDRESS, "
                             f"else a local Ray instance; '{IN_PROCESS}' runs in this process without Ray")
        command.add_argument("--workers", type=int, default=0, help="model copies on Ray (default: one per GPU, "
                             "else CPU)")
        command.add_argument("--tile-size", type=int, default=0, help="tile side in pixels (default: the model's "
                             "input)")
        command.add_argument("--overlap", type=int, default=0, help="pixels shared by neighbouring tiles")
        command.add_argument("--resolution", type=float, default=0.0, help="metres per pixel to read at (0: native)")
        command.add_argument("--bands", type=int, nargs=3, help="the three bands to read (default: RGB, else 1 2 3)")
    index.add_argument("--index", help="the index GeoPackage (default: in GeoVL's cache)")
    index.add_argument("--batch-size", type=int, default=32)
    segment.add_argument("--output", required=True, help="the GeoPackage of regions (and centre lines) to write")
    segment.add_argument("--prompts", help="GeoJSON of points, boxes (polygons) or lines, with properties label "
                         "(1 object, 0 background) and class")
    segment.add_argument("--text", default="", help="text concepts for a SAM 3 model, separated by ;")
    segment.add_argument("--model-type", default="auto", help="segment-anything checkpoint type (vit_b, ...)")
    segment.add_argument("--no-refine", action="store_true", help="decode each mask once (no second pass)")
    segment.add_argument("--min-area", type=float, default=0.0, help="drop polygons smaller than this (m²)")
    segment.add_argument("--simplify", type=float, default=0.0, help="simplification tolerance (map units)")
    segment.add_argument("--centerlines", action="store_true", help="also draw the centre lines of --road-class")
    segment.add_argument("--road-class", default="road")
    query = commands.add_parser("query", help="rank the tiles of an archive index against a text")
    query.add_argument("index", help="the archive index GeoPackage")
    query.add_argument("text", help="what to find")
    query.add_argument("--negative", default="", help="what the results should not look like")
    query.add_argument("--top-k", type=int, default=10)
    query.add_argument("--model", default="", help="default: the model the index was made with")
    query.add_argument("--output", help="write the hits to this GeoPackage")
    for command in (index, segment, query):
        command.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
        command.add_argument("--precision", default="auto", help="auto, fp32, fp16 or bf16")
    return parser


if __name__ == "__main__":
    sys.exit(main())
