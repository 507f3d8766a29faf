"""open_clip checkpoints (RemoteCLIP, GeoRSCLIP, SkyCLIP): architecture + state dict file."""
from __future__ import annotations

import os
import re

import numpy as np
import torch

from ..errors import ModelError
from .base import ImageTextEmbedder
from .checkpoints import read_state_dict

QUICKGELU = "-quickgelu"  # open_clip's suffix for the QuickGELU variant of an architecture


class OpenClipEmbedder(ImageTextEmbedder):
    def __init__(self, name: str, checkpoint: str, arch: str | None, device: torch.device, dtype: torch.dtype,
                 text_prefix: str = "", templates: tuple[str, ...] = (), unit_template_mean: bool = True):
        import open_clip
        from PIL import Image

        state = read_state_dict(checkpoint)
        if "visual.conv1.weight" not in state and "visual.trunk.patch_embed.proj.weight" not in state:
            raise ModelError(
                f"'{name}' ({checkpoint}) is not an open_clip image-text checkpoint (no visual tower weights). "
                "Retrieval needs a CLIP-family model, e.g. the preset remoteclip-vit-b-32.")
        arch = arch or infer_arch(state, checkpoint)
        if arch not in open_clip.list_models():
            raise ModelError(
                f"'{arch}' in '{name}' is not an open_clip architecture. Write the model as ARCH:FILE with ARCH one "
                "of open_clip.list_models(), e.g. ViT-B-32-quickgelu:/models/RS5M_ViT-B-32.pt, or give the file "
                "alone to read the architecture from its tensor shapes.")
        try:
            model, _, transform = open_clip.create_model_and_transforms(arch, pretrained=None)
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise ModelError(f"The checkpoint '{checkpoint}' does not match the open_clip architecture {arch}: "
                             f"{str(exc).splitlines()[0]}") from exc
        self.name, self.device, self.dtype, self.arch = name, device, dtype, arch
        self.model = model.to(device=device, dtype=dtype).eval()
        self.transform = transform
        self.tokenizer = open_clip.get_tokenizer(arch)
        self.text_prefix = text_prefix
        self.query_templates, self.unit_template_mean = templates, unit_template_mean
        size = model.visual.image_size
        self.input_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self._to_pil = Image.fromarray

    def preprocess(self, images: list[np.ndarray]) -> torch.Tensor:
        return torch.stack([self.transform(self._to_pil(im)) for im in images])

    def _image_features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(pixels)

    def _text_features(self, texts: list[str]) -> torch.Tensor:
        tokens = self.tokenizer([self.text_prefix + t for t in texts]).to(self.device)
        return self.model.encode_text(tokens)


def infer_arch(state: dict[str, torch.Tensor], checkpoint: str) -> str:
    """The open_clip architecture whose configuration has this state dict's shapes.

    Ties: a name the file name contains (ignoring a -quickgelu suffix), then the QuickGELU
    variant: the shapes cannot tell the activation, and OpenAI's CLIP and the
    remote-sensing CLIPs fine-tuned from it (RemoteCLIP, GeoRSCLIP) use QuickGELU. ARCH:FILE
    names the architecture where this guess is wrong."""
    import open_clip

    found = _signature(state)
    matches = [n for n in open_clip.list_models() if _config_signature(open_clip.get_model_config(n)) == found]
    if not matches:
        raise ModelError(
            f"Cannot tell which open_clip architecture '{checkpoint}' is (vision {found[1]}). Use a preset, or "
            "register its configuration with open_clip.add_model_config.")
    filename = os.path.basename(checkpoint).lower()
    return min(matches, key=lambda n: (n.lower().removesuffix(QUICKGELU) not in filename,
                                       not n.endswith(QUICKGELU), len(n)))


def _count_blocks(state: dict, prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    return len({m.group(1) for k in state for m in [pattern.match(k)] if m})


def _signature(state: dict) -> tuple:
    """(embed_dim, vision shape, text shape) from a state dict."""
    text = (state["token_embedding.weight"].shape[1], _count_blocks(state, "transformer.resblocks."),
            state["positional_embedding"].shape[0], state["token_embedding.weight"].shape[0])
    if "visual.conv1.weight" in state and "visual.layer1.0.conv1.weight" not in state:  # ViT
        width, _, patch, _ = state["visual.conv1.weight"].shape
        grid = int(round((state["visual.positional_embedding"].shape[0] - 1) ** 0.5))
        vision = ("vit", width, _count_blocks(state, "visual.transformer.resblocks."), patch, grid * patch)
        embed_dim = state["visual.proj"].shape[1]
    else:  # ModifiedResNet
        layers = tuple(_count_blocks(state, f"visual.layer{i}.") for i in range(1, 5))
        grid = int(round((state["visual.attnpool.positional_embedding"].shape[0] - 1) ** 0.5))
        vision = ("resnet", state["visual.layer1.0.conv1.weight"].shape[1], layers, grid * 32)
        embed_dim = state["visual.attnpool.c_proj.weight"].shape[0]
    return embed_dim, vision, text


def _config_signature(config: dict | None) -> tuple | None:
    if not config:
        return None
    v, t = config.get("vision_cfg", {}), config.get("text_cfg", {})
    if any(k in v for k in ("timm_model_name",)) or any(k in t for k in ("hf_model_name",)):
        return None
    layers = v.get("layers", 12)
    if isinstance(layers, (list, tuple)):
        vision = ("resnet", v.get("width", 64), tuple(layers), v.get("image_size", 224))
    else:
        vision = ("vit", v.get("width", 768), layers, v.get("patch_size", 16), v.get("image_size", 224))
    text = (t.get("width", 512), t.get("layers", 12), t.get("context_length", 77), t.get("vocab_size", 49408))
    return config.get("embed_dim"), vision, text
