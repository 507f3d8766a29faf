"""Model folders broken the ways downloads and hand-made folders break: a truncated
model.safetensors, weights as a pickled pytorch_model.bin, a config that asks for custom
code (auto_map). Each is one sentence (ModelError) naming the model, what is wrong and what
to do, through the public loaders; nothing is unpickled and no remote code runs."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from geovl.errors import ModelError
from geovl.models.resolver import load_embedder, load_segmenter, load_vlm

LOADERS = {"embedder": (load_embedder, "tiny_clip_dir"), "vlm": (load_vlm, "tiny_florence2_dir"),
           "segmenter": (load_segmenter, "tiny_transformers_sam_dir")}


def truncate_weights(folder) -> None:
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[:len(data) // 2])


def pickle_weights(folder) -> None:
    """The weights as a pytorch_model.bin whose pickle calls a function when loaded unsafely."""
    state = {"weight": torch.zeros(2)}
    (folder / "model.safetensors").unlink()
    torch.save({**state, "payload": print}, folder / "pytorch_model.bin")


def ask_for_custom_code(folder) -> None:
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["auto_map"] = {"AutoConfig": "configuration_custom.CustomConfig", "AutoModel": "modeling_custom.CustomModel"}
    config_path.write_text(json.dumps(config))
    (folder / "modeling_custom.py").write_text("raise SystemExit('custom code ran')\n")
    (folder / "configuration_custom.py").write_text("raise SystemExit('custom code ran')\n")


BREAKAGES = {"truncated": (truncate_weights, "incomplete or corrupt"),
             "pickled": (pickle_weights, "pickle"),
             "auto_map": (ask_for_custom_code, "custom code")}


@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize("breakage", BREAKAGES)
def test_broken_folder_is_a_sentence(request, tmp_path, kind, breakage):
    load, fixture = LOADERS[kind]
    folder = tmp_path / f"{kind}-{breakage}"
    shutil.copytree(request.getfixturevalue(fixture), folder)
    break_folder, says = BREAKAGES[breakage]
    break_folder(folder)
    with pytest.raises(ModelError) as err:
        load(str(folder), "cpu", "fp32")
    message = str(err.value)
    assert f"'{folder}'" in message and says in message
    assert "\n" not in message and "Traceback" not in message and len(message) < 600


def test_unknown_model_type_asking_for_custom_code(tmp_path, tiny_clip_dir):
    """A model type transformers does not know, with auto_map: transformers refuses without
    trust_remote_code; the refusal is a sentence."""
    folder = tmp_path / "custom-type"
    shutil.copytree(tiny_clip_dir, folder)
    ask_for_custom_code(folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "geovl_custom"}))
    with pytest.raises(ModelError, match=f"'{folder}' .*needs custom code") as err:
        load_embedder(str(folder), "cpu", "fp32")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("load, fixture", [(load_embedder, "tiny_open_clip_ckpt"), (load_segmenter, "tiny_sam_ckpt")])
def test_pickled_checkpoint_file_is_a_sentence(request, tmp_path, load, fixture):
    """A checkpoint file (open_clip, segment-anything) whose pickle holds more than tensors is
    refused unread, in one sentence that does not advise weights_only=False."""
    path = tmp_path / "weights.pt"
    state = torch.load(request.getfixturevalue(fixture), weights_only=True)
    torch.save({**state, "payload": print}, path)
    with pytest.raises(ModelError) as err:
        load(str(path), "cpu", "fp32")
    message = str(err.value)
    assert str(path) in message and "pickle" in message and "weights_only" not in message
    assert "\n" not in message and "\x1b" not in message and len(message) < 600
