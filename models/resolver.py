"""One entry point from a MODEL string (preset, hub id or local path) to a loaded adapter.

Loaded models stay in memory for the life of the process (QGIS keeps Python alive) and
are shared by runs; Processing runs algorithms in worker threads, so the cache is locked.
"""
from __future__ import annotations

import os
import re
import threading
from typing import Callable

from ..errors import ModelError
from .base import GroundedVLM, ImageTextEmbedder, PatchFeatureExtractor, PromptSegmenter
from .device import resolve_device, resolve_dtype
from .model_sources import describe_source
from .presets import EMBEDDER_PRESETS, SEGMENTER_PRESETS, VLM_PRESETS

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_ARCH = re.compile(r"[A-Za-z][\w.@-]+")  # an open_clip architecture name: more than a drive letter

Log = Callable[[str], None]
_models: dict[tuple, object] = {}
# Reentrant: load_feature_extractor loads its model through load_embedder / load_segmenter.
_lock = threading.RLock()


def load_embedder(spec: str, device: str = "auto", precision: str = "auto",
                  trust_remote_code: bool = False, log: Log | None = None) -> ImageTextEmbedder:
    """An image-text embedder for `spec`, loaded once per (spec, device, precision).
    `log` (a job's feedback.info) hears where a model is loaded from before it loads."""
    return _cached("embedder", spec, device, precision,
                   lambda s, d, t: _build_embedder(s, d, t, trust_remote_code), trust_remote_code, log=log)


def load_segmenter(spec: str, device: str = "auto", precision: str = "auto",
                   model_type: str = "auto", log: Log | None = None) -> PromptSegmenter:
    """A prompt segmenter for `spec`: a preset, a segment-anything checkpoint file (any
    SAM size; `model_type` auto, vit_b, vit_l or vit_h), or a transformers SAM / SAM2 /
    SAM3 folder or hub id."""
    return _cached("segmenter", spec, device, precision,
                   lambda s, d, t: _build_segmenter(s, d, t, model_type), model_type, log=log)


def load_vlm(spec: str, device: str = "auto", precision: str = "auto", log: Log | None = None) -> GroundedVLM:
    """A grounded VLM for `spec`: a preset, or a transformers Florence-2 / Qwen2.5-VL /
    Qwen3-VL / Kosmos-2 / converted GeoChat folder or hub id."""
    return _cached("vlm", spec, device, precision, _build_vlm, log=log)


def load_feature_extractor(spec: str, device: str = "auto", precision: str = "auto",
                           log: Log | None = None) -> PatchFeatureExtractor:
    """Patch features for deep-feature change: a Segment Anything model (a segmenter preset, a
    segment-anything checkpoint file, a transformers SAM / SAM 2 / SAM3 folder or hub id) through
    load_segmenter, anything else (CLIP, SigLIP, open_clip ViT) through load_embedder. Cached,
    so the routing (which may read a checkpoint file) runs once per model."""
    def build(spec: str, torch_device, dtype) -> PatchFeatureExtractor:
        from .patch_features import patch_features_of
        load = load_segmenter if _is_segmenter(spec) else load_embedder
        return patch_features_of(load(spec, device, precision, log=log))

    return _cached("features", spec, device, precision, build)


def _cached(kind: str, spec: str, device: str, precision: str, build, *options, log: Log | None = None):
    """`build(spec, torch_device, dtype)`, made once per (kind, model identity, options,
    device, dtype) and kept for the life of the process; `log` hears where from first."""
    spec = (spec or "").strip()
    torch_device = resolve_device(device)
    dtype = resolve_dtype(precision, torch_device)
    # The identity (not just the spec) so a replaced checkpoint file is loaded afresh.
    key = (kind, model_identity(spec), *options, str(torch_device), dtype)
    with _lock:
        if key not in _models:
            if log is not None:
                log(describe_source(spec))
            _models[key] = build(spec, torch_device, dtype)
        return _models[key]


def is_hub_id(spec: str) -> bool:
    """Whether `spec` has the form of a hub id, org/name (not a path, not a checkpoint file)."""
    return bool(_HUB_ID.match(spec)) and not spec.startswith((".", "/", "~")) and not spec.endswith(
        CHECKPOINT_SUFFIXES)


def split_arch(spec: str) -> tuple[str | None, str]:
    """(open_clip architecture, checkpoint file) of a spec written ARCH:FILE, e.g.
    `ViT-B-32-quickgelu:/models/RS5M_ViT-B-32.pt`; (None, spec) for any other spec (an
    existing file's own name, a Windows drive letter and hub ids are never split)."""
    arch, colon, path = spec.partition(":")
    if (colon and _ARCH.fullmatch(arch) and path.lower().endswith(CHECKPOINT_SUFFIXES)
            and not os.path.isfile(os.path.expanduser(spec))):
        return arch, path
    return None, spec


def model_identity(spec: str) -> str:
    """What a cache key should record of a model: the spec, plus the file's size and
    modification time for local files (a changed checkpoint invalidates caches), plus the
    architecture an open_clip preset or ARCH:FILE builds (tile indexes made with another
    activation are not reused)."""
    arch, checkpoint = split_arch(spec)
    if arch:
        return f"{arch}:{model_identity(checkpoint)}"
    if spec in EMBEDDER_PRESETS and EMBEDDER_PRESETS[spec].arch:
        return f"{spec}|{EMBEDDER_PRESETS[spec].arch}"
    path = os.path.expanduser(spec)
    if os.path.isfile(path):
        stat = os.stat(path)
        return f"{os.path.realpath(path)}|{stat.st_size}|{stat.st_mtime_ns}"
    if os.path.isdir(path):
        stamps = [(f, os.stat(os.path.join(path, f)).st_mtime_ns) for f in sorted(os.listdir(path))]
        return f"{os.path.realpath(path)}|{stamps}"
    return spec


def _build_embedder(spec, device, dtype, trust_remote_code) -> ImageTextEmbedder:
    from .open_clip_embedder import OpenClipEmbedder
    from .transformers_embedder import TransformersEmbedder

    if spec in EMBEDDER_PRESETS:
        preset = EMBEDDER_PRESETS[spec]
        if preset.family == "open_clip":
            from .checkpoints import hub_file
            return OpenClipEmbedder(spec, hub_file(preset.repo, preset.filename, spec), preset.arch,
                                    device, dtype, preset.text_prefix, preset.templates, preset.unit_template_mean)
        return TransformersEmbedder(spec, preset.repo, True, device, dtype, preset.text_prefix, trust_remote_code,
                                    preset.templates, preset.unit_template_mean)
    arch, checkpoint = split_arch(spec)
    if arch:
        if not os.path.isfile(os.path.expanduser(checkpoint)):
            raise ModelError(f"The checkpoint file '{checkpoint}' of '{spec}' does not exist. Check the path.")
        return OpenClipEmbedder(spec, os.path.expanduser(checkpoint), arch, device, dtype)
    path = os.path.expanduser(spec)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise ModelError(f"The folder '{spec}' has no config.json: it is not a saved transformers model. "
                             "Give a folder written by save_pretrained, a checkpoint file, or a preset.")
        return TransformersEmbedder(spec, path, False, device, dtype, "", trust_remote_code)
    if os.path.isfile(path):
        if not path.endswith(CHECKPOINT_SUFFIXES):
            raise ModelError(f"'{spec}' is not a checkpoint file (expected {', '.join(CHECKPOINT_SUFFIXES)}).")
        return OpenClipEmbedder(spec, path, None, device, dtype)
    if is_hub_id(spec):
        return TransformersEmbedder(spec, spec, True, device, dtype, "", trust_remote_code)
    raise ModelError(
        f"Unknown model '{spec}': it is not a preset ({', '.join(EMBEDDER_PRESETS)}), not an existing file or "
        "folder, and not a hub id of the form org/name. Check the spelling or the path.")


def _build_segmenter(spec, device, dtype, model_type) -> PromptSegmenter:
    from .sam_segmenter import SamSegmenter, load_sam_checkpoint

    def load_transformers_segmenter(source: str, from_hub: bool) -> PromptSegmenter:
        from .transformers_segmenter import load_transformers_segmenter
        return load_transformers_segmenter(spec, source, from_hub, device, dtype)

    if spec in SEGMENTER_PRESETS:
        return load_transformers_segmenter(SEGMENTER_PRESETS[spec].repo, True)
    path = os.path.expanduser(spec)
    if os.path.isfile(path):
        if not path.endswith(CHECKPOINT_SUFFIXES):
            raise ModelError(f"'{spec}' is not a checkpoint file (expected {', '.join(CHECKPOINT_SUFFIXES)}).")
        return SamSegmenter(spec, load_sam_checkpoint(path, model_type), device, dtype)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise ModelError(f"The folder '{spec}' has no config.json: it is not a saved transformers model. "
                             "Give a folder written by save_pretrained, a SAM checkpoint file, or a preset.")
        return load_transformers_segmenter(path, False)
    if is_hub_id(spec):
        return load_transformers_segmenter(spec, True)
    raise ModelError(
        f"Unknown segmentation model '{spec}': it is not a preset ({', '.join(SEGMENTER_PRESETS)}), not an "
        "existing checkpoint file or folder, and not a hub id of the form org/name. Check the spelling or the path.")


def _is_segmenter(spec: str) -> bool:
    """Whether `spec` names a Segment Anything model, recognised as load_segmenter and
    load_transformers_segmenter recognise one (a spec that is neither errs in load_embedder)."""
    if spec in SEGMENTER_PRESETS or spec in EMBEDDER_PRESETS:
        return spec in SEGMENTER_PRESETS
    path = os.path.expanduser(spec)
    if os.path.isfile(path):
        from .checkpoints import read_state_dict
        return path.endswith(CHECKPOINT_SUFFIXES) and any(k.startswith("image_encoder.") for k in read_state_dict(path))
    folder = os.path.isfile(os.path.join(path, "config.json"))
    hub_id = is_hub_id(spec)
    if folder or hub_id:
        import transformers

        from .checkpoints import load_pretrained
        from .transformers_segmenter import SEGMENTER_TYPES
        config = load_pretrained(transformers.AutoConfig, path if folder else spec, spec, not folder)
        return config.model_type in SEGMENTER_TYPES
    return False


def _build_vlm(spec, device, dtype) -> GroundedVLM:
    from .vlm_loader import load_transformers_vlm

    if spec in VLM_PRESETS:
        return load_transformers_vlm(spec, VLM_PRESETS[spec].repo, True, device, dtype)
    path = os.path.expanduser(spec)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise ModelError(f"The folder '{spec}' has no config.json: it is not a saved transformers model. "
                             "Give a folder written by save_pretrained (GeoChat: by scripts/convert_geochat.py) "
                             "or a preset.")
        return load_transformers_vlm(spec, path, False, device, dtype)
    if os.path.isfile(path):
        raise ModelError(f"'{spec}' is a file; a vision-language model is a folder (config.json, weights, "
                         "processor). GeoChat checkpoints are converted to one with scripts/convert_geochat.py.")
    if _HUB_ID.match(spec) and not spec.startswith((".", "/", "~")):
        return load_transformers_vlm(spec, spec, True, device, dtype)
    raise ModelError(
        f"Unknown vision-language model '{spec}': it is not a preset ({', '.join(VLM_PRESETS)}), not an existing "
        "folder, and not a hub id of the form org/name. Check the spelling or the path.")
