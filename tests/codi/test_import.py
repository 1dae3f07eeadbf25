"""Official-checkpoint import: the full-size key/shape contract, a synthetic release, hostile files."""

import json
import pickle
from pathlib import Path

import pytest
import torch

from codi_studio.cli import main
from codi_studio.codi import components
from codi_studio.codi.config import ComponentSpec, ModelConfig
from codi_studio.codi.importer import ImportFailed, convert_release, import_release, load_release_file, write_release_files
from codi_studio.codi.model import CodiModel
from codi_studio.codi.model_store import list_models, verify
from codi_studio.codi.pipeline import CodiPipeline
from codi_studio.codi.presets import official_config, tiny_config, write_random_model
from codi_studio.media.values import Modality, Text

MANIFEST = Path(__file__).parents[1] / "fixtures" / "manifest" / "codi_full.json"


def manifest_state() -> dict[str, torch.Tensor]:
    """The official state dict's names and shapes, as meta tensors (no memory)."""
    entries = json.loads(MANIFEST.read_text())
    return {k: torch.empty(v["shape"], dtype=getattr(torch, v["dtype"]), device="meta") for k, v in entries.items()}


def test_full_size_model_fits_the_official_manifest_exactly():
    state = manifest_state()
    assert len(state) == 6109
    converted, config = convert_release(state, official_config())  # raises on any difference
    assert sorted(converted) == ["audio_vae", "clap", "clip", "image_vae", "text_vae", "unet", "vocoder"]
    # and the other way round: every stored entry of every full-size component is fed by the manifest
    for name, spec in config.components.items():
        with torch.device("meta"):
            module = components.build(spec.type, spec.config)
        buffers = {n for n, _ in module.named_buffers()}
        expected = {k: tuple(v.shape) for k, v in module.state_dict().items() if k not in buffers}
        got = {k: tuple(v.shape) for k, v in converted[name].items() if k in expected}
        assert got == expected, name


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory):
    """Release-format .pth files (reference names, random tensors) of a tiny CoDi with a HiFi-GAN vocoder."""
    from codi_studio.codi.autoencoders import HifiGanConfig

    base = tiny_config(model_id="tiny-release", joint_mode="reference")
    comps = dict(base.components)
    comps["vocoder"] = ComponentSpec("vocoder", HifiGanConfig.tiny().to_dict(), "vocoder.safetensors")
    config = ModelConfig(**{**base.__dict__, "components": comps})
    torch.manual_seed(0)
    states = {n: components.build(s.type, s.config).state_dict() for n, s in comps.items()}
    folder = tmp_path_factory.mktemp("release")
    files = write_release_files(folder, states)
    tokenizers = write_random_model(tmp_path_factory.mktemp("tok") / "m", base) / "tokenizers"
    return folder, config, states, files, tokenizers


def test_synthetic_release_imports_verifies_and_generates(tiny_release, tmp_path):
    folder, config, states, files, tokenizers = tiny_release
    assert sorted(f.name for f in files) == ["CoDi_audio_diffuser_m.pth", "CoDi_encoders.pth",
                                             "CoDi_text_diffuser.pth", "CoDi_video_diffuser_8frames.pth"]
    store = tmp_path / "store"
    model_dir = import_release(folder, store=store, name="tiny-import", config=config, tokenizers=tokenizers,
                               progress=False)
    assert [m.name for m in list_models(store) if not m.embedded] == ["tiny-import"]
    assert verify(str(model_dir)) == []
    imported = ModelConfig.load(model_dir)
    assert imported.components["unet"].shards == ("unet_audio.safetensors", "unet_image.safetensors",
                                                  "unet_text.safetensors")
    model = CodiModel.open(model_dir, device="cpu")
    # weights arrive unchanged through both key maps
    clip = model.component("clip")
    for k, v in states["clip"].items():
        torch.testing.assert_close(clip.state_dict()[k], v)
    # a text->image job reads only the image sub-UNet
    out = CodiPipeline(model).generate([(Text("a red circle"), 1.0)], [Modality.IMAGE], steps=1)
    assert out.samples[0][Modality.IMAGE].pixels.shape[:2] == (16, 16)
    unet = model.unet(["image"])
    assert unet.unet_image is not None and unet.unet_text is None and unet.unet_audio is None


def test_partial_release_imports_what_is_there(tiny_release, tmp_path):
    folder, config, *_ = tiny_release
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "CoDi_video_diffuser_8frames.pth").write_bytes((folder / "CoDi_video_diffuser_8frames.pth").read_bytes())
    model_dir = import_release(partial, store=tmp_path / "s", name="video-only", config=config, progress=False)
    imported = ModelConfig.load(model_dir)
    assert imported.components["unet"].config["text"] is None
    assert imported.extras["missing_release_files"] == ["CoDi_audio_diffuser_m.pth", "CoDi_encoders.pth",
                                                        "CoDi_text_diffuser.pth"]


def test_wrong_checkpoint_lists_the_differences(tiny_release, tmp_path):
    folder, config, *_ = tiny_release
    state = load_release_file(folder / "CoDi_encoders.pth")
    state = dict(state)
    removed = next(k for k in state if k.startswith("autokl.decoder"))
    del state[removed]
    reshaped = next(k for k in state if k.startswith("clip.model.text_projection"))
    state[reshaped] = torch.zeros(3, 3)
    state["optimus.something_new"] = torch.zeros(1)
    bad = tmp_path / "bad"
    bad.mkdir()
    torch.save(state, bad / "CoDi_encoders.pth")
    with pytest.raises(ImportFailed) as err:
        import_release(bad, store=tmp_path / "s", name="bad", config=config, progress=False)
    text = str(err.value)
    assert "1 missing" in text and "wrong shape" in text and "text_projection" in text
    assert "unexpected" in text
    assert not (tmp_path / "s" / "bad").exists()


class _Payload:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pwned"))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "marker.txt"
    evil = tmp_path / "release"
    evil.mkdir()
    with open(evil / "CoDi_encoders.pth", "wb") as f:
        pickle.dump({"clip.model.logit_scale": _Payload(str(marker))}, f)
    torch.save({"x": _Payload(str(marker))}, evil / "CoDi_text_diffuser.pth")
    for name in ("CoDi_encoders.pth", "CoDi_text_diffuser.pth"):
        with pytest.raises(ImportFailed, match="refused|not a readable"):
            load_release_file(evil / name)
    assert not marker.exists()
    assert main(["models", "--store", str(tmp_path / "s"), "import", str(evil)]) == 1
    assert not marker.exists()


def test_models_cli(tiny_release, tmp_path, capsys):
    folder, config, *_ = tiny_release
    store = tmp_path / "store"
    import_release(folder, store=store, name="cli-model", config=config, progress=False)
    assert main(["models", "--store", str(store), "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "cli-model" in [m["name"] for m in listed]
    assert main(["models", "--store", str(store), "info", "cli-model"]) == 0
    assert json.loads(capsys.readouterr().out)["joint_mode"] == "reference"
    assert main(["models", "--store", str(store), "verify", "cli-model"]) == 0
    # damage one file: verify names it
    shard = store / "cli-model" / "unet_text.safetensors"
    shard.write_bytes(shard.read_bytes()[:-8] + b"\0" * 8)
    assert main(["models", "--store", str(store), "verify", "cli-model"]) == 1
    assert "unet_text.safetensors" in capsys.readouterr().err
    assert main(["models", "--store", str(store), "remove", "cli-model"]) == 0
    assert main(["models", "--store", str(store), "info", "cli-model"]) == 2
    assert main(["models", "--store", str(store), "import", str(tmp_path / "nowhere")]) == 2
