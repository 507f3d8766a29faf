"""scripts/convert_geochat.py on a tiny GeoChat-shaped checkpoint (keys as LLaVA/GeoChat
name them, built by the tiny_geochat fixture): the converted LlavaForConditionalGeneration
gives the logits of a forward pass on the original layout (CLIP hidden_states[-2] patches ->
mlp2x_gelu projector -> spliced into Llama's input embeddings)."""
from __future__ import annotations

import os

import pytest
import torch


def reference_logits(geochat, clip, pixels, before, after):
    """LLaVA's forward on the original layout, written out."""
    with torch.no_grad():
        patches = clip(pixels, output_hidden_states=True).hidden_states[-2][:, 1:]
        image = geochat["projector"](patches)
        embed = geochat["llama"].model.embed_tokens
        inputs = torch.cat([embed(before), image, embed(after)], dim=1)
        return geochat["llama"](inputs_embeds=inputs).logits


def converted_logits(folder, pixels, before, after):
    from transformers import LlavaForConditionalGeneration

    model = LlavaForConditionalGeneration.from_pretrained(folder).eval()
    image_ids = torch.full((1, 36 * 36), model.config.image_token_index)
    with torch.no_grad():
        return model(input_ids=torch.cat([before, image_ids, after], dim=1), pixel_values=pixels).logits


def test_converted_llava_equals_the_original_forward(tiny_geochat, geochat_converter, tmp_path):
    destination = str(tmp_path / "llava")
    geochat_converter.convert(tiny_geochat["folders"]["with-tower"], destination)
    torch.manual_seed(1)
    pixels = torch.randn(1, 3, 504, 504)
    tok = tiny_geochat["tokenizer"]
    before = torch.tensor([tok("a chat. user: ")["input_ids"]])
    after = torch.tensor([tok(" where are the planes? assistant:")["input_ids"]])
    expected = reference_logits(tiny_geochat, tiny_geochat["clip504"], pixels, before, after)
    got = converted_logits(destination, pixels, before, after)
    assert got.shape[1] == expected.shape[1] and got.shape[2] == expected.shape[2] + 1  # + the <image> token
    torch.testing.assert_close(got[..., :-1], expected, rtol=1e-4, atol=1e-4)


def test_vision_tower_from_clip_336_is_interpolated_like_geochat(tiny_geochat, geochat_converter, tmp_path):
    """Without vision weights in the checkpoint, --vision-tower supplies CLIP-L/336 and its
    24 x 24 position grid is resized to 36 x 36 (bicubic, corners aligned, class token kept)."""
    from safetensors.torch import load_file

    destination = str(tmp_path / "llava")
    geochat_converter.convert(tiny_geochat["folders"]["without-tower"], destination,
                              vision_tower=tiny_geochat["clip_dir"])
    old = tiny_geochat["clip336"].state_dict()["embeddings.position_embedding.weight"]
    new = load_file(os.path.join(destination, "model.safetensors"))[
        "model.vision_tower.embeddings.position_embedding.weight"]
    width = old.shape[1]
    assert new.shape == (36 * 36 + 1, width)
    torch.testing.assert_close(new[0], old[0])
    old_grid, new_grid = old[1:].reshape(24, 24, width), new[1:].reshape(36, 36, width)
    for (r, c), (R, C) in (((0, 0), (0, 0)), ((0, 23), (0, 35)), ((23, 0), (35, 0)), ((23, 23), (35, 35))):
        torch.testing.assert_close(new_grid[R, C], old_grid[r, c], rtol=1e-5, atol=1e-5)  # aligned corners
    # The rest of the tower is the CLIP's own, and the model runs.
    torch.testing.assert_close(load_file(os.path.join(destination, "model.safetensors"))[
        "model.vision_tower.embeddings.patch_embedding.weight"],
        tiny_geochat["clip336"].state_dict()["embeddings.patch_embedding.weight"])
    pixels = torch.randn(1, 3, 504, 504)
    assert converted_logits(destination, pixels, torch.tensor([[2]]), torch.tensor([[5]])).isfinite().all()


def test_processor_expands_the_image_token(tiny_geochat_llava_dir):
    import numpy as np
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_geochat_llava_dir)
    image = np.zeros((300, 400, 3), np.uint8)
    inputs = processor(images=image, text="user: <image>\nhow many planes? assistant:", return_tensors="pt")
    assert inputs["pixel_values"].shape == (1, 3, 504, 504)
    image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
    assert int((inputs["input_ids"] == image_token).sum()) == 36 * 36


def test_missing_vision_tower_is_explained(geochat_converter):
    state = {"model.embed_tokens.weight": torch.zeros(4, 32)}
    with pytest.raises(SystemExit, match="--vision-tower"):
        geochat_converter.convert_state_dict(state)
