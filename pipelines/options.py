"""Options every job takes: which model, and how to tile the raster."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelOptions:
    name: str
    device: str = "auto"         # auto | cpu | cuda | mps
    precision: str = "auto"      # auto | fp32 | bf16 | fp16


@dataclass(frozen=True)
class TilingOptions:
    tile_size: int = 0           # output pixels per tile side; 0 = the model's input size
    overlap: int = 0             # output pixels shared by neighbouring tiles
    resolution: float = 0.0      # target ground resolution in m/px; 0 = native
    extent: tuple[float, float, float, float] | None = None  # raster CRS; None = whole raster
    bands: tuple[int, ...] | None = None                      # None = RGB by colour interpretation
