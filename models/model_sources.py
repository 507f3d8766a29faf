"""Where a model would be loaded from, told without loading it: the presets of a kind of
model with whether each is already in the local Hugging Face cache (the model widget's
list), and the log line said before a model loads (so no run sits silent). Offline:
only the local cache is read."""
from __future__ import annotations

import os

from .presets import EMBEDDER_PRESETS, SEGMENTER_PRESETS, VLM_PRESETS

# A kind of model (what a job's model parameter takes) -> the presets that fit it.
KINDS = {"embedder": (EMBEDDER_PRESETS,), "segmenter": (SEGMENTER_PRESETS,), "vlm": (VLM_PRESETS,),
         "features": (EMBEDDER_PRESETS, SEGMENTER_PRESETS)}  # change's backbone: CLIP-like or SAM
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")


def preset_status(kind: str, cache_dir: str | None = None) -> list[dict]:
    """The presets of `kind` ("embedder", "segmenter", "vlm", "features"), each as
    {"name", "description", "repo", "cached", "size_bytes"} (size on disk when cached), as
    found in the hub cache `cache_dir` (default: the hub client's)."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of model '{kind}' (known: {', '.join(KINDS)}).")
    sizes = _cached_repo_sizes(cache_dir)
    status = []
    for presets in KINDS[kind]:
        for name, preset in presets.items():
            cached = _in_cache(preset.repo, getattr(preset, "filename", None), cache_dir)
            status.append({"name": name, "description": preset.description, "repo": preset.repo,
                           "cached": cached, "size_bytes": sizes.get(preset.repo) if cached else None})
    return status


def describe_source(spec: str) -> str:
    """One line for the log before `spec` (a preset, ARCH:FILE, a local path or a hub id)
    is loaded: from where, and how big when that is known."""
    from .resolver import is_hub_id, split_arch

    presets = {**EMBEDDER_PRESETS, **SEGMENTER_PRESETS, **VLM_PRESETS}
    _, checkpoint = split_arch(spec)
    path = os.path.expanduser(checkpoint)
    if os.path.isfile(path):
        return f"Loading {spec} from the file {path} ({format_size(os.path.getsize(path))})…"
    if os.path.isdir(path):
        return f"Loading {spec} from the folder {path} ({format_size(_folder_size(path))})…"
    preset = presets.get(spec)
    if preset is None and not is_hub_id(spec):
        return f"Loading {spec}…"  # neither a preset, a path nor a hub id: the loader's error says so
    repo = preset.repo if preset else spec
    name = f"{spec} ({repo})" if preset else spec
    if _in_cache(repo, getattr(preset, "filename", None)):
        size = _cached_repo_sizes().get(repo)
        return f"Loading {name} from the local model cache{f' ({format_size(size)})' if size else ''}…"
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return f"{name} is not in the local model cache ({_hub_cache()}) and HF_HUB_OFFLINE is set: no download."
    return (f"{name} is not in the local model cache ({_hub_cache()}): fetching it from the Hugging Face hub "
            "(a first download can take minutes; later runs load it from the cache)…")


def format_size(size: int) -> str:
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{round(size / 1e6)} MB" if size >= 1e6 else f"{max(1, round(size / 1e3))} kB"


def _in_cache(repo: str, filename: str | None, cache_dir: str | None = None) -> bool:
    """Whether the hub cache holds `filename` of `repo`, or else a config and weights."""
    from huggingface_hub import try_to_load_from_cache

    def cached(name: str) -> bool:
        return isinstance(try_to_load_from_cache(repo, name, cache_dir=cache_dir or _hub_cache()), str)

    try:
        if filename:
            return cached(filename)
        return cached("config.json") and any(cached(name) for name in WEIGHT_FILES)
    except ValueError:  # not a repo id (a path that does not exist, a typo)
        return False


def _cached_repo_sizes(cache_dir: str | None = None) -> dict[str, int]:
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        return {repo.repo_id: repo.size_on_disk for repo in scan_cache_dir(cache_dir or _hub_cache()).repos}
    except (CacheNotFound, OSError):
        return {}


def _hub_cache() -> str:
    # Read when asked, not bound at import as some of the hub client's functions bind it.
    from huggingface_hub import constants
    return constants.HF_HUB_CACHE


def _folder_size(path: str) -> int:
    """The files of a saved model folder (flat: config, weights, processor); not walked
    deeper, so a folder given by mistake (a home folder) costs nothing."""
    with os.scandir(path) as entries:
        return sum(entry.stat().st_size for entry in entries if entry.is_file())
