"""Shared fixtures: tiny random-initialised models of the real architectures, saved the
way users have them (save_pretrained folders, open_clip state dict files), and small
GeoTIFFs written with rasterio."""
from __future__ import annotations

import json
import string

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

CHARS = string.ascii_lowercase + string.digits + " .,;:'-"


def char_tokenizer(bos: str, eos: str, pad: str, max_length: int):
    """A character-level fast tokenizer with the family's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    # eos id != 2, so CLIP pools at the eos token like released checkpoints (id 2 selects
    # transformers' legacy argmax pooling).
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys([pad, "<unk>", bos, eos, *CHARS]))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, vocab[bos]), (eos, vocab[eos])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos, pad_token=pad,
                                   unk_token="<unk>", model_max_length=max_length), vocab


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory):
    """A CLIPModel (ViT, 64 px input) with CLIPImageProcessor and a char tokenizer."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    tokenizer, vocab = char_tokenizer("<|startoftext|>", "<|endoftext|>", "<pad>", 32)
    config = CLIPConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=32, bos_token_id=vocab["<|startoftext|>"],
                         eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<pad>"]),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=64, patch_size=16),
        projection_dim=16)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-clip")
    CLIPModel(config).eval().save_pretrained(path)
    CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_siglip_dir(tmp_path_factory):
    """A SiglipModel (64 px input, 16 text positions) with SiglipImageProcessor."""
    import torch
    from transformers import SiglipConfig, SiglipImageProcessor, SiglipModel

    tokenizer, vocab = char_tokenizer("<s>", "</s>", "<pad>", 16)
    config = SiglipConfig(
        text_config=dict(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=16, pad_token_id=vocab["<pad>"],
                         eos_token_id=vocab["</s>"], bos_token_id=vocab["<s>"]),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=64, patch_size=16))
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-siglip")
    SiglipModel(config).eval().save_pretrained(path)
    SiglipImageProcessor(size={"height": 64, "width": 64}).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


TINY_OPEN_CLIP = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="session")
def tiny_open_clip_ckpt(tmp_path_factory):
    """An open_clip state dict file of a tiny ViT registered as architecture 'tiny-ViT-16'."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny-open-clip")
    (folder / "tiny-ViT-16.json").write_text(json.dumps(TINY_OPEN_CLIP))
    open_clip.add_model_config(str(folder / "tiny-ViT-16.json"))
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-ViT-16", pretrained=None)
    path = folder / "tiny-checkpoint.pt"
    torch.save(model.state_dict(), path)
    return str(path)


def write_raster(path, data: np.ndarray, *, crs="EPSG:32633", transform=None, nodata=None, **profile) -> str:
    """Write a (bands, H, W) array as a GeoTIFF (default: UTM 33N, 1 m pixels)."""
    transform = transform or from_origin(500_000.0, 4_650_000.0, 1.0, 1.0)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata, **profile) as dst:
        dst.write(data)
    return str(path)


@pytest.fixture
def rgb_raster(tmp_path):
    """A 3-band uint16 raster of 200 x 300 px with structure (not noise)."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:200, 0:300]
    base = (1000 + 800 * np.sin(xx / 17.0) * np.cos(yy / 23.0)).astype(np.float64)
    data = np.stack([base + rng.normal(0, 50, base.shape) for _ in range(3)]).clip(0, 4000).astype(np.uint16)
    return write_raster(tmp_path / "rgb.tif", data)


def tiny_sam(img_size: int = 256, seed: int = 0):
    """A random segment-anything Sam: 32-wide ViT (2 blocks, block 1 global) at `img_size`,
    with the stock prompt encoder and mask decoder shapes scaled to width 32."""
    from functools import partial

    import torch
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    torch.manual_seed(seed)
    grid = img_size // 16
    sam = Sam(
        image_encoder=ImageEncoderViT(img_size=img_size, patch_size=16, embed_dim=32, depth=2, num_heads=2,
                                      mlp_ratio=4, out_chans=32, qkv_bias=True,
                                      norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), use_rel_pos=True,
                                      window_size=4, global_attn_indexes=[1]),
        prompt_encoder=PromptEncoder(embed_dim=32, image_embedding_size=(grid, grid),
                                     input_image_size=(img_size, img_size), mask_in_chans=16),
        mask_decoder=MaskDecoder(num_multimask_outputs=3, transformer_dim=32, iou_head_depth=3,
                                 iou_head_hidden_dim=32,
                                 transformer=TwoWayTransformer(depth=2, embedding_dim=32, mlp_dim=64, num_heads=8)),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375])
    # Random init leaves rel-pos tables at zero; give them values so a wrong table layout shows.
    with torch.no_grad():
        for name, param in sam.named_parameters():
            if "rel_pos" in name:
                param.normal_(0, 0.1)
    return sam.eval()


@pytest.fixture(scope="session")
def tiny_sam_factory():
    """The tiny_sam builder, for tests that need the reference model object."""
    return tiny_sam


@pytest.fixture(scope="session")
def tiny_sam_ckpt(tmp_path_factory):
    """A tiny segment-anything checkpoint file (256 px input), saved as users have them."""
    import torch

    path = tmp_path_factory.mktemp("tiny-sam") / "tiny_sam.pth"
    torch.save(tiny_sam().state_dict(), path)
    return str(path)
