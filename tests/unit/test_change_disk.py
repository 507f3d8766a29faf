"""geovl:change and the disk: the run is planned (pixels, tiles, disk, time) and refused
before anything is written when it cannot fit; a disk that fills up while the
magnitude, mask, report or scratch is written is a sentence, and nothing is left."""
from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

from geovl.errors import InputError
from geovl.pipelines.change import detect_changes
from tests.models.conftest import Recorder, pair_arrays, write_pair

VRT_BAND = """  <VRTRasterBand dataType="UInt16" band="{band}">
    <SimpleSource><SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>{band}</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="400" ySize="400"/><DstRect xOff="0" yOff="0" xSize="{size}" ySize="{size}"/>
    </SimpleSource>
  </VRTRasterBand>
"""


def virtual_raster(path, source: str, size: int) -> str:
    """A `size` px square VRT that stretches the 400 px `source` over it: a huge raster with
    nothing big on disk (same origin, smaller pixels)."""
    pixel = 0.5 * 400 / size
    bands = "".join(VRT_BAND.format(band=band, source=source, size=size) for band in range(1, 5))
    path.write_text(f'<VRTDataset rasterXSize="{size}" rasterYSize="{size}"><SRS>EPSG:32631</SRS>'
                    f'<GeoTransform>448000, {pixel}, 0, 5412000, 0, -{pixel}</GeoTransform>\n{bands}</VRTDataset>')
    return str(path)


@pytest.fixture
def pair(tmp_path):
    return write_pair(tmp_path, *pair_arrays())


def test_a_run_too_large_for_the_output_disk_is_refused_before_writing(pair, tmp_path, small_disk):
    """200,000 px a side: 40,000 Mpx in 196 x 196 tiles of 1024 px, 160 GB of float32
    magnitude, refused with the sizes, the folder and what to do; nothing written."""
    before = virtual_raster(tmp_path / "before.vrt", pair[0], 200_000)
    after = virtual_raster(tmp_path / "after.vrt", pair[1], 200_000)
    out = small_disk(512)
    feedback = Recorder()
    with pytest.raises(InputError) as error:
        detect_changes(before, after, magnitude_path=os.path.join(out, "magnitude.tif"),
                       mask_path=os.path.join(out, "mask.tif"), report_path=os.path.join(out, "report.html"),
                       feedback=feedback)
    assert feedback.infos[0] == ("Comparing 40,000 Mpx in 38,416 tile(s); writes at most 160 GB of magnitude, "
                                 "10 GB of mask, 24 GB of scratch, about 39 min on a 2-core machine.")
    message = str(error.value)
    assert message.startswith(f"Not enough disk space: the magnitude raster (160 GB, in '{out}') and the change "
                              f"mask (10 GB, in '{out}') and the report (1.0 MB, in '{out}') need up to 170 GB, "
                              f"and only 524 kB is free on that disk.")
    assert "a smaller EXTENT or a coarser RESOLUTION" in message
    assert os.listdir(out) == []


def test_scratch_too_large_for_the_temp_disk_is_refused(pair, tmp_path, small_disk, monkeypatch):
    """The scratch rasters (direction codes, labels) of 20,000 px a side: 400 Mpx x 0.61
    bytes = 244 MB, more than a 512 KiB temp folder holds."""
    before = virtual_raster(tmp_path / "before.vrt", pair[0], 20_000)
    after = virtual_raster(tmp_path / "after.vrt", pair[1], 20_000)
    scratch = small_disk(512)
    monkeypatch.setattr(tempfile, "tempdir", scratch)
    with pytest.raises(InputError, match=r"Not enough disk space: the magnitude raster \(1.6 GB, in '.*'\) and the "
                                         r"scratch rasters \(244 MB, in '.*'\) need up to 1.8 GB, and only 524 kB"):
        detect_changes(before, after)
    assert os.listdir(scratch) == []


class FillsTheDisk(Recorder):
    """Another program fills `folder`'s disk once the run reaches a stage: a progress
    percent, or an info message that starts with some words."""

    def __init__(self, folder: str, percent: float | None = None, info: str | None = None):
        super().__init__()
        self.folder, self.percent, self.info_start, self.filled = folder, percent, info, False

    def fill(self) -> None:
        if self.filled:
            return
        self.filled = True
        try:  # another program: its own failures (the disk already full) are its own
            with open(os.path.join(self.folder, "filler"), "wb") as filler:
                while True:
                    filler.write(b"\0" * 4096)
                    filler.flush()
        except OSError:
            pass

    def progress(self, percent):
        if self.percent is not None and percent >= self.percent:
            self.fill()

    def info(self, message):
        super().info(message)
        if self.info_start and message.startswith(self.info_start):
            self.fill()


@pytest.mark.parametrize("stage", [
    dict(percent=1),                  # the tile pass: the magnitude
    dict(info="Threshold on"),        # then the threshold pass writes the mask
    dict(percent=85),                 # the report, once the regions are known
])
def test_a_disk_filling_up_while_an_output_is_written_is_a_sentence_and_leaves_nothing(pair, small_disk, stage):
    out = small_disk(4096)
    with pytest.raises(InputError, match=f"Could not write '.*' in the folder '{out}': the disk is full"):
        detect_changes(*pair, magnitude_path=os.path.join(out, "magnitude.tif"),
                       mask_path=os.path.join(out, "mask.tif"), report_path=os.path.join(out, "report.html"),
                       feedback=FillsTheDisk(out, **stage))
    assert os.listdir(out) == ["filler"]


def test_a_scratch_disk_filling_up_is_a_sentence_and_leaves_nothing(pair, tmp_path, small_disk, monkeypatch):
    scratch = small_disk(4096)
    monkeypatch.setattr(tempfile, "tempdir", scratch)
    out = tmp_path / "out"
    with pytest.raises(InputError, match=f"Could not write '(directions|labels).tif' in the folder '{scratch}/.*': the disk "
                                         f"is full"):
        detect_changes(*pair, mask_path=str(out / "mask.tif"), feedback=FillsTheDisk(scratch, percent=1))
    assert os.listdir(scratch) == ["filler"]
    assert not out.exists() or os.listdir(out) == []


@pytest.mark.parametrize("dropped_from, message", [
    ("magnitude", "The magnitude raster was not written completely in the folder '{out}'"),
    ("labels.tif", "The change labels raster was not written completely in the folder '.*geovl-change-"),
    (".mask.", "Could not write 'mask.tif' in the folder '{out}': .*"),
])
def test_a_raster_missing_blocks_after_it_was_closed_is_a_sentence(pair, tmp_path, monkeypatch, dropped_from,
                                                                   message):
    """GDAL may close a GeoTIFF whose last blocks it could not flush (a disk that filled up)
    without raising, and unwritten blocks read back as nodata. Every raster the run goes on
    to use or return is read back: the magnitude by the threshold pass (its valid pixels
    against the tile pass's count), the labels and the mask after it (pixels of each
    value against what was written). One write of one file is dropped here, as GDAL drops
    it: a sentence, and nothing is left."""
    from geovl.geo.mask_raster import MaskRasterWriter
    from geovl.pipelines.options import TilingOptions

    write, dropped = MaskRasterWriter.write, []

    def drop_one_write(self, data, row_off, col_off):
        if dropped_from in os.path.basename(self.path) and not dropped:
            dropped.append((row_off, col_off))
            return None
        return write(self, data, row_off, col_off)

    monkeypatch.setattr(MaskRasterWriter, "write", drop_one_write)
    out = tmp_path / "out"
    with pytest.raises(InputError, match=message.format(out=out)):
        detect_changes(*pair, magnitude_path=str(out / "magnitude.tif"), mask_path=str(out / "mask.tif"),
                       tiling=TilingOptions(tile_size=128))
    assert dropped and os.listdir(out) == []
