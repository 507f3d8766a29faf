"""segment-anything checkpoints (SAM vit_b / vit_l / vit_h, fine-tuned full state dicts
such as GeoSAM's, and other sizes) as a PromptSegmenter.

The architecture is read off the checkpoint's tensor shapes, so any SAM-layout state
dict loads without being told its type. Encode and decode follow segment-anything's
SamPredictor step for step (same resize, normalisation and coordinate transforms); the
mask decoder's arithmetic is taken in another order (models/sam_decoder.py), so masks
equal the reference predictor's up to float rounding.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Sequence

import numpy as np
import torch

from ..errors import ModelError
from .base import Embedding, PromptSegmenter, SegmentPrompt, Segmentation
from .checkpoints import read_state_dict
from .sam_decoder import LeanMaskDecoder


@dataclass(frozen=True)
class SamArchitecture:
    img_size: int
    patch_size: int
    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]
    window_size: int
    mlp_ratio: float
    use_rel_pos: bool
    out_chans: int
    mask_in_chans: int
    decoder_depth: int
    decoder_mlp_dim: int
    iou_head_depth: int
    iou_head_hidden_dim: int
    num_multimask_outputs: int

    @property
    def description(self) -> str:
        for name, arch in MODEL_TYPES.items():
            if arch == self:
                return name
        return (f"a SAM ViT of width {self.embed_dim}, depth {self.depth}, {self.num_heads} heads, "
                f"{self.img_size} px input")


def _standard(embed_dim: int, depth: int, num_heads: int, global_attn: tuple[int, ...]) -> SamArchitecture:
    """segment-anything's build_sam settings around an encoder size."""
    return SamArchitecture(1024, 16, embed_dim, depth, num_heads, global_attn, 14, 4.0, True, 256, 16, 2, 2048,
                           3, 256, 3)


MODEL_TYPES = {
    "vit_b": _standard(768, 12, 12, (2, 5, 8, 11)),
    "vit_l": _standard(1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": _standard(1280, 32, 16, (7, 15, 23, 31)),
}
# The mask decoder's head count leaves no trace in tensor shapes; every SAM uses 8.
DECODER_HEADS = 8


def infer_architecture(state: dict[str, torch.Tensor]) -> SamArchitecture:
    """A SAM architecture from a segment-anything state dict's tensor shapes."""
    def count(pattern: str) -> int:
        found = {int(m.group(1)) for k in state if (m := re.match(pattern, k))}
        return max(found) + 1 if found else 0

    patch = state["image_encoder.patch_embed.proj.weight"]
    embed_dim, patch_size = patch.shape[0], patch.shape[-1]
    grid = state["image_encoder.pos_embed"].shape[1]
    depth = count(r"image_encoder\.blocks\.(\d+)\.")
    use_rel_pos = "image_encoder.blocks.0.attn.rel_pos_h" in state
    global_attn, window_size, head_dim = [], 0, None
    for i in range(depth):
        rel = state.get(f"image_encoder.blocks.{i}.attn.rel_pos_h")
        if rel is None:
            continue
        head_dim = rel.shape[1]
        if rel.shape[0] == 2 * grid - 1:  # a table spanning the whole grid: global attention
            global_attn.append(i)
        else:
            window_size = (rel.shape[0] + 1) // 2
    if head_dim is None:
        raise ModelError("The checkpoint's image encoder has no relative-position tables, so its number of "
                         "attention heads cannot be read off it; give its type (vit_b, vit_l or vit_h).")
    return SamArchitecture(
        img_size=grid * patch_size, patch_size=patch_size, embed_dim=embed_dim, depth=depth,
        num_heads=embed_dim // head_dim, global_attn_indexes=tuple(global_attn), window_size=window_size,
        mlp_ratio=state["image_encoder.blocks.0.mlp.lin1.weight"].shape[0] / embed_dim, use_rel_pos=use_rel_pos,
        out_chans=state["image_encoder.neck.0.weight"].shape[0],
        mask_in_chans=state["prompt_encoder.mask_downscaling.3.weight"].shape[0],
        decoder_depth=count(r"mask_decoder\.transformer\.layers\.(\d+)\."),
        decoder_mlp_dim=state["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0],
        iou_head_depth=count(r"mask_decoder\.iou_prediction_head\.layers\.(\d+)\."),
        iou_head_hidden_dim=state["mask_decoder.iou_prediction_head.layers.0.weight"].shape[0],
        num_multimask_outputs=state["mask_decoder.mask_tokens.weight"].shape[0] - 1)


def build_sam(arch: SamArchitecture):
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    grid = arch.img_size // arch.patch_size
    return Sam(
        image_encoder=ImageEncoderViT(
            img_size=arch.img_size, patch_size=arch.patch_size, embed_dim=arch.embed_dim, depth=arch.depth,
            num_heads=arch.num_heads, mlp_ratio=arch.mlp_ratio, out_chans=arch.out_chans, qkv_bias=True,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), use_rel_pos=arch.use_rel_pos,
            window_size=arch.window_size, global_attn_indexes=arch.global_attn_indexes),
        prompt_encoder=PromptEncoder(embed_dim=arch.out_chans, image_embedding_size=(grid, grid),
                                     input_image_size=(arch.img_size, arch.img_size),
                                     mask_in_chans=arch.mask_in_chans),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=arch.num_multimask_outputs, transformer_dim=arch.out_chans,
            iou_head_depth=arch.iou_head_depth, iou_head_hidden_dim=arch.iou_head_hidden_dim,
            transformer=TwoWayTransformer(depth=arch.decoder_depth, embedding_dim=arch.out_chans,
                                          mlp_dim=arch.decoder_mlp_dim, num_heads=DECODER_HEADS)),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375]).eval()


def load_sam_checkpoint(path: str, model_type: str = "auto"):
    """A segment-anything Sam with the weights of `path`; `model_type` auto, vit_b, vit_l or vit_h."""
    state = read_state_dict(path)
    if not any(k.startswith("image_encoder.") for k in state):
        hint = (" It looks like a transformers SAM state dict: give the folder that holds it with its "
                "config.json instead." if any(k.startswith("vision_encoder.") for k in state) else "")
        raise ModelError(f"'{path}' is not a Segment Anything checkpoint: it has no image_encoder.* weights.{hint}")
    try:
        inferred = infer_architecture(state)
    except KeyError as exc:
        raise ModelError(f"'{path}' is not a complete Segment Anything checkpoint: it has no {exc} tensor.") from exc
    if model_type in ("", "auto"):
        arch = inferred
    elif model_type in MODEL_TYPES:
        arch = MODEL_TYPES[model_type]
    else:
        raise ModelError(f"Unknown SAM model type '{model_type}'; use auto, {', '.join(MODEL_TYPES)}.")
    with torch.device("meta"):  # shapes only: no memory for a model that may not fit the file
        mismatch = _first_mismatch(build_sam(arch).state_dict(), state)
    if mismatch:
        raise ModelError(f"The checkpoint '{path}' does not match SAM model type {model_type}: {mismatch}. "
                         f"Its shapes are those of {inferred.description}; set the model type to auto"
                         f"{' or ' + inferred.description if inferred.description in MODEL_TYPES else ''}.")
    sam = build_sam(arch)
    sam.load_state_dict(state)
    return sam


def _first_mismatch(expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor]) -> str:
    missing = sorted(set(expected) - set(given))
    if missing:
        return f"{len(missing)} weight(s) missing, e.g. {missing[0]}"
    unexpected = sorted(set(given) - set(expected))
    if unexpected:
        return f"{len(unexpected)} unexpected weight(s), e.g. {unexpected[0]}"
    for key, tensor in expected.items():
        if tuple(given[key].shape) != tuple(tensor.shape):
            return (f"{key} has shape {tuple(given[key].shape)} in the checkpoint but {tuple(tensor.shape)} "
                    f"in the model")
    return ""


class SamSegmenter(PromptSegmenter):
    """segment-anything's Sam, used the way SamPredictor uses it.

    The image encoder and the mask decoder run in `dtype`: the decoder is most of the cost
    of many prompts, and so do the convolutions that embed a dense (mask) prompt. Points
    are encoded in fp32, as their coordinates lose whole pixels in bf16, and masks are
    upscaled and thresholded in fp32. The decoder is SAM's own, computed without
    repeating the image per object (LeanMaskDecoder)."""

    def __init__(self, name: str, sam, device: torch.device, dtype: torch.dtype):
        from segment_anything.utils.transforms import ResizeLongestSide

        self.name, self.device, self.dtype = name, device, dtype
        self.sam = sam.to(device)
        self.sam.image_encoder.to(dtype)
        self.sam.mask_decoder.to(dtype)
        self.sam.prompt_encoder.mask_downscaling.to(dtype)
        self.mask_decoder = LeanMaskDecoder(self.sam.mask_decoder)
        with torch.inference_mode():
            # The same for every prompt; SamPredictor computes it again each time (about 8 ms).
            self.dense_pe = self.sam.prompt_encoder.get_dense_pe().to(dtype)
        self.input_size = sam.image_encoder.img_size
        self.transform = ResizeLongestSide(self.input_size)

    @torch.inference_mode()
    def encode(self, image: np.ndarray) -> Embedding:
        resized = torch.as_tensor(self.transform.apply_image(image), device=self.device)
        pixels = self.sam.preprocess(resized.permute(2, 0, 1).contiguous()[None].float())
        features = self.sam.image_encoder(pixels.to(self.dtype))
        return {"image_embeddings": features.cpu()}

    def decode(self, embedding: Embedding, image_size: tuple[int, int], prompt: SegmentPrompt,
               multimask: bool = False) -> Segmentation:
        return self.decode_batch(embedding, image_size, [prompt], multimask)[0]

    @torch.inference_mode()
    def decode_batch(self, embedding: Embedding, image_size: tuple[int, int], prompts: Sequence[SegmentPrompt],
                     multimask: bool = False, with_masks: bool = True) -> list[Segmentation]:
        """decode for several objects in one pass of the mask decoder, the way
        SamPredictor.predict_torch takes them (B x N points, B boxes, B dense prompts): the
        prompts must have one shape (as many points, all or none with a box, all or none
        with a dense prompt)."""
        first = prompts[0]
        points = boxes = masks = None
        if len(first.points):
            coords = self.transform.apply_coords(np.stack([p.points for p in prompts]).astype(np.float64), image_size)
            points = (torch.as_tensor(coords, dtype=torch.float, device=self.device),
                      torch.as_tensor(np.stack([p.labels for p in prompts]), dtype=torch.int, device=self.device))
        if first.box is not None:
            box = self.transform.apply_boxes(np.stack([p.box for p in prompts]).astype(np.float64), image_size)
            boxes = torch.as_tensor(box, dtype=torch.float, device=self.device)
        if first.mask_logits is not None:
            logits = np.stack([p.mask_logits for p in prompts])
            masks = torch.as_tensor(logits, dtype=self.dtype, device=self.device)[:, None]
        sparse, dense = self.sam.prompt_encoder(points=points, boxes=boxes, masks=masks)
        if masks is None:
            dense = dense[:1]   # the no-mask embedding, the same for every object
        low_res, iou = self.mask_decoder(embedding["image_embeddings"].to(self.device, self.dtype), self.dense_pe,
                                         sparse.to(self.dtype), dense.to(self.dtype), multimask)
        low_res, iou = low_res.float(), iou.float()
        objects = torch.arange(len(prompts), device=self.device)
        best = iou.argmax(dim=1)
        low_res, scores = low_res[objects, best][:, None], iou[objects, best]
        masks = self._masks(low_res, image_size) if with_masks else [None] * len(prompts)
        return [Segmentation(mask, float(score), logits[0].cpu().numpy())
                for mask, score, logits in zip(masks, scores, low_res)]

    def _masks(self, low_res: torch.Tensor, image_size: tuple[int, int]) -> list[np.ndarray]:
        """Sam.postprocess_masks and the threshold; its last resize is left out when it is to
        the size the masks have (bilinear resampling to the same size is the identity)."""
        input_size = self.transform.get_preprocess_shape(*image_size, self.input_size)
        upscaled = torch.nn.functional.interpolate(low_res, (self.input_size, self.input_size), mode="bilinear",
                                                   align_corners=False)[..., :input_size[0], :input_size[1]]
        if tuple(input_size) != tuple(image_size):
            upscaled = torch.nn.functional.interpolate(upscaled, image_size, mode="bilinear", align_corners=False)
        return [mask[0].cpu().numpy() for mask in upscaled > self.sam.mask_threshold]
