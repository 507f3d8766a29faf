"""transformers' Segment Anything models as PromptSegmenters: SamModel and Sam2Model take
points, boxes and dense mask prompts; Sam3Model takes text (every instance of a concept).

Each family's own processor does the preprocessing, the prompt coordinate transforms and
the mask post-processing, so masks equal those of the documented
`model(**processor(...))` + `processor.post_process_*` path.
"""
from __future__ import annotations

from abc import abstractmethod

import numpy as np
import torch
import transformers

from ..errors import ModelError
from . import checkpoints
from .base import Embedding, PromptSegmenter, SegmentPrompt, Segmentation


def load_transformers_segmenter(name: str, source: str, from_hub: bool, device: torch.device,
                                dtype: torch.dtype) -> PromptSegmenter:
    """The segmenter for a transformers SAM / SAM2 / SAM3 folder or hub id (`source`)."""
    def load(loader, **kwargs):
        return checkpoints.load_pretrained(loader, source, name, from_hub, **kwargs)

    model_type = load(transformers.AutoConfig).model_type
    family = SEGMENTER_TYPES.get(model_type)
    if family is None:
        raise ModelError(
            f"'{name}' is a '{model_type}' model, not a Segment Anything model. Segmentation needs a SAM, SAM 2 "
            f"or SAM3 model ({', '.join(SEGMENTER_TYPES)}), e.g. the preset sam-vit-b.")
    # Loaded in fp32: only the image encoder is cast to `dtype` (see TransformersSegmenter).
    model = load(getattr(transformers, family.model_class), dtype=torch.float32)
    processor = load(getattr(transformers, family.processor_class))
    return family(name, model, processor, device, dtype)


class TransformersSegmenter(PromptSegmenter):
    """What the families share: loading onto the device, and encoding a tile with the
    processor's preprocessing. The image encoder runs in `dtype`; prompts and masks are
    decoded in fp32 (cheap next to the encoder, and mask edges are where reduced precision
    shows), so decode casts the cached embedding up."""

    family: str           # for messages
    model_class: str      # transformers class names
    processor_class: str

    def __init__(self, name: str, model, processor, device: torch.device, dtype: torch.dtype):
        self.name, self.device, self.dtype = name, device, dtype
        self.model = model.to(device).eval()
        for module in self._encoder_modules():
            module.to(dtype)
        self.processor = processor
        self.input_size = int(processor.target_size)

    def _encoder_modules(self) -> list[torch.nn.Module]:
        """The modules encode runs (cast to `dtype`)."""
        return [self.model.vision_encoder]

    @torch.inference_mode()
    def encode(self, image: np.ndarray) -> Embedding:
        # channels_last: a tile 3 px high would otherwise pass for channels-first.
        inputs = self.processor(images=image, input_data_format="channels_last", return_tensors="pt")
        # contiguous: safetensors (the embedding cache) stores only packed tensors.
        return {key: value.cpu().contiguous() for key, value in self._embed(inputs).items()}

    @abstractmethod
    def _embed(self, inputs) -> Embedding:
        """The processor's output for one tile -> its embedding."""

    def decode_text(self, embedding: Embedding, image_size: tuple[int, int], text: str) -> list[Segmentation]:
        raise ModelError(f"'{self.name}' is a {self.family} model: it cannot take text prompts. Use a SAM3 model "
                         "(e.g. the preset sam3) for text prompts, or give point or box prompts.")


class TransformersSamSegmenter(TransformersSegmenter):
    """SamModel. Embedding: image_embeddings (1, C, 64, 64) for a 1024 px encoder, and
    reshaped_input_size (h, w), the tile's size inside the encoder's padded square."""

    family = "SAM"
    model_class = "SamModel"
    processor_class = "SamProcessor"

    def _embed(self, inputs) -> Embedding:
        pixels = inputs["pixel_values"].to(self.device, self.dtype)
        return {"image_embeddings": self.model.get_image_embeddings(pixels),
                "reshaped_input_size": inputs["reshaped_input_sizes"][0]}

    def _image_embeddings(self, embedding: Embedding):
        return embedding["image_embeddings"].to(self.device, torch.float32)

    def _prompt_tensors(self, image_size: tuple[int, int], points, labels, boxes) -> dict[str, torch.Tensor]:
        # SamProcessor converts prompts only together with an image; these are the steps its
        # __call__ runs on them once the image is done.
        points, labels, boxes = self.processor._check_and_preprocess_points(points, labels, boxes)
        return dict(self.processor._normalize_and_convert(
            {}, [image_size], input_points=points, input_labels=labels, input_boxes=boxes, return_tensors="pt"))

    def _upscale(self, low_res: torch.Tensor, embedding: Embedding, image_size: tuple[int, int]) -> torch.Tensor:
        reshaped = embedding["reshaped_input_size"].tolist()
        return self.processor.post_process_masks(low_res, [image_size], [reshaped])[0]

    @torch.inference_mode()
    def decode(self, embedding: Embedding, image_size: tuple[int, int], prompt: SegmentPrompt,
               multimask: bool = False) -> Segmentation:
        # The processors' nesting: [image [object [point (x, y)]]], [image [object [label]]], [image [box]].
        has_points = len(prompt.points) > 0
        inputs = self._prompt_tensors(
            image_size,
            [[np.asarray(prompt.points).tolist()]] if has_points else None,
            [[np.asarray(prompt.labels).tolist()]] if has_points else None,
            [[np.asarray(prompt.box).tolist()]] if prompt.box is not None else None)
        if prompt.mask_logits is not None:
            logits = torch.as_tensor(prompt.mask_logits, dtype=torch.float32)
            inputs["input_masks"] = logits.reshape(1, 1, *logits.shape[-2:])
        # float32: SamProcessor gives float64 points, which Apple's MPS cannot hold.
        inputs = {key: value.to(self.device, torch.float32 if value.is_floating_point() else value.dtype)
                  for key, value in inputs.items()}
        outputs = self.model(image_embeddings=self._image_embeddings(embedding), multimask_output=multimask,
                             **inputs)
        scores = outputs.iou_scores[0, 0]  # the one object's candidate masks
        best = int(scores.argmax())
        low_res = outputs.pred_masks[:, :, best:best + 1]
        mask = self._upscale(low_res, embedding, image_size)
        return Segmentation(mask[0, 0].cpu().numpy(), float(scores[best]), low_res[0, 0, 0].cpu().numpy())


class TransformersSam2Segmenter(TransformersSamSegmenter):
    """Sam2Model (also from SAM 2 video checkpoints, model_type sam2_video). Embedding: the
    mask decoder's three feature levels, image_embeddings.0 (1, C/8, 256, 256),
    image_embeddings.1 (1, C/4, 128, 128) and image_embeddings.2 (1, C, 64, 64) for a
    1024 px encoder."""

    family = "SAM 2"
    model_class = "Sam2Model"
    processor_class = "Sam2Processor"

    def _encoder_modules(self) -> list[torch.nn.Module]:
        # get_image_embeddings also runs the mask decoder's projections of the high-res levels.
        return [self.model.vision_encoder, self.model.mask_decoder.conv_s0, self.model.mask_decoder.conv_s1]

    def _embed(self, inputs) -> Embedding:
        levels = self.model.get_image_embeddings(inputs["pixel_values"].to(self.device, self.dtype))
        # The last level gains the fp32 no-memory embedding; the cache keeps the encoder's dtype.
        return {f"image_embeddings.{i}": level.to(self.dtype) for i, level in enumerate(levels)}

    def _image_embeddings(self, embedding: Embedding):
        return [embedding[f"image_embeddings.{i}"].to(self.device, torch.float32) for i in range(len(embedding))]

    def _prompt_tensors(self, image_size: tuple[int, int], points, labels, boxes) -> dict[str, torch.Tensor]:
        inputs = self.processor(original_sizes=[list(image_size)], input_points=points, input_labels=labels,
                                input_boxes=boxes, return_tensors="pt")
        return {key: value for key, value in inputs.items() if key != "original_sizes"}

    def _upscale(self, low_res: torch.Tensor, embedding: Embedding, image_size: tuple[int, int]) -> torch.Tensor:
        return self.processor.post_process_masks(low_res, [image_size])[0]


class TransformersSam3Segmenter(TransformersSegmenter):
    """Sam3Model (also from SAM3 video checkpoints, model_type sam3_video): promptable
    concept segmentation, every instance of a text prompt. Embedding: backbone_features
    (1, 1024, 72, 72) for a 1008 px encoder, the ViT's patch grid before the FPN neck.

    The neck's four levels would be what Sam3Model takes as vision_embeds, but they are
    five times larger (113 MB per tile in fp32, against 21 MB), and rerunning the neck per
    text prompt costs about 4% of the ViT's arithmetic."""

    family = "SAM3"
    model_class = "Sam3Model"
    processor_class = "Sam3Processor"
    takes_text = True
    takes_points = False

    def _encoder_modules(self) -> list[torch.nn.Module]:
        return [self.model.vision_encoder.backbone]

    def _embed(self, inputs) -> Embedding:
        # Sam3VisionModel's steps up to its neck: the ViT, and its tokens laid out on the patch grid.
        pixels = inputs["pixel_values"].to(self.device, self.dtype)
        tokens = self.model.vision_encoder.backbone(pixels).last_hidden_state
        patch_size = self.model.config.vision_config.backbone_config.patch_size
        height, width = (side // patch_size for side in pixels.shape[-2:])
        return {"backbone_features": tokens.view(1, height, width, -1).permute(0, 3, 1, 2)}

    def decode(self, embedding: Embedding, image_size: tuple[int, int], prompt: SegmentPrompt,
               multimask: bool = False) -> Segmentation:
        raise ModelError(f"'{self.name}' is a SAM3 concept model: it takes text prompts, not points or boxes. "
                         "Give a text prompt, or use a SAM or SAM 2 model for point and box prompts.")

    @torch.inference_mode()
    def decode_text(self, embedding: Embedding, image_size: tuple[int, int], text: str) -> list[Segmentation]:
        from transformers.models.sam3.modeling_sam3 import Sam3VisionEncoderOutput

        features = embedding["backbone_features"].to(self.device, torch.float32)
        levels, position_encodings = self.model.vision_encoder.neck(features)
        vision_embeds = Sam3VisionEncoderOutput(fpn_hidden_states=levels, fpn_position_encoding=position_encodings)
        text_inputs = self.processor(text=text, return_tensors="pt").to(self.device)
        outputs = self.model(vision_embeds=vision_embeds, **text_inputs)
        found = self.processor.post_process_instance_segmentation(outputs, target_sizes=[image_size])[0]
        # The processor keeps the queries whose score (class x presence probability, as
        # Sam3ImageSegmentationOutput documents it) passes its threshold, in query order, but
        # does not say which they are; their scores do, so each instance keeps its low-res logits.
        scores = outputs.pred_logits[0].sigmoid() * outputs.presence_logits[0].sigmoid()
        queries = torch.isin(scores, found["scores"]).nonzero()[:, 0]
        return [Segmentation(mask.bool().cpu().numpy(), float(score), outputs.pred_masks[0, query].cpu().numpy())
                for mask, score, query in zip(found["masks"], found["scores"], queries)]


# model_type in config.json -> family. The hub's SAM 2 and SAM3 checkpoints are saved as
# their video models (sam2_video, sam3_video), which hold the image model's weights.
SEGMENTER_TYPES = {
    "sam": TransformersSamSegmenter,
    "sam2": TransformersSam2Segmenter,
    "sam2_video": TransformersSam2Segmenter,
    "sam3": TransformersSam3Segmenter,
    "sam3_video": TransformersSam3Segmenter,
}
