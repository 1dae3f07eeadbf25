"""The AudioLDM mel front end against the reference's wav_to_fbank (mel_frontend fixture)."""

import pytest
import torch

from codi_studio.codi.autoencoders import MelConfig, MelFrontEnd
from codi_studio.codi.autoencoders.keymaps import mel_basis_difference
from autoencoder_fixtures import load_fixture


@pytest.fixture(scope="module")
def reference():
    _, _, inputs, outputs = load_fixture("mel_frontend")
    return inputs, outputs


def test_filterbank_matches_librosa_slaney(reference):
    _, outputs = reference
    torch.testing.assert_close(MelFrontEnd().mel_basis, outputs["mel_basis"], atol=1e-6, rtol=1e-5)
    # what an importer checks on an official checkpoint's audioldm.fn_STFT.mel_basis
    assert mel_basis_difference({"audioldm.fn_STFT.mel_basis": outputs["mel_basis"]}) < 1e-6
    assert mel_basis_difference({"audioldm.fn_STFT.mel_basis": torch.zeros(64, 513)}) > 1e-3
    assert mel_basis_difference({"audioldm.fn_STFT.mel_basis": torch.zeros(80, 513)}) == float("inf")
    assert mel_basis_difference({}) is None


@pytest.mark.parametrize("case", ["long", "short"])  # cut to 102 frames / zero-padded to 102 frames
def test_log_mel_matches_reference(reference, case):
    inputs, outputs = reference
    mel = MelFrontEnd()(inputs[f"wave_{case}"], target_frames=102)
    assert mel.shape == outputs[f"fbank_{case}"].shape
    torch.testing.assert_close(mel, outputs[f"fbank_{case}"], atol=1e-4, rtol=0)


def test_default_length_follows_the_clip_and_the_102_4_rule(reference):
    inputs, _ = reference
    front = MelFrontEnd()
    assert front(inputs["wave_long"]).shape == (2, 1, int(20000 / 16000 * 102.4), 64)
    assert MelConfig().frames_for_seconds(10.0) == 1024


def test_level_and_offset_do_not_matter(reference):
    inputs, outputs = reference
    front = MelFrontEnd()
    louder = front(inputs["wave_long"] * 3 + 0.2, target_frames=102)  # normalize_wav removes both
    torch.testing.assert_close(louder, outputs["fbank_long"], atol=1e-4, rtol=0)


def test_bad_waveforms_are_clear_errors():
    front = MelFrontEnd()
    with pytest.raises(ValueError, match="batch, samples"):
        front(torch.zeros(16000))
    with pytest.raises(ValueError, match="too short"):
        front(torch.zeros(1, 50))
    with pytest.raises(ValueError, match="win_length"):
        MelFrontEnd(MelConfig(win_length=2048))
