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


def florence2_tokenizer():
    """The char tokenizer with Florence-2's <image>, <loc_0>..<loc_999> and task markup tokens."""
    from transformers import PreTrainedTokenizerFast

    chars, _ = char_tokenizer("<s>", "</s>", "<pad>", 1024)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=chars.backend_tokenizer, bos_token="<s>", eos_token="</s>",
                                        pad_token="<pad>", unk_token="<unk>", model_max_length=1024,
                                        extra_special_tokens={"image_token": "<image>"})
    tokenizer.add_tokens([f"<loc_{i}>" for i in range(1000)] + ["<od>", "</od>", "<poly>", "</poly>", "<sep>"])
    return tokenizer


def florence2_token_ids(tokenizer) -> dict:
    """The special token ids a Florence2Config's text config takes from `tokenizer`."""
    return dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id, decoder_start_token_id=tokenizer.eos_token_id,
                forced_eos_token_id=tokenizer.eos_token_id)


@pytest.fixture(scope="session")
def tiny_florence2_dir(tmp_path_factory):
    """A Florence2ForConditionalGeneration (2-stage DaViT, 64 px input -> 8x8 + 1 image tokens,
    1+1 layer BART) at unit gain, saved with a Florence2Processor: ImageNet-normalised 64 px
    images, a char tokenizer with <image>, <loc_0>..<loc_999> and the task markup tokens."""
    import torch
    from transformers import CLIPImageProcessor, Florence2Config, Florence2ForConditionalGeneration, Florence2Processor

    tokenizer = florence2_tokenizer()
    image_processor = CLIPImageProcessor(size={"height": 64, "width": 64}, do_center_crop=False,
                                         image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
                                         image_seq_length=65)
    ids = florence2_token_ids(tokenizer)
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


# Qwen-VL fixtures

# A short Qwen-style chat template: image and text parts of each message, then the
# assistant turn. The released ones add a default system message and tool calls.
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def tiny_qwen_vl(path, model_type: str) -> str:
    """A Qwen2.5-VL or Qwen3-VL (`model_type`) at unit gain, 2 + 2 layers of width 32, saved
    with its processor: a char tokenizer with Qwen's special tokens and chat template, and
    image and video processors that resize any image to at most 24 patches (6 tokens)."""
    import torch
    from transformers import (PreTrainedTokenizerFast, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration,
                              Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor, Qwen3VLConfig,
                              Qwen3VLForConditionalGeneration, Qwen3VLProcessor, Qwen3VLVideoProcessor)

    chars, _ = char_tokenizer("<|endoftext|>", "<|im_end|>", "<|endoftext|>", 1024)
    backend = chars.backend_tokenizer
    backend.post_processor = None  # Qwen's tokenizer adds no bos/eos around a text
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                        unk_token="<unk>", model_max_length=1024)
    tokenizer.add_special_tokens({"additional_special_tokens": [
        "<|im_start|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]})
    tokenizer.add_tokens(list(string.ascii_uppercase + '\n[]{}"_`?!'))  # prompts and JSON answers
    ids = dict(image_token_id=tokenizer.convert_tokens_to_ids("<|image_pad|>"),
               video_token_id=tokenizer.convert_tokens_to_ids("<|video_pad|>"),
               vision_start_token_id=tokenizer.convert_tokens_to_ids("<|vision_start|>"),
               vision_end_token_id=tokenizer.convert_tokens_to_ids("<|vision_end|>"))
    # head_dim 16: the three M-RoPE sections (time, height, width) share its 8 frequencies.
    text = dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
                bos_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id)
    vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32, spatial_merge_size=2)
    torch.manual_seed(0)
    if model_type == "qwen2_5_vl":
        patch = 14
        model = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(
            text_config=text, vision_config=dict(vision, patch_size=patch, window_size=56, fullatt_block_indexes=[1]),
            **ids))
        processor_class, video_processor_class = Qwen2_5_VLProcessor, Qwen2VLVideoProcessor
    else:
        patch = 16
        model = Qwen3VLForConditionalGeneration(Qwen3VLConfig(
            text_config=dict(text, head_dim=16, rope_parameters=dict(text["rope_parameters"], mrope_interleaved=True)),
            vision_config=dict(vision, patch_size=patch, num_position_embeddings=16, deepstack_visual_indexes=[0]),
            **ids))
        processor_class, video_processor_class = Qwen3VLProcessor, Qwen3VLVideoProcessor
    unit_gain_(model).eval().save_pretrained(path)
    # At most 4 x 6 patches' area (6 merged tokens), where the defaults give thousands.
    pixels = dict(patch_size=patch, min_pixels=(2 * patch) ** 2, max_pixels=(4 * patch) * (6 * patch))
    processor_class(Qwen2VLImageProcessor(**pixels), tokenizer, video_processor_class(**pixels),
                    chat_template=QWEN_CHAT_TEMPLATE).save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_qwen2_5_vl_dir(tmp_path_factory):
    """tiny_qwen_vl's Qwen2.5-VL: 14 px patches, boxes in pixels of the resized input."""
    return tiny_qwen_vl(tmp_path_factory.mktemp("tiny-qwen2_5_vl"), "qwen2_5_vl")


@pytest.fixture(scope="session")
def tiny_qwen3_vl_dir(tmp_path_factory):
    """tiny_qwen_vl's Qwen3-VL: 16 px patches, boxes on a 0..1000 grid."""
    return tiny_qwen_vl(tmp_path_factory.mktemp("tiny-qwen3_vl"), "qwen3_vl")


# Memorised answers: a tiny VLM trained until it answers one recorded string, whatever
# the image. Random models write noise where a parser finds no boxes; a model that
# writes the recorded grounding answer puts boxes through the whole pipeline, where the
# map coordinates they must land at are computed by hand.

def memorise_(model, prompts: list[dict], answer_ids: list[int], steps: int = 400):
    """Train `model` (Adam, teacher forcing) to continue each processor output in `prompts`
    (input_ids of one prompt, image tensors) with `answer_ids`."""
    import torch

    examples = []
    for inputs in prompts:
        length = inputs["input_ids"].shape[1]
        extended = dict(inputs)
        for key, value in inputs.items():  # token-aligned tensors grow with the answer
            if torch.is_tensor(value) and value.dim() == 2 and value.shape[1] == length:
                tail = torch.tensor([answer_ids]) if key == "input_ids" else \
                    torch.full((1, len(answer_ids)), 1 if key == "attention_mask" else 0, dtype=value.dtype)
                extended[key] = torch.cat([value, tail.to(value.dtype)], 1)
        labels = extended["input_ids"].clone()
        labels[:, :length] = -100
        examples.append((extended, labels))
    torch.manual_seed(0)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(steps):
        inputs, labels = examples[step % len(examples)]
        loss = model(**inputs, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if loss.item() < 0.005:
            break
    return model.eval()


QWEN_ANSWER = '```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "plane"}, {"bbox_2d": [28, 0, 56, 12], "label": "plane"}]\n```'


@pytest.fixture(scope="session")
def memorised_qwen2_5_vl_dir(tmp_path_factory):
    """tiny_qwen_vl's Qwen2.5-VL answering QWEN_ANSWER (pixels of its 56 px input) to
    GeoVL's grounding request for "planes", on any image."""
    import numpy as np
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    from geovl.models.qwen_vlm import GROUNDING

    path = tiny_qwen_vl(tmp_path_factory.mktemp("memorised-qwen2_5_vl"), "qwen2_5_vl")
    processor = AutoProcessor.from_pretrained(path)
    chat = processor.apply_chat_template([{"role": "user", "content": [
        {"type": "image"}, {"type": "text", "text": GROUNDING.format("planes")}]}], add_generation_prompt=True)
    rng = np.random.default_rng(0)
    prompts = [processor(text=chat, images=rng.integers(0, 255, (70, 70, 3), dtype=np.uint8), return_tensors="pt")
               for _ in range(3)]
    tokenizer = processor.tokenizer
    answer_ids = tokenizer(QWEN_ANSWER, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    model = memorise_(Qwen2_5_VLForConditionalGeneration.from_pretrained(path), prompts, answer_ids)
    model.save_pretrained(path)
    return str(path)


# Kosmos-2 and GeoChat (Llava) fixtures

# What tiny_kosmos2_dir writes after `</phrase>`: one object of two boxes.
KOSMOS2_OBJECT = ("</phrase>", "<object>", "<patch_index_0044>", "<patch_index_0863>",
                  "</delimiter_of_multi_objects/>", "<patch_index_0100>", "<patch_index_0300>", "</object>")


@pytest.fixture(scope="session")
def tiny_kosmos2_dir(tmp_path_factory):
    """A Kosmos2ForConditionalGeneration (32-wide, 2 + 2 layers, 224 px, 64 latent queries) at
    unit gain, saved with a Kosmos2Processor on a char tokenizer (plus capitals and "?"), to
    which the processor adds its <grounding>, <phrase>, <object>, <patch_index_NNNN>... tokens.
    A random model never closes an <object>; this one is rigged to write KOSMOS2_OBJECT after
    `</phrase>`: each token of the chain gets a large embedding, and its successor an output
    row along it (untied output head)."""
    import torch
    from transformers import CLIPImageProcessor, Kosmos2Config, Kosmos2ForConditionalGeneration, Kosmos2Processor

    tokenizer, _ = char_tokenizer("<s>", "</s>", "<pad>", 2048)
    tokenizer.add_tokens(list(string.ascii_uppercase) + ["?"])
    # The released processor squashes images to 224 x 224 (use_square_size), no crop.
    processor = Kosmos2Processor(CLIPImageProcessor(size={"height": 224, "width": 224}, do_center_crop=False),
                                 tokenizer)
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id)
    config = Kosmos2Config(
        text_config=dict(vocab_size=len(processor.tokenizer), embed_dim=32, layers=2, ffn_dim=64, attention_heads=2,
                         max_position_embeddings=512, tie_word_embeddings=False, **ids),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                           image_size=224, patch_size=14),
        tie_word_embeddings=False)
    torch.manual_seed(0)
    model = unit_gain_(Kosmos2ForConditionalGeneration(config)).eval()
    chain = processor.tokenizer.convert_tokens_to_ids(list(KOSMOS2_OBJECT))
    embed, head = model.text_model.model.embed_tokens.weight, model.text_model.lm_head.weight
    with torch.no_grad():
        for token, successor in zip(chain, chain[1:]):
            embed[token] *= 20
            direction = torch.nn.functional.layer_norm(embed[token], embed.shape[1:])
            head[successor] += 15 * direction / embed.shape[1]
    path = tmp_path_factory.mktemp("tiny-kosmos2")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return str(path)


GEOCHAT_WIDTH = 32


def tiny_clip_vision(image_size: int):
    """A random CLIPVisionModel of GEOCHAT_WIDTH with 14 px patches."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(image_size)
    return CLIPVisionModel(CLIPVisionConfig(hidden_size=GEOCHAT_WIDTH, intermediate_size=64, num_hidden_layers=3,
                                            num_attention_heads=2, image_size=image_size, patch_size=14)).eval()


@pytest.fixture(scope="session")
def geochat_converter():
    """scripts/convert_geochat.py as a module (scripts/ is not part of the package)."""
    import importlib.util
    import os

    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "convert_geochat.py")
    spec = importlib.util.spec_from_file_location("convert_geochat", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny_geochat(tmp_path_factory):
    """GeoChat-shaped folders: Llama + mm_projector + (in "with-tower") the 504 px vision
    tower under LLaVA's names, GeoChat's config.json keys and a char tokenizer; the
    CLIP-L/336 stand-in it names as mm_vision_tower; and the parts as modules. Llama, projector
    and 504 px tower are at unit gain, so a few grey levels of the image change the greedy reply."""
    import torch
    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer, _ = char_tokenizer("<s>", "</s>", "<pad>", 2048)
    tokenizer.add_tokens(list("<>{}|/?"))  # GeoChat's box markup, for answers a test memorises
    torch.manual_seed(0)
    text_config = dict(vocab_size=len(tokenizer), hidden_size=GEOCHAT_WIDTH, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048, rms_norm_eps=1e-5,
                       bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                       pad_token_id=tokenizer.pad_token_id)
    llama = LlamaForCausalLM(LlamaConfig(**text_config)).eval()
    projector = torch.nn.Sequential(torch.nn.Linear(GEOCHAT_WIDTH, GEOCHAT_WIDTH), torch.nn.GELU(),
                                    torch.nn.Linear(GEOCHAT_WIDTH, GEOCHAT_WIDTH))
    clip336, clip504 = tiny_clip_vision(336), tiny_clip_vision(504)
    for module in (llama, projector, clip504):
        unit_gain_(module)
    clip_dir = tmp_path_factory.mktemp("clip-336")
    clip336.save_pretrained(clip_dir)

    state = dict(llama.state_dict())
    state.update({f"model.mm_projector.{k}": v for k, v in projector.state_dict().items()})
    # transformers 5 names CLIPVisionModel weights without the "vision_model." that GeoChat's have.
    with_tower = {**state, **{f"model.vision_tower.vision_tower.vision_model.{k.removeprefix('vision_model.')}": v
                              for k, v in clip504.state_dict().items()}}
    folders = {}
    for name, weights in (("with-tower", with_tower), ("without-tower", state)):
        folder = tmp_path_factory.mktemp(f"geochat-{name}")
        save_file({k: v.contiguous() for k, v in weights.items()}, folder / "model.safetensors")
        config = {**text_config, "architectures": ["GeoChatLlamaForCausalLM"], "model_type": "geochat",
                  "mm_vision_tower": str(clip_dir), "mm_hidden_size": GEOCHAT_WIDTH, "mm_projector_type": "mlp2x_gelu",
                  "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch"}
        (folder / "config.json").write_text(json.dumps(config))
        tokenizer.save_pretrained(folder)
        folders[name] = str(folder)
    return {"folders": folders, "clip_dir": str(clip_dir), "llama": llama, "projector": projector,
            "clip504": clip504, "clip336": clip336, "tokenizer": tokenizer}


@pytest.fixture(scope="session")
def tiny_geochat_llava_dir(tmp_path_factory, tiny_geochat, geochat_converter):
    """tiny_geochat (with its vision tower) as users get it: converted by scripts/convert_geochat.py
    to a Llava folder (504 px processor, `<image>` token)."""
    path = tmp_path_factory.mktemp("tiny-geochat-llava")
    geochat_converter.convert(tiny_geochat["folders"]["with-tower"], str(path))
    return str(path)


GEOCHAT_ANSWER = "<p>plane</p> {<10><20><50><40>|<60>}"


def geochat_tile():
    """A 504 px tile (GeoChat's input): a left-to-right grey ramp, one of the images
    memorised_geochat_dir answers on."""
    import numpy as np

    ramp = np.linspace(0, 255, 504).astype(np.uint8)
    return np.ascontiguousarray(np.broadcast_to(ramp[None, :, None], (504, 504, 3)))


@pytest.fixture(scope="session")
def memorised_geochat_dir(tmp_path_factory, tiny_geochat, geochat_converter):
    """tiny_geochat converted like tiny_geochat_llava_dir, then trained to answer
    GEOCHAT_ANSWER (a box turned by GeoChat's θ = 60) to GeoVL's grounded prompt for
    "Where are the planes?" on geochat_tile() (and on noise, so not on one image alone)."""
    import numpy as np
    from transformers import LlavaForConditionalGeneration, LlavaProcessor

    from geovl.models.geochat_vlm import TEMPLATE

    path = tmp_path_factory.mktemp("memorised-geochat")
    geochat_converter.convert(tiny_geochat["folders"]["with-tower"], str(path))
    processor = LlavaProcessor.from_pretrained(path)
    text = TEMPLATE.format("[grounding] Where are the planes?")
    rng = np.random.default_rng(0)
    images = [geochat_tile(), rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)]
    prompts = [processor(images=image, text=text, return_tensors="pt") for image in images]
    tokenizer = processor.tokenizer
    answer_ids = tokenizer(GEOCHAT_ANSWER, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    model = memorise_(LlavaForConditionalGeneration.from_pretrained(path), prompts, answer_ids)
    model.save_pretrained(path)
    return str(path)


# Change captioning: a recorded-style three-line answer to the before/after pair prompt.
CHANGE_ANSWER = "Before: bare land\nAfter: buildings\nChange: buildings were built on bare land"
CHANGE_TILE = 56  # side of the image pairs memorised_change_qwen_dir answers on


@pytest.fixture(scope="session")
def memorised_change_qwen_dir(tmp_path_factory):
    """tiny_qwen_vl's Qwen2.5-VL answering CHANGE_ANSWER to GeoVL's change prompt
    (models.change_captioner.PAIR_PROMPT) on any pair of CHANGE_TILE px images, the two in
    one user turn (trained on random pairs, so not on one pair alone)."""
    import numpy as np
    from transformers import AutoProcessor, Qwen2_5_VLForConditionalGeneration

    from geovl.models.change_captioner import PAIR_PROMPT

    path = tiny_qwen_vl(tmp_path_factory.mktemp("memorised-change-qwen"), "qwen2_5_vl")
    processor = AutoProcessor.from_pretrained(path)
    chat = processor.apply_chat_template([{"role": "user", "content": [
        {"type": "image"}, {"type": "image"}, {"type": "text", "text": PAIR_PROMPT}]}], add_generation_prompt=True)
    rng = np.random.default_rng(0)
    # noise, flat colours and smooth gradients, so it answers on crops of imagery too
    ramp = np.linspace(0, 255, CHANGE_TILE)[None, :, None] * np.ones((CHANGE_TILE, 1, 3))
    pairs = [rng.integers(0, 255, (2, CHANGE_TILE, CHANGE_TILE, 3)) for _ in range(3)]
    pairs += [np.stack([np.full((CHANGE_TILE, CHANGE_TILE, 3), rng.integers(0, 255, 3)) for _ in range(2)])
              for _ in range(3)]
    pairs += [np.stack([ramp * rng.uniform(0.3, 1, 3), ramp[:, ::-1] * rng.uniform(0.3, 1, 3)]) for _ in range(2)]
    prompts = [processor(text=chat, images=list(pair.astype(np.uint8)), return_tensors="pt") for pair in pairs]
    tokenizer = processor.tokenizer
    answer_ids = tokenizer(CHANGE_ANSWER, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    model = memorise_(Qwen2_5_VLForConditionalGeneration.from_pretrained(path), prompts, answer_ids)
    model.save_pretrained(path)
    return str(path)


@pytest.fixture
def small_disk(tmp_path):
    """A factory of folders on a freshly mounted tmpfs of `size_kib` KiB: a disk that fills
    up (ENOSPC), or, with read_only=True, a folder nothing can be written to (even by root,
    for whom permission bits do not count). Needs the right to mount (root here and in CI)."""
    import subprocess

    mounted = []

    def make(size_kib: int = 512, read_only: bool = False) -> str:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        options = f"size={size_kib}k" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs to simulate a full or read-only disk: {done.stderr.strip()}")
        mounted.append(folder)
        return str(folder)

    yield make
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


# An open_clip architecture registered twice, as open_clip ships ViT-B-32 and
# ViT-B-32-quickgelu: same tensors, GELU or QuickGELU. Its shapes differ from tiny-ViT-16's,
# so a tiny-ViT-16 checkpoint never matches it.
TINY_OPEN_CLIP_8 = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 24, "patch_size": 8, "head_width": 12},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 24, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="session")
def tiny_open_clip_quickgelu_ckpt(tmp_path_factory):
    """An open_clip state dict file of a tiny ViT trained as QuickGELU: architectures
    'tiny-ViT-8' (GELU) and 'tiny-ViT-8-quickgelu' are registered, the file is named like
    the released checkpoints (the GELU name in it, as RemoteCLIP-ViT-B-32.pt)."""
    import open_clip
    import torch

    folder = tmp_path_factory.mktemp("tiny-open-clip-quickgelu")
    quickgelu = {**TINY_OPEN_CLIP_8, "quick_gelu": True}
    for name, config in (("tiny-ViT-8", TINY_OPEN_CLIP_8), ("tiny-ViT-8-quickgelu", quickgelu)):
        (folder / f"{name}.json").write_text(json.dumps(config))
        open_clip.add_model_config(str(folder / f"{name}.json"))
    torch.manual_seed(0)
    model = open_clip.create_model("tiny-ViT-8-quickgelu", pretrained=None)
    path = folder / "RS-tiny-ViT-8.pt"
    torch.save(model.state_dict(), path)
    return str(path)


INDEX_DAMAGES = ("truncated", "random bytes", "half the rows deleted", "a short embedding", "tiles table dropped",
                 "metadata table dropped")


@pytest.fixture
def damage_index():
    """damage(path, how) breaks a GeoVL tile index in place the ways a fault campaign
    found (one of INDEX_DAMAGES)."""
    import os
    import sqlite3

    def sql(path, statement):
        con = sqlite3.connect(path)
        for name in ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):  # what the R-tree triggers call
            con.create_function(name, 1, lambda geom: 0)
        con.execute(statement)
        con.commit()
        con.close()

    def damage(path: str, how: str) -> None:
        if how == "truncated":
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) // 2)
        elif how == "random bytes":
            with open(path, "wb") as f:
                f.write(np.random.default_rng(0).bytes(40_000))
        else:
            sql(path, {"half the rows deleted": "DELETE FROM tiles WHERE fid % 2 = 0",
                       "a short embedding": "UPDATE tiles SET embedding = substr(embedding, 1, 6) WHERE fid = 3",
                       "tiles table dropped": "DROP TABLE tiles",
                       "metadata table dropped": "DROP TABLE geovl_meta"}[how])

    return damage
