"""Convert a GeoChat checkpoint (a LLaVA-1.5 fork) into transformers' Llava layout.

    .venv/bin/python scripts/convert_geochat.py /models/geochat-7B /models/geochat-7B-llava \
        [--vision-tower /models/clip-vit-large-patch14-336]

GeoChat is published as LLaVA's `LlavaLlamaForCausalLM`, which transformers cannot load.
This writes a folder that `LlavaForConditionalGeneration` and `AutoProcessor` load:
- the Llama weights and the `mlp2x_gelu` projector renamed to transformers' keys;
- the CLIP ViT-L/14 vision tower at 504 px: taken from the checkpoint when it holds one,
  else from `--vision-tower` (the CLIP-L/336 GeoChat was built on) with its position
  embeddings interpolated to 36 x 36 patches exactly as GeoChat does at load time
  (bicubic, align_corners=True, class token kept);
- the tokenizer with an `<image>` token added (its embedding rows are never used as such:
  Llava puts image features at those positions), and a processor at 504 px.
GeoVL's GeoChat adapter then adds the template, task prefixes and mean-colour padding.
Weights are read with safetensors or torch.load(weights_only=True) and written as safetensors.
"""
from __future__ import annotations

import argparse
import glob
import json
import math
import os

import torch

IMAGE_SIZE = 504          # GeoChat's vision input (CLIP-L/14-336 extended)
PATCH_SIZE = 14
IMAGE_TOKEN = "<image>"

_TEXT_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
              "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta", "hidden_act",
              "bos_token_id", "eos_token_id", "pad_token_id", "tie_word_embeddings")


def rename_key(key: str) -> str | None:
    """transformers' Llava name of a GeoChat (LLaVA) weight; None for what Llava does not keep."""
    if key.endswith("position_ids"):
        return None
    for old, new in (("model.vision_tower.vision_tower.vision_model.", "model.vision_tower."),
                     ("model.mm_projector.0.", "model.multi_modal_projector.linear_1."),
                     ("model.mm_projector.2.", "model.multi_modal_projector.linear_2."),
                     ("model.", "model.language_model."),
                     ("lm_head.", "lm_head.")):
        if key.startswith(old):
            return new + key[len(old):]
    return None


def interpolate_positions(weight: torch.Tensor, image_size: int = IMAGE_SIZE, patch_size: int = PATCH_SIZE) -> torch.Tensor:
    """CLIP position embeddings (1 + n*n, d) resized to the patch grid of `image_size`,
    the way GeoChat's CLIPVisionTower.clip_interpolate_embeddings does."""
    side, new_side = math.isqrt(weight.shape[0] - 1), image_size // patch_size
    if side == new_side:
        return weight
    grid = weight[1:].T.reshape(1, weight.shape[1], side, side)
    grid = torch.nn.functional.interpolate(grid.float(), size=new_side, mode="bicubic", align_corners=True)
    return torch.cat([weight[:1], grid.reshape(weight.shape[1], -1).T.to(weight.dtype)])


def convert_state_dict(state: dict[str, torch.Tensor], vision_state: dict[str, torch.Tensor] | None = None,
                       extra_tokens: int = 1) -> dict[str, torch.Tensor]:
    """Llava weights from GeoChat's; `vision_state` (a CLIPVisionModel state dict) supplies
    the vision tower when the checkpoint has none. The embedding and output matrices grow
    by `extra_tokens` rows (the added `<image>` token), initialised to their mean."""
    converted = {new: value for key, value in state.items() if (new := rename_key(key))}
    if not any(k.startswith("model.vision_tower.") for k in converted):
        if vision_state is None:
            raise SystemExit("The checkpoint holds no vision tower: give the CLIP it was built on with "
                             "--vision-tower (openai/clip-vit-large-patch14-336).")
        # A CLIPModel checkpoint names its tower "vision_model.*"; a CLIPVisionModel saved by
        # transformers 5 has no prefix. The text tower and projections are not needed.
        converted.update({"model.vision_tower." + k.removeprefix("vision_model."): v for k, v in vision_state.items()
                          if not k.startswith(("text_model.", "visual_projection", "text_projection", "logit_scale"))
                          and not k.endswith("position_ids")})
    key = "model.vision_tower.embeddings.position_embedding.weight"
    converted[key] = interpolate_positions(converted[key])
    for key in ("model.language_model.embed_tokens.weight", "lm_head.weight"):
        if key in converted:
            matrix = converted[key]
            converted[key] = torch.cat([matrix, matrix.mean(0, keepdim=True).expand(extra_tokens, -1)])
    return converted


def llava_config(geochat: dict, vision: dict, image_token_index: int):
    """A LlavaConfig from GeoChat's config.json and the CLIP vision config (dicts)."""
    from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig

    text = LlamaConfig(**{k: geochat[k] for k in _TEXT_KEYS if k in geochat})
    text.vocab_size = image_token_index + 1
    vision = CLIPVisionConfig(**{**vision, "image_size": IMAGE_SIZE, "patch_size": PATCH_SIZE})
    return LlavaConfig(vision_config=vision.to_dict(), text_config=text.to_dict(), image_token_index=image_token_index,
                       projector_hidden_act="gelu", vision_feature_layer=geochat.get("mm_vision_select_layer", -2),
                       vision_feature_select_strategy="default",
                       image_seq_length=(IMAGE_SIZE // PATCH_SIZE) ** 2)


def read_weights(folder: str) -> dict[str, torch.Tensor]:
    """All tensors of a saved model folder (safetensors or .bin shards; no pickled code)."""
    from safetensors.torch import load_file

    state: dict[str, torch.Tensor] = {}
    files = sorted(glob.glob(os.path.join(folder, "*.safetensors"))) or sorted(glob.glob(os.path.join(folder, "*.bin")))
    if not files:
        raise SystemExit(f"No .safetensors or .bin weights in '{folder}'.")
    for path in files:
        state.update(load_file(path) if path.endswith(".safetensors")
                     else torch.load(path, map_location="cpu", weights_only=True))
    return state


def convert(source: str, destination: str, vision_tower: str | None = None) -> None:
    """Write the Llava folder: config, safetensors weights, tokenizer and processor."""
    from safetensors.torch import save_file
    from transformers import AutoTokenizer, CLIPImageProcessor, CLIPVisionConfig, LlavaProcessor

    with open(os.path.join(source, "config.json")) as f:
        geochat = json.load(f)
    tokenizer = AutoTokenizer.from_pretrained(source)
    tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    image_token_index = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    # The vision config comes from the CLIP GeoChat names (a local copy with --vision-tower offline).
    vision = CLIPVisionConfig.from_pretrained(vision_tower or geochat["mm_vision_tower"]).to_dict()
    vision_state = read_weights(vision_tower) if vision_tower else None
    state = convert_state_dict(read_weights(source), vision_state, image_token_index + 1 - geochat["vocab_size"])
    os.makedirs(destination, exist_ok=True)
    llava_config(geochat, vision, image_token_index).save_pretrained(destination)
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(destination, "model.safetensors"),
              metadata={"format": "pt"})
    image_processor = CLIPImageProcessor(size={"shortest_edge": IMAGE_SIZE},
                                         crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=PATCH_SIZE,
                   vision_feature_select_strategy="default", image_token=IMAGE_TOKEN,
                   num_additional_image_tokens=1).save_pretrained(destination)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="GeoChat folder (config.json, weights, tokenizer)")
    parser.add_argument("destination", help="folder to write the Llava model to")
    parser.add_argument("--vision-tower", help="CLIP ViT-L/14-336 folder, when the checkpoint has no vision weights")
    args = parser.parse_args()
    convert(args.source, args.destination, args.vision_tower)
    print(f"Wrote {args.destination}: load it with MODEL={args.destination}")


if __name__ == "__main__":
    main()
