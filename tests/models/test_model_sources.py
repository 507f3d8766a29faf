"""Where a model would load from, told before loading: the presets with their cache status
(the model widget's list), the log line said before a model loads, and the hub probe that
must not hang on a stalled name lookup (the silent wait of an offline run)."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from huggingface_hub import constants

from geovl.models import checkpoints
from geovl.models.model_sources import describe_source, preset_status
from geovl.models.presets import EMBEDDER_PRESETS, SEGMENTER_PRESETS


def cache_repo(cache, repo: str, files: dict[str, bytes]) -> None:
    """A repo in the hub cache's layout (blobs, a snapshot, refs/main), as a download leaves it."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / ("a" * 40)
    for name, data in files.items():
        blob = folder / "blobs" / f"{abs(hash(name)):x}"
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).symlink_to(blob)
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / "main").write_text("a" * 40)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_presets_of_each_kind_with_their_cache_status(hub_cache):
    cache_repo(hub_cache, "flax-community/clip-rsicd-v2", {"config.json": b"{}", "model.safetensors": b"x" * 3000})
    cache_repo(hub_cache, "lcybuaa/Git-RSCLIP", {"config.json": b"{}"})  # a config without weights
    cache_repo(hub_cache, "chendelong/RemoteCLIP", {"RemoteCLIP-RN50.pt": b"x" * 10})

    presets = {p["name"]: p for p in preset_status("embedder")}
    assert list(presets) == list(EMBEDDER_PRESETS)
    assert presets["clip-rsicd"]["cached"] and presets["clip-rsicd"]["size_bytes"] >= 3000
    assert presets["clip-rsicd"]["description"] == EMBEDDER_PRESETS["clip-rsicd"].description
    assert not presets["git-rsclip"]["cached"] and presets["git-rsclip"]["size_bytes"] is None
    # open_clip presets are the one file of their repo
    assert presets["remoteclip-rn50"]["cached"] and not presets["remoteclip-vit-b-32"]["cached"]
    assert [p["name"] for p in preset_status("features")] == list(EMBEDDER_PRESETS) + list(SEGMENTER_PRESETS)
    with pytest.raises(ValueError, match="Unknown kind"):
        preset_status("nonsense")


def test_the_log_line_says_where_a_model_loads_from(hub_cache, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    cache_repo(hub_cache, "flax-community/clip-rsicd-v2", {"config.json": b"{}", "model.safetensors": b"x" * 2_000_000})
    assert describe_source("clip-rsicd") == \
        "Loading clip-rsicd (flax-community/clip-rsicd-v2) from the local model cache (2 MB)…"
    said = describe_source("sam-vit-b")
    assert "facebook/sam-vit-base" in said and str(hub_cache) in said and "fetching it from the Hugging Face hub" in said
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "HF_HUB_OFFLINE is set: no download" in describe_source("org/model")
    checkpoint = tmp_path / "sam.pth"
    checkpoint.write_bytes(b"x" * 5000)
    assert describe_source(str(checkpoint)) == f"Loading {checkpoint} from the file {checkpoint} (5 kB)…"
    assert describe_source(f"ViT-B-32:{checkpoint}").startswith(f"Loading ViT-B-32:{checkpoint} from the file")
    assert describe_source("not a model") == "Loading not a model…"


def test_hub_probe_gives_up_on_a_stalled_name_lookup(monkeypatch):
    """A name lookup that never answers (no name server) ignores the socket timeout; the
    probe returns False at its own deadline instead of stalling the run."""
    release = threading.Event()

    def stalled(*args, **kwargs):
        release.wait(30)
        raise OSError("the name lookup gave up")  # as a real one ends, once the test is done

    monkeypatch.setattr(socket, "create_connection", stalled)
    start = time.monotonic()
    try:
        assert checkpoints._hub_reachable(timeout=0.5) is False
        assert time.monotonic() - start < 2
    finally:
        release.set()
