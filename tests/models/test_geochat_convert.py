"""scripts/convert_geochat.py on a tiny GeoChat-shaped checkpoint (keys as LLaVA/GeoChat
name them): the converted LlavaForConditionalGeneration gives the logits of a forward
pass on the original layout (CLIP hidden_states[-2] patches -> mlp2x_gelu projector ->
spliced into Llama's input embeddings)."""
from __future__ import annotations

import importlib.util
import json
import os

import pytest
import torch
from safetensors.torch import save_file

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HIDDEN = 32


def load_converter():
    spec = importlib.util.spec_from_file_location("convert_geochat", os.path.join(REPO_ROOT, "scripts",
                                                                                "convert_geochat.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_clip(image_size: int):
    from transformers import CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(image_size)
    return CLIPVisionModel(CLIPVisionConfig(hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=3,
                                            num_attention_heads=2, image_size=image_size, patch_size=14)).eval()


@pytest.fixture(scope="module")
def geochat(tmp_path_factory, char_tokenizer_factory):
    """A GeoChat-shaped folder: Llama + mm_projector + (optionally) the 504 px vision tower
    under LLaVA's names, GeoChat's config.json keys, a tokenizer; plus the parts as modules."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer, vocab = char_tokenizer_factory("<s>", "</s>", "<pad>", 2048)
    torch.manual_seed(0)
    text_config = dict(vocab_size=len(vocab), hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048, rms_norm_eps=1e-5)
    llama = LlamaForCausalLM(LlamaConfig(**text_config)).eval()
    projector = torch.nn.Sequential(torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.GELU(), torch.nn.Linear(HIDDEN, HIDDEN))
    clip336, clip504 = tiny_clip(336), tiny_clip(504)
    clip_dir = tmp_path_factory.mktemp("clip-336")
    clip336.save_pretrained(clip_dir)

    state = {k: v for k, v in llama.state_dict().items()}
    state.update({f"model.mm_projector.{k}": v for k, v in projector.state_dict().items()})
    # transformers 5 names CLIPVisionModel weights without the "vision_model." that GeoChat's have.
    with_tower = {**state, **{f"model.vision_tower.vision_tower.vision_model.{k.removeprefix('vision_model.')}": v
                              for k, v in clip504.state_dict().items()}}
    folders = {}
    for name, weights in (("with-tower", with_tower), ("without-tower", state)):
        folder = tmp_path_factory.mktemp(f"geochat-{name}")
        save_file({k: v.contiguous() for k, v in weights.items()}, folder / "model.safetensors")
        config = {**text_config, "architectures": ["GeoChatLlamaForCausalLM"], "model_type": "geochat",
                  "mm_vision_tower": str(clip_dir), "mm_hidden_size": HIDDEN, "mm_projector_type": "mlp2x_gelu",
                  "mm_vision_select_layer": -2, "mm_vision_select_feature": "patch"}
        (folder / "config.json").write_text(json.dumps(config))
        tokenizer.save_pretrained(folder)
        folders[name] = str(folder)
    return {"folders": folders, "clip_dir": str(clip_dir), "llama": llama, "projector": projector,
            "clip504": clip504, "clip336": clip336, "tokenizer": tokenizer}


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


def test_converted_llava_equals_the_original_forward(geochat, tmp_path):
    converter = load_converter()
    destination = str(tmp_path / "llava")
    converter.convert(geochat["folders"]["with-tower"], destination)
    torch.manual_seed(1)
    pixels = torch.randn(1, 3, 504, 504)
    tok = geochat["tokenizer"]
    before = torch.tensor([tok("a chat. user: ")["input_ids"]])
    after = torch.tensor([tok(" where are the planes? assistant:")["input_ids"]])
    expected = reference_logits(geochat, geochat["clip504"], pixels, before, after)
    got = converted_logits(destination, pixels, before, after)
    assert got.shape[1] == expected.shape[1] and got.shape[2] == expected.shape[2] + 1  # + the <image> token
    torch.testing.assert_close(got[..., :-1], expected, rtol=1e-4, atol=1e-4)


def test_vision_tower_from_clip_336_is_interpolated_like_geochat(geochat, tmp_path):
    """Without vision weights in the checkpoint, --vision-tower supplies CLIP-L/336 and its
    24 x 24 position grid is resized to 36 x 36 (bicubic, corners aligned, class token kept)."""
    from safetensors.torch import load_file

    converter = load_converter()
    destination = str(tmp_path / "llava")
    converter.convert(geochat["folders"]["without-tower"], destination, vision_tower=geochat["clip_dir"])
    old = geochat["clip336"].state_dict()["embeddings.position_embedding.weight"]
    new = load_file(os.path.join(destination, "model.safetensors"))[
        "model.vision_tower.embeddings.position_embedding.weight"]
    assert new.shape == (36 * 36 + 1, HIDDEN)
    torch.testing.assert_close(new[0], old[0])
    old_grid, new_grid = old[1:].reshape(24, 24, HIDDEN), new[1:].reshape(36, 36, HIDDEN)
    for (r, c), (R, C) in (((0, 0), (0, 0)), ((0, 23), (0, 35)), ((23, 0), (35, 0)), ((23, 23), (35, 35))):
        torch.testing.assert_close(new_grid[R, C], old_grid[r, c], rtol=1e-5, atol=1e-5)  # aligned corners
    # The rest of the tower is the CLIP's own, and the model runs.
    torch.testing.assert_close(load_file(os.path.join(destination, "model.safetensors"))[
        "model.vision_tower.embeddings.patch_embedding.weight"],
        geochat["clip336"].state_dict()["embeddings.patch_embedding.weight"])
    pixels = torch.randn(1, 3, 504, 504)
    assert converted_logits(destination, pixels, torch.tensor([[2]]), torch.tensor([[5]])).isfinite().all()


def test_processor_expands_the_image_token(geochat, tmp_path):
    import numpy as np
    from transformers import AutoProcessor

    converter = load_converter()
    destination = str(tmp_path / "llava")
    converter.convert(geochat["folders"]["with-tower"], destination)
    processor = AutoProcessor.from_pretrained(destination)
    image = np.zeros((300, 400, 3), np.uint8)
    inputs = processor(images=image, text="user: <image>\nhow many planes? assistant:", return_tensors="pt")
    assert inputs["pixel_values"].shape == (1, 3, 504, 504)
    image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
    assert int((inputs["input_ids"] == image_token).sum()) == 36 * 36


def test_missing_vision_tower_is_explained(geochat, tmp_path):
    converter = load_converter()
    state = {"model.embed_tokens.weight": torch.zeros(4, HIDDEN)}
    with pytest.raises(SystemExit, match="--vision-tower"):
        converter.convert_state_dict(state)
