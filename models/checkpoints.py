"""Safe reading of checkpoint files and hub files, with errors a user can act on."""
from __future__ import annotations

import os
import pickle
import socket
import threading
import urllib.parse
from typing import Callable, TypeVar

import torch
import transformers

from ..errors import ModelError

T = TypeVar("T")


# transformers' reference (PIL) image processors: on a CPU about ten times faster per
# tile than transformers 5's torchvision default, which would compete with the model.
PIL_BACKEND = {"backend": "pil"} if int(transformers.__version__.split(".")[0]) >= 5 else {"use_fast": False}


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint: safetensors, or torch.load with weights_only=True.

    Unwraps the usual containers ({"state_dict": ...}, {"model": ...}) and a
    DataParallel "module." prefix.
    """
    try:
        if path.endswith(".safetensors"):
            from safetensors.torch import load_file
            state = load_file(path, device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if not _refused_pickle(exc):
            raise _corrupt(path, exc) from exc
        raise ModelError(
            f"The checkpoint '{path}' is a pickle holding more than tensors, which GeoVL does not unpickle: it "
            "could run code. Use a checkpoint of tensors only (a state dict, or a .safetensors file), or convert "
            "it on a machine you trust.") from exc
    except Exception as exc:  # corrupt or truncated
        raise _corrupt(path, exc) from exc
    for container in ("state_dict", "model", "module"):
        if isinstance(state, dict) and isinstance(state.get(container), dict):
            state = state[container]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"The checkpoint '{path}' does not hold a state dict of tensors.")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _refused_pickle(exc: pickle.UnpicklingError) -> bool:
    """Whether torch.load(weights_only=True) refused a pickle for naming code or objects
    beyond tensors (a GLOBAL it does not allow), not for being unreadable bytes."""
    return "GLOBAL" in str(exc) or "allowlisted" in str(exc)


def _corrupt(path: str, exc: Exception) -> ModelError:
    reason = (str(exc).splitlines() or [""])[0][:200]
    return ModelError(
        f"Cannot read the checkpoint '{path}' ({type(exc).__name__}: {reason}). The file may be "
        "incomplete or corrupt, or not a PyTorch/safetensors checkpoint: download it again.")


def offline_error(name: str, repo: str, exc: Exception | None = None) -> ModelError:
    from huggingface_hub.constants import HF_HUB_CACHE
    reason = f" ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})" if exc else ""
    return ModelError(
        f"Model '{name}' ({repo} on the Hugging Face hub) is not in the local model cache ({HF_HUB_CACHE}) "
        f"and could not be downloaded{reason}. Give a local copy instead (MODEL=/path/to/model-folder or "
        f"checkpoint file), or download it on a connected machine with `hf download {repo}` and "
        f"copy that cache folder to this machine.")


def from_hub(load: Callable[..., T], repo: str, name: str, **kwargs) -> T:
    """Call a `from_pretrained`-style loader on a hub id: local cache first, then the hub."""
    try:
        return load(repo, local_files_only=True, **kwargs)
    except OSError as exc:
        if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes") or not _hub_reachable():
            raise offline_error(name, repo, exc) from exc
    try:
        return load(repo, **kwargs)
    except OSError as exc:  # unknown or gated repo, lost connection (hub errors are OSErrors)
        raise offline_error(name, repo, exc) from exc


def load_pretrained(loader, source: str, name: str, is_hub: bool, **kwargs):
    """`loader.from_pretrained(source)` for a hub id (local cache first) or a local folder,
    with errors that name the model. A config asking for custom code (auto_map) is refused
    unless the user opted in to remote code for this model: transformers would quietly load
    the native class in its place, whose weights layout the custom code's need not share."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # console bars are noise in the Processing log
    try:
        if is_hub:
            loaded = from_hub(loader.from_pretrained, source, name, **kwargs)
        else:
            loaded = loader.from_pretrained(source, **kwargs)
    except ModelError:
        raise
    except OSError as exc:
        raise ModelError(f"Cannot load '{name}' from {source}: {str(exc).splitlines()[0]}") from exc
    except Exception as exc:
        error = _unreadable(name, source, exc)
        if error is None:
            raise
        raise error from exc
    auto_map = getattr(loaded, "auto_map", None) if isinstance(loaded, transformers.PretrainedConfig) else None
    if auto_map and not kwargs.get("trust_remote_code"):
        raise _custom_code(name, source, ", ".join(sorted(set(_flatten(auto_map.values())))))
    return loaded


def _flatten(values) -> list[str]:
    """auto_map values: class paths, or (slow, fast) tokenizer pairs with None for a missing one."""
    flat = []
    for value in values:
        flat += [v for v in value if v] if isinstance(value, (list, tuple)) else [value]
    return [str(v) for v in flat]


def _custom_code(name: str, source: str, classes: str) -> ModelError:
    return ModelError(
        f"'{name}' ({source}) needs custom code ({classes}), which GeoVL does not run. Use the model's native "
        "transformers version (e.g. florence-community/Florence-2-base instead of microsoft/Florence-2-base) "
        "or a preset.")


def _unreadable(name: str, source: str, exc: Exception) -> ModelError | None:
    """The sentence for weights transformers could not read, or None for another failure."""
    from safetensors import SafetensorError

    reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    if isinstance(exc, SafetensorError):
        return ModelError(
            f"The weights of '{name}' ({source}) are incomplete or corrupt ({reason}). Download the model again "
            "(an interrupted download leaves a partial file), or save it again with save_pretrained.")
    if isinstance(exc, pickle.UnpicklingError) and _refused_pickle(exc):
        return ModelError(
            f"The weights of '{name}' ({source}) are a pickle (pytorch_model.bin) holding more than tensors, which "
            "GeoVL does not unpickle: it could run code. Use a copy saved as model.safetensors (save_pretrained "
            "writes one), or convert the weights on a machine you trust.")
    if isinstance(exc, ValueError) and "trust_remote_code" in str(exc):
        return _custom_code(name, source, "a model type transformers does not know")
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub's host answers within `timeout` seconds; without this check an
    offline machine spends half a minute in the hub client's retries before failing. In a
    thread: the name lookup ignores the socket timeout, and on a machine without a name
    server it stalls for ten seconds and more."""
    from huggingface_hub.constants import ENDPOINT
    url = urllib.parse.urlparse(ENDPOINT)
    answered = threading.Event()

    def connect() -> None:
        try:
            with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
                answered.set()
        except OSError:
            pass

    trying = threading.Thread(target=connect, daemon=True)
    trying.start()
    trying.join(timeout)
    return answered.is_set()


def hub_file(repo: str, filename: str, name: str) -> str:
    """Local path of one file of a hub repo (cache first, then download)."""
    from huggingface_hub import hf_hub_download
    return from_hub(lambda r, **kw: hf_hub_download(r, filename, **kw), repo, name)
