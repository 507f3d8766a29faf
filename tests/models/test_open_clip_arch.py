"""open_clip architectures as the checkpoints' authors load them: the QuickGELU variants for
OpenAI-initialised checkpoints (presets, and files given alone), and MODEL=ARCH:FILE to
name any architecture, checked against open_clip's own create_model + load_state_dict."""
from __future__ import annotations

import numpy as np
import open_clip
import pytest
import torch

from geovl.errors import ModelError
from geovl.models.presets import EMBEDDER_PRESETS
from geovl.models.resolver import load_embedder, model_identity, split_arch

from .conftest import scene


def reference_embeddings(arch: str, checkpoint: str, image: np.ndarray, texts: list[str]):
    """open_clip's own model of `arch` with the checkpoint's tensors: unit image and text rows."""
    from PIL import Image

    model, _, transform = open_clip.create_model_and_transforms(arch, pretrained=None)
    model.load_state_dict(torch.load(checkpoint, weights_only=True))
    model.eval()
    with torch.no_grad():
        images = model.encode_image(transform(Image.fromarray(image))[None], normalize=True)
        words = model.encode_text(open_clip.get_tokenizer(arch)(texts), normalize=True)
    return images.numpy(), words.numpy()


TEXTS = ["storage tanks", "a harbour with ships"]


def test_quickgelu_named_in_model_equals_open_clip(tiny_open_clip_quickgelu_ckpt):
    """ARCH:FILE builds that architecture: the embeddings are open_clip's QuickGELU model's,
    and the GELU architecture on the same tensors gives other ones."""
    image = scene(48, 40)
    quick = load_embedder(f"tiny-ViT-8-quickgelu:{tiny_open_clip_quickgelu_ckpt}", "cpu", "fp32")
    assert quick.arch == "tiny-ViT-8-quickgelu"
    images, texts = reference_embeddings("tiny-ViT-8-quickgelu", tiny_open_clip_quickgelu_ckpt, image, TEXTS)
    np.testing.assert_allclose(quick.embed_images([image]), images, atol=1e-5)
    np.testing.assert_allclose(quick.embed_texts(TEXTS), texts, atol=1e-5)

    gelu = load_embedder(f"tiny-ViT-8:{tiny_open_clip_quickgelu_ckpt}", "cpu", "fp32")
    assert gelu.arch == "tiny-ViT-8"
    assert np.abs(gelu.embed_texts(TEXTS) - texts).max() > 1e-3
    assert np.abs(gelu.embed_images([image]) - images).max() > 1e-3


def test_checkpoint_file_alone_is_read_as_quickgelu(tiny_open_clip_quickgelu_ckpt):
    """The shapes fit both variants and the file name names the GELU one (as
    RemoteCLIP-ViT-B-32.pt does): the QuickGELU variant is chosen."""
    embedder = load_embedder(tiny_open_clip_quickgelu_ckpt, "cpu", "fp32")
    assert embedder.arch == "tiny-ViT-8-quickgelu"


@pytest.mark.parametrize("name", [n for n, p in EMBEDDER_PRESETS.items() if p.family == "open_clip"])
def test_open_clip_presets_build_quickgelu(name):
    """RemoteCLIP and GeoRSCLIP are OpenAI CLIP fine-tuned and loaded by their authors through
    open_clip's "openai" path (QuickGELU): each preset's architecture is QuickGELU."""
    arch = EMBEDDER_PRESETS[name].arch
    assert arch.endswith("-quickgelu") and open_clip.get_model_config(arch)["quick_gelu"] is True
    assert EMBEDDER_PRESETS["georsclip-vit-b-32"].arch == "ViT-B-32-quickgelu"
    # tile indexes record the architecture: one embedded with the GELU build is not reused
    assert model_identity(name) == f"{name}|{arch}"


def test_split_arch(tiny_open_clip_quickgelu_ckpt, tmp_path):
    assert split_arch("ViT-B-32-quickgelu:/m/RS5M_ViT-B-32.pt") == ("ViT-B-32-quickgelu", "/m/RS5M_ViT-B-32.pt")
    assert split_arch("C:/models/RS5M_ViT-B-32.pt") == (None, "C:/models/RS5M_ViT-B-32.pt")  # a drive letter
    assert split_arch("remoteclip-vit-b-32") == (None, "remoteclip-vit-b-32")
    assert split_arch("org/name") == (None, "org/name")
    odd = tmp_path / "ViT-B-32:weights.pt"  # an existing file whose name has a colon is that file
    odd.write_bytes(b"")
    assert split_arch(str(odd)) == (None, str(odd))
    spec = f"tiny-ViT-8-quickgelu:{tiny_open_clip_quickgelu_ckpt}"
    assert model_identity(spec) == "tiny-ViT-8-quickgelu:" + model_identity(tiny_open_clip_quickgelu_ckpt)


def test_unknown_architecture_is_a_sentence(tiny_open_clip_quickgelu_ckpt):
    with pytest.raises(ModelError, match="'ViT-Z-99' in 'ViT-Z-99:.*' is not an open_clip architecture"):
        load_embedder(f"ViT-Z-99:{tiny_open_clip_quickgelu_ckpt}", "cpu", "fp32")


def test_missing_file_after_architecture_is_a_sentence(tmp_path):
    with pytest.raises(ModelError, match="checkpoint file .*missing.pt' of 'ViT-B-32:.*' does not exist"):
        load_embedder(f"ViT-B-32:{tmp_path / 'missing.pt'}", "cpu", "fp32")
