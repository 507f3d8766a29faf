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
def char_tokenizer_factory():
    """The char_tokenizer builder, for tests that build their own tiny models."""
    return char_tokenizer


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
def whole_tile_sam_ckpt(tmp_path_factory):
    """A tiny SAM whose every mask covers the whole tile (constant positive logits): what
    the pipeline then writes is decided by routing, valid pixels and stitching alone."""
    import torch

    sam = tiny_sam()
    with torch.no_grad():
        upscale = sam.mask_decoder.output_upscaling[3]  # last ConvTranspose2d, then GELU
        upscale.weight.zero_()
        upscale.bias.fill_(1.0)
        for mlp in sam.mask_decoder.output_hypernetworks_mlps:
            mlp.layers[-1].weight.zero_()
            mlp.layers[-1].bias.fill_(1.0)
    path = tmp_path_factory.mktemp("whole-tile-sam") / "whole_tile_sam.pth"
    torch.save(sam.state_dict(), path)
    return str(path)


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


def unit_gain_(model):
    """Redraw a random transformers model's weight tensors at unit gain (std 1/sqrt(fan-in)).
    Their init leaves position tables at zero and shrinks outputs to ~1e-5 logits, where
    masks are rounding noise that no prompt moves; at unit gain a wrong coordinate shows."""
    import torch

    torch.manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            if param.ndim >= 2:
                param.normal_(0, param[0].numel() ** -0.5)
    return model


@pytest.fixture(scope="session")
def tiny_transformers_sam_dir(tmp_path_factory):
    """A transformers SamModel (32-wide ViT, 256 px input) saved with its SamProcessor."""
    import torch
    from transformers import (SamConfig, SamImageProcessor, SamMaskDecoderConfig, SamModel, SamProcessor,
                              SamPromptEncoderConfig, SamVisionConfig)

    # num_pos_feats is half the prompt encoder's width, or box prompts do not fit.
    config = SamConfig(
        vision_config=SamVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=256,
                                      patch_size=16, output_channels=32, global_attn_indexes=[1], window_size=4,
                                      mlp_dim=64, num_pos_feats=16),
        prompt_encoder_config=SamPromptEncoderConfig(hidden_size=32, image_size=256, patch_size=16,
                                                     mask_input_channels=16),
        mask_decoder_config=SamMaskDecoderConfig(hidden_size=32, mlp_dim=64, num_hidden_layers=2,
                                                 num_attention_heads=2, iou_head_hidden_dim=32))
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-transformers-sam")
    unit_gain_(SamModel(config)).eval().save_pretrained(path)
    SamProcessor(SamImageProcessor(size={"longest_edge": 256}, pad_size={"height": 256, "width": 256},
                                   mask_size={"longest_edge": 64}, mask_pad_size={"height": 64, "width": 64})
                 ).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_sam2_dir(tmp_path_factory):
    """A transformers Sam2Model (4-stage Hiera, 128 px input) saved with its Sam2Processor."""
    import torch
    from transformers import (Sam2Config, Sam2HieraDetConfig, Sam2ImageProcessor, Sam2MaskDecoderConfig, Sam2Model,
                              Sam2Processor, Sam2PromptEncoderConfig, Sam2VisionConfig)

    # Block 3 (second of stage 3) attends globally; a global block may not open a pooling stage.
    backbone = Sam2HieraDetConfig(hidden_size=12, image_size=[128, 128], blocks_per_stage=[1, 1, 2, 1],
                                  embed_dim_per_stage=[12, 24, 48, 96], num_attention_heads_per_stage=[1, 1, 2, 2],
                                  window_size_per_stage=[4, 4, 4, 4], global_attention_blocks=[3],
                                  window_positional_embedding_background_size=[4, 4])
    config = Sam2Config(
        vision_config=Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=[96, 48, 24, 12],
                                       backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]], fpn_hidden_size=32),
        prompt_encoder_config=Sam2PromptEncoderConfig(hidden_size=32, image_size=128, patch_size=16,
                                                      mask_input_channels=8),
        mask_decoder_config=Sam2MaskDecoderConfig(hidden_size=32, mlp_dim=64, num_attention_heads=2,
                                                  iou_head_hidden_dim=32))
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-sam2")
    unit_gain_(Sam2Model(config)).eval().save_pretrained(path)
    Sam2Processor(Sam2ImageProcessor(size={"height": 128, "width": 128}, mask_size={"height": 32, "width": 32})
                  ).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_sam3_dir(tmp_path_factory):
    """A transformers Sam3Model (32-wide ViT, 112 px input, 8 queries) saved with its
    Sam3Processor and a char tokenizer."""
    import torch
    from transformers import (Sam3Config, Sam3DETRDecoderConfig, Sam3DETREncoderConfig, Sam3GeometryEncoderConfig,
                              Sam3ImageProcessor, Sam3MaskDecoderConfig, Sam3Model, Sam3Processor, Sam3VisionConfig,
                              Sam3ViTConfig)

    tokenizer, vocab = char_tokenizer("<|startoftext|>", "<|endoftext|>", "<pad>", 32)
    small = dict(num_attention_heads=2, intermediate_size=64)
    config = Sam3Config(
        vision_config=Sam3VisionConfig(
            backbone_config=Sam3ViTConfig(hidden_size=32, num_hidden_layers=2, image_size=112, patch_size=14,
                                          window_size=4, global_attn_indexes=[1], pretrain_image_size=56, **small),
            fpn_hidden_size=32, backbone_feature_sizes=[[32, 32], [16, 16], [8, 8]]),
        text_config=dict(vocab_size=len(vocab), hidden_size=32, projection_dim=32, num_hidden_layers=2,
                         max_position_embeddings=32, bos_token_id=vocab["<|startoftext|>"],
                         eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<pad>"], **small),
        geometry_encoder_config=Sam3GeometryEncoderConfig(hidden_size=32, num_layers=1, **small),
        detr_encoder_config=Sam3DETREncoderConfig(hidden_size=32, num_layers=1, **small),
        detr_decoder_config=Sam3DETRDecoderConfig(hidden_size=32, num_layers=1, num_queries=8, **small),
        mask_decoder_config=Sam3MaskDecoderConfig(hidden_size=32, num_attention_heads=2))
    torch.manual_seed(0)
    model = unit_gain_(Sam3Model(config)).eval()
    path = tmp_path_factory.mktemp("tiny-sam3")
    model.save_pretrained(path)
    Sam3Processor(Sam3ImageProcessor(size={"height": 112, "width": 112}, mask_size={"height": 32, "width": 32}),
                  tokenizer).save_pretrained(path)
    return str(path)


# The post-processor config of the released Florence-2 processors: without it
# post_process_generation raises "Unsupported parse task".
FLORENCE2_POST_PROCESSOR = {
    "ocr": {"pattern": r"(.+?)<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>",
            "area_threshold": 0.0},
    "phrase_grounding": {"banned_grounding_tokens": ["the image"]},
    "pure_text": {}, "description_with_bboxes": {}, "description_with_polygons": {}, "polygons": {}, "bboxes": {},
    "description_with_bboxes_or_polygons": {},
}


@pytest.fixture(scope="session")
def tiny_florence2_dir(tmp_path_factory):
    """A Florence2ForConditionalGeneration (2-stage DaViT, 64 px input -> 8x8 + 1 image tokens,
    1+1 layer BART) at unit gain, saved with a Florence2Processor: ImageNet-normalised 64 px
    images, a char tokenizer with <image>, <loc_0>..<loc_999> and the task markup tokens."""
    import torch
    from transformers import (CLIPImageProcessor, Florence2Config, Florence2ForConditionalGeneration,
                              Florence2Processor, PreTrainedTokenizerFast)

    chars, _ = char_tokenizer("<s>", "</s>", "<pad>", 1024)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=chars.backend_tokenizer, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>", model_max_length=1024,
                                        extra_special_tokens={"image_token": "<image>"})
    tokenizer.add_tokens([f"<loc_{i}>" for i in range(1000)] + ["<od>", "</od>", "<poly>", "</poly>", "<sep>"])
    image_processor = CLIPImageProcessor(size={"height": 64, "width": 64}, do_center_crop=False,
                                         image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
                                         image_seq_length=65)
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id, decoder_start_token_id=tokenizer.eos_token_id,
               forced_eos_token_id=tokenizer.eos_token_id)
    config = Florence2Config(
        text_config=dict(vocab_size=len(tokenizer), max_position_embeddings=256, d_model=32, encoder_layers=1,
                         decoder_layers=1, encoder_ffn_dim=64, decoder_ffn_dim=64, encoder_attention_heads=2,
                         decoder_attention_heads=2, **ids),
        vision_config=dict(depths=[1, 1], patch_size=[7, 3], patch_stride=[4, 2], patch_padding=[3, 1],
                           patch_prenorm=[False, True], embed_dim=[16, 32], num_heads=[1, 2], num_groups=[1, 2],
                           window_size=4, projection_dim=32),
        image_token_id=tokenizer.image_token_id)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-florence2")
    unit_gain_(Florence2ForConditionalGeneration(config)).eval().save_pretrained(path)
    Florence2Processor(image_processor, tokenizer, post_processor_config=FLORENCE2_POST_PROCESSOR).save_pretrained(path)
    return str(path)
