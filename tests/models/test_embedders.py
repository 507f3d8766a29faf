"""Image-text embedders loaded through the public resolver, checked against each family's
own processor and model (loaded independently from the same files) and hand computations."""
from __future__ import annotations

import os
import shutil
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from geovl.errors import InputError, ModelError
from geovl.models import resolver
from geovl.models.resolver import load_embedder

from .conftest import scene

CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711])
TEXTS = ["a road", "many buildings near a river", "a very long query " * 8]


@pytest.fixture(scope="module")
def clip(tiny_clip_dir):
    return load_embedder(tiny_clip_dir, "cpu", "fp32")


@pytest.fixture(scope="module")
def siglip(tiny_siglip_dir):
    return load_embedder(tiny_siglip_dir, "cpu", "fp32")


@pytest.fixture(scope="module")
def openclip(tiny_open_clip_ckpt):
    return load_embedder(tiny_open_clip_ckpt, "cpu", "fp32")


@pytest.fixture(scope="module")
def openclip_reference(tiny_open_clip_ckpt):
    """open_clip's own model and eval transform, with the checkpoint's weights."""
    import open_clip
    model, _, transform = open_clip.create_model_and_transforms("tiny-ViT-16")
    model.load_state_dict(torch.load(tiny_open_clip_ckpt, weights_only=True))
    return model.eval(), transform, open_clip.get_tokenizer("tiny-ViT-16")


def unit(features) -> np.ndarray:
    if not isinstance(features, torch.Tensor):
        features = features.pooler_output
    features = features.detach().float().numpy().astype(np.float64)
    return features / np.linalg.norm(features, axis=1, keepdims=True)


def images() -> list[np.ndarray]:
    return [scene(64, 64, 1), scene(100, 80, 2), scene(64, 64, 3)]


# ---------------------------------------------------------------- loading

def test_loads_clip_folder(clip):
    """A save_pretrained CLIP folder loads as a 64 px CLIP embedder on the CPU in fp32."""
    assert clip.model_type == "clip" and clip.input_size == 64
    assert clip.device.type == "cpu" and clip.dtype == torch.float32
    assert next(clip.model.parameters()).dtype == torch.float32


def test_loads_siglip_folder(siglip):
    """A save_pretrained SigLIP folder loads as a SigLIP embedder with its text length."""
    assert siglip.model_type == "siglip" and siglip.input_size == 64 and siglip.max_text_tokens == 16


def test_open_clip_arch_inferred_from_shapes(openclip):
    """A bare open_clip state dict file is recognised as the registered 'tiny-ViT-16'."""
    assert openclip.arch == "tiny-ViT-16" and openclip.input_size == 64


# ---------------------------------------------------------------- preprocessing parity

@pytest.mark.parametrize("shape", [(64, 64), (100, 80), (37, 150)])
def test_clip_preprocess_matches_clip_image_processor(clip, tiny_clip_dir, shape):
    """CLIP pixels equal CLIP's own (PIL) image processor's (resize shortest edge + centre crop included)."""
    from transformers import CLIPImageProcessorPil
    image = scene(*shape)
    reference = CLIPImageProcessorPil.from_pretrained(tiny_clip_dir)(images=[image], return_tensors="pt")
    ours = clip.preprocess([image])
    assert ours.dtype == torch.float32 and ours.shape == (1, 3, 64, 64)
    torch.testing.assert_close(ours, reference["pixel_values"].float(), atol=1e-6, rtol=0)


def test_clip_preprocess_by_hand(clip):
    """A 64 px tile is only rescaled and normalised with CLIP's mean/std, channels first."""
    image = scene(64, 64, 5)
    expected = ((image / 255.0 - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)
    np.testing.assert_allclose(clip.preprocess([image])[0].numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("shape", [(64, 64), (100, 80)])
def test_siglip_preprocess_matches_siglip_image_processor(siglip, tiny_siglip_dir, shape):
    """SigLIP pixels equal SigLIP's own (PIL) image processor's (squash-resize to 64 x 64)."""
    from transformers import SiglipImageProcessorPil
    image = scene(*shape)
    reference = SiglipImageProcessorPil.from_pretrained(tiny_siglip_dir)(images=[image], return_tensors="pt")
    torch.testing.assert_close(siglip.preprocess([image]), reference["pixel_values"].float(), atol=1e-6, rtol=0)


def test_siglip_preprocess_by_hand(siglip):
    """A 64 px tile becomes (x / 255 - 0.5) / 0.5, channels first."""
    image = scene(64, 64, 6)
    expected = ((image / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    np.testing.assert_allclose(siglip.preprocess([image])[0].numpy(), expected, atol=1e-5)


@pytest.mark.parametrize("shape", [(64, 64), (100, 80)])
def test_open_clip_preprocess_matches_open_clip_transform(openclip, openclip_reference, shape):
    """open_clip pixels equal open_clip's eval transform applied to a PIL image."""
    image = scene(*shape)
    reference = openclip_reference[1](Image.fromarray(image)).unsqueeze(0)
    torch.testing.assert_close(openclip.preprocess([image]), reference, atol=1e-6, rtol=0)


def test_open_clip_preprocess_by_hand(openclip):
    """A 64 px tile is only rescaled and normalised with OpenAI CLIP's mean/std."""
    image = scene(64, 64, 7)
    expected = ((image / 255.0 - CLIP_MEAN) / CLIP_STD).transpose(2, 0, 1)
    np.testing.assert_allclose(openclip.preprocess([image])[0].numpy(), expected, atol=1e-5)


# ---------------------------------------------------------------- embedding parity

def test_clip_embeddings_match_clip_model(clip, tiny_clip_dir):
    """embed_images / embed_texts equal CLIPModel's normalised image and text features."""
    from transformers import AutoTokenizer, CLIPImageProcessorPil, CLIPModel
    model = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    pixels = CLIPImageProcessorPil.from_pretrained(tiny_clip_dir)(images=images(), return_tensors="pt")["pixel_values"]
    tokens = AutoTokenizer.from_pretrained(tiny_clip_dir)(TEXTS, padding=True, truncation=True, max_length=32,
                                                          return_tensors="pt")
    with torch.no_grad():
        image_ref = unit(model.get_image_features(pixel_values=pixels))
        text_ref = unit(model.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]))
    ours_images, ours_texts = clip.embed_images(images()), clip.embed_texts(TEXTS)
    assert ours_images.dtype == np.float32 and ours_images.shape == (3, 16)
    np.testing.assert_allclose(ours_images, image_ref, atol=1e-5)
    np.testing.assert_allclose(ours_texts, text_ref, atol=1e-5)


def test_siglip_embeddings_match_siglip_model(siglip, tiny_siglip_dir):
    """SigLIP texts are padded to max_position_embeddings with no attention mask, as trained."""
    from transformers import AutoTokenizer, SiglipImageProcessorPil, SiglipModel
    model = SiglipModel.from_pretrained(tiny_siglip_dir).eval()
    length = model.config.text_config.max_position_embeddings
    tokenizer = AutoTokenizer.from_pretrained(tiny_siglip_dir)
    pixels = SiglipImageProcessorPil.from_pretrained(tiny_siglip_dir)(images=images(), return_tensors="pt")["pixel_values"]
    ids = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=length, return_tensors="pt")["input_ids"]
    shortest = tokenizer(TEXTS[:1], padding=True, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        image_ref = unit(model.get_image_features(pixel_values=pixels))
        text_ref = unit(model.get_text_features(input_ids=ids))
        unpadded = unit(model.get_text_features(input_ids=shortest))
    np.testing.assert_allclose(siglip.embed_images(images()), image_ref, atol=1e-5)
    np.testing.assert_allclose(siglip.embed_texts(TEXTS), text_ref, atol=1e-5)
    alone = siglip.embed_texts(TEXTS[:1])[0]  # a short text on its own is still padded to the full length
    np.testing.assert_allclose(alone, text_ref[0], atol=1e-5)
    assert not np.allclose(alone, unpadded[0], atol=1e-3)  # the padding is what makes them equal


def test_open_clip_embeddings_match_open_clip_model(openclip, openclip_reference):
    """embed_images / embed_texts equal open_clip's encode_image / encode_text, normalised."""
    model, transform, tokenizer = openclip_reference
    pixels = torch.stack([transform(Image.fromarray(im)) for im in images()])
    with torch.no_grad():
        image_ref = unit(model.encode_image(pixels))
        text_ref = unit(model.encode_text(tokenizer(TEXTS)))
    np.testing.assert_allclose(openclip.embed_images(images()), image_ref, atol=1e-5)
    np.testing.assert_allclose(openclip.embed_texts(TEXTS), text_ref, atol=1e-5)


# ---------------------------------------------------------------- precision and device

@pytest.mark.parametrize("family", ["clip", "siglip", "openclip"])
def test_bf16_embeddings_close_to_fp32(family, request, tiny_clip_dir, tiny_siglip_dir, tiny_open_clip_ckpt):
    """bf16 on the CPU gives image and text embeddings within cosine 0.99 of fp32."""
    spec = {"clip": tiny_clip_dir, "siglip": tiny_siglip_dir, "openclip": tiny_open_clip_ckpt}[family]
    fp32, bf16 = load_embedder(spec, "cpu", "fp32"), load_embedder(spec, "cpu", "bf16")
    assert bf16 is not fp32 and bf16.dtype == torch.bfloat16
    tiles = [scene(64, 64, s) for s in range(4)]
    for a, b in ((fp32.embed_images(tiles), bf16.embed_images(tiles)), (fp32.embed_texts(TEXTS), bf16.embed_texts(TEXTS))):
        assert b.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
        assert (np.sum(a * b, axis=1) >= 0.99).all()


def test_fp16_on_cpu_is_an_input_error(tiny_clip_dir):
    """fp16 on the CPU is refused with a message naming the alternatives."""
    with pytest.raises(InputError, match="fp16.*CPU"):
        load_embedder(tiny_clip_dir, "cpu", "fp16")


@pytest.mark.parametrize("device, precision, message", [("tpu", "fp32", "Unknown device 'tpu'"),
                                                         ("cpu", "fp8", "Unknown precision 'fp8'")])
def test_unknown_device_or_precision_is_an_input_error(tiny_clip_dir, device, precision, message):
    """Unknown device / precision names raise InputError naming the bad value."""
    with pytest.raises(InputError, match=message):
        load_embedder(tiny_clip_dir, device, precision)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_gpu_is_an_input_error(tiny_clip_dir):
    """Asking for CUDA where PyTorch sees no GPU raises InputError."""
    with pytest.raises(InputError, match="cuda"):
        load_embedder(tiny_clip_dir, "cuda", "fp32")


# ---------------------------------------------------------------- resolver errors

@pytest.mark.parametrize("spec", ["clip-rsicdd", "/nonexistent/model.pt", "~/nonexistent-geovl-model.pt"])
def test_unknown_name_or_missing_path(spec):
    """A misspelt preset or a missing path gives the 'Unknown model' message listing presets."""
    with pytest.raises(ModelError) as err:
        load_embedder(spec, "cpu", "fp32")
    message = str(err.value)
    assert message.startswith(f"Unknown model '{spec}'") and "clip-rsicd" in message and "path" in message


@pytest.mark.parametrize("how", ["random.pt", "random.safetensors", "truncated.pt"])
def test_corrupt_checkpoint(tmp_path, tiny_open_clip_ckpt, how):
    """Random bytes or a truncated download say the file is corrupt or incomplete."""
    path = tmp_path / f"x-{how}"
    if how.startswith("random"):
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    else:
        data = open(tiny_open_clip_ckpt, "rb").read()
        path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="incomplete or corrupt") as err:
        load_embedder(str(path), "cpu", "fp32")
    assert str(path) in str(err.value)


def test_wrong_checkpoint_suffix(tmp_path):
    """An existing file that is no checkpoint type is refused with the expected suffixes."""
    path = tmp_path / "model.txt"
    path.write_text("hello")
    with pytest.raises(ModelError, match=r"not a checkpoint file .*\.pt"):
        load_embedder(str(path), "cpu", "fp32")


def test_folder_without_config(tmp_path):
    """A folder with no config.json is not a saved transformers model."""
    (tmp_path / "weights.bin").write_bytes(b"\0" * 16)
    with pytest.raises(ModelError, match="no config.json"):
        load_embedder(str(tmp_path), "cpu", "fp32")


def _save_vit(path):
    from transformers import ViTConfig, ViTModel
    ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                       image_size=32, patch_size=16)).save_pretrained(path)


def _save_sam(path):
    from transformers import SamConfig, SamMaskDecoderConfig, SamModel, SamPromptEncoderConfig, SamVisionConfig
    vision = SamVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=256,
                             patch_size=16, output_channels=32, global_attn_indexes=[1], window_size=4, mlp_dim=64,
                             num_pos_feats=16)
    prompt = SamPromptEncoderConfig(hidden_size=32, image_size=256, patch_size=16, mask_input_channels=4)
    decoder = SamMaskDecoderConfig(hidden_size=32, mlp_dim=64, num_hidden_layers=2, num_attention_heads=2,
                                   iou_head_hidden_dim=32)
    SamModel(SamConfig(vision_config=vision, prompt_encoder_config=prompt, mask_decoder_config=decoder)).save_pretrained(path)


def _save_clip_vision(path, clip_dir):
    from transformers import CLIPVisionModel
    CLIPVisionModel.from_pretrained(clip_dir).save_pretrained(path)


@pytest.mark.parametrize("kind, model_type", [("vit", "vit"), ("sam", "sam"),
                                              ("clip_vision", "clip_vision_model")])
def test_not_an_image_text_embedder(tmp_path, tiny_clip_dir, kind, model_type):
    """A saved ViT, SAM or vision-only CLIP is refused as 'not an image-text embedder'."""
    path = tmp_path / kind
    {"vit": _save_vit, "sam": _save_sam}.get(kind, lambda p: _save_clip_vision(p, tiny_clip_dir))(path)
    with pytest.raises(ModelError, match="not an image-text embedder") as err:
        load_embedder(str(path), "cpu", "fp32")
    assert f"'{model_type}' model" in str(err.value)


def test_checkpoint_without_visual_tower(tmp_path):
    """A state dict with no open_clip vision weights is refused as not image-text."""
    path = tmp_path / "other.pt"
    torch.save({"encoder.weight": torch.zeros(4, 4), "encoder.bias": torch.zeros(4)}, path)
    with pytest.raises(ModelError, match="not an open_clip image-text checkpoint"):
        load_embedder(str(path), "cpu", "fp32")


def test_checkpoint_of_non_tensors(tmp_path):
    """A checkpoint holding something other than tensors is refused."""
    path = tmp_path / "config.pt"
    torch.save({"lr": 0.1, "epochs": 3}, path)
    with pytest.raises(ModelError, match="does not hold a state dict of tensors"):
        load_embedder(str(path), "cpu", "fp32")


def _not_cached(repo: str, filename: str) -> bool:
    from huggingface_hub import try_to_load_from_cache
    return not isinstance(try_to_load_from_cache(repo, filename), str)


@pytest.mark.parametrize("spec, repo, filename", [
    ("clip-rsicd", "flax-community/clip-rsicd-v2", "config.json"),
    ("remoteclip-vit-b-32", "chendelong/RemoteCLIP", "RemoteCLIP-ViT-B-32.pt"),
    ("some-org/some-model", "some-org/some-model", "config.json")])
def test_uncached_model_offline(spec, repo, filename):
    """Offline, an uncached preset / hub id fails fast with one sentence: hub id, cache folder, MODEL= hint."""
    from huggingface_hub.constants import HF_HUB_CACHE
    if not _not_cached(repo, filename):
        pytest.skip(f"{repo} is in this machine's model cache")
    start = time.monotonic()
    with pytest.raises(ModelError) as err:
        load_embedder(spec, "cpu", "fp32")
    assert time.monotonic() - start < 10
    message = str(err.value)
    assert f"'{spec}'" in message and repo in message and HF_HUB_CACHE in message and "MODEL=" in message
    assert "\n" not in message and "Traceback" not in message and len(message) < 1000


def _tiny_state(ckpt):
    return torch.load(ckpt, weights_only=True)


def test_state_dict_of_unknown_architecture(tmp_path, tiny_open_clip_ckpt):
    """A ViT state dict with a shape no registered architecture has cannot be inferred."""
    state = {k: v for k, v in _tiny_state(tiny_open_clip_ckpt).items() if ".resblocks.1." not in k}
    path = tmp_path / "one-layer.pt"
    torch.save(state, path)
    with pytest.raises(ModelError, match="Cannot tell which open_clip architecture"):
        load_embedder(str(path), "cpu", "fp32")


@pytest.mark.parametrize("change", ["resize_text_projection", "drop_logit_scale"])
def test_state_dict_not_fitting_inferred_architecture(tmp_path, tiny_open_clip_ckpt, change):
    """Tensors that fit the inferred arch's signature but not the model say 'does not match'."""
    state = _tiny_state(tiny_open_clip_ckpt)
    if change == "resize_text_projection":
        state["text_projection"] = torch.zeros(32, 8)
    else:
        del state["logit_scale"]
    path = tmp_path / f"{change}.pt"
    torch.save(state, path)
    with pytest.raises(ModelError, match="does not match the open_clip architecture tiny-ViT-16") as err:
        load_embedder(str(path), "cpu", "fp32")
    assert "\n" not in str(err.value)


def test_wrapped_checkpoint_is_unwrapped(tmp_path, tiny_open_clip_ckpt, openclip):
    """A {'state_dict': {'module.' ...}} training checkpoint gives the same embeddings as the bare one."""
    state = {f"module.{k}": v for k, v in _tiny_state(tiny_open_clip_ckpt).items()}
    path = tmp_path / "wrapped.pt"
    torch.save({"state_dict": state, "epoch": torch.tensor(3)}, path)
    wrapped = load_embedder(str(path), "cpu", "fp32")
    assert wrapped.arch == "tiny-ViT-16"
    np.testing.assert_allclose(wrapped.embed_images(images()), openclip.embed_images(images()), atol=1e-6)


# ---------------------------------------------------------------- model cache

def test_same_arguments_give_the_same_object(tiny_clip_dir, clip):
    """A second load with the same spec, device and precision returns the cached object."""
    assert load_embedder(tiny_clip_dir, "cpu", "fp32") is clip
    assert load_embedder(f"  {tiny_clip_dir} ", "CPU", "FP32") is clip


def test_concurrent_loads_build_once(tmp_path, tiny_clip_dir, monkeypatch):
    """Four threads loading a not-yet-loaded model at once get one object, built once."""
    spec = shutil.copytree(tiny_clip_dir, tmp_path / "clip-copy")
    builds, real_build = [], resolver._build_embedder

    def counting_build(*args):
        builds.append(args[0])
        time.sleep(0.2)  # widen the window in which an unlocked cache would build twice
        return real_build(*args)

    monkeypatch.setattr(resolver, "_build_embedder", counting_build)
    barrier, results = threading.Barrier(4), [None] * 4

    def load(i):
        barrier.wait()
        results[i] = load_embedder(str(spec), "cpu", "fp32")

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert builds == [str(spec)]
    assert results[0] is not None and all(r is results[0] for r in results)
    assert os.path.samefile(results[0].name, spec)
