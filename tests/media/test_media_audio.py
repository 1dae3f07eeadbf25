"""Sound: every container/codec read to float32 (n, channels), rates kept, resampling and mono."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from media_makers import Maker, sine

from codi_studio.media import (
    Audio,
    MediaError,
    convert_audio,
    read_audio,
    read_media,
    resample_audio,
    to_mono,
    write_media,
    write_wav,
)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize(
    ("subtype", "tolerance"),
    [("PCM_U8", 1 / 64), ("PCM_16", 1e-4), ("PCM_24", 1e-6), ("PCM_32", 1e-8), ("FLOAT", 0.0), ("DOUBLE", 0.0)],
)
def test_wav_every_sample_format(make: Maker, subtype: str, tolerance: float) -> None:
    samples = sine(0.25, 22050, channels=2)
    path = make.sound(f"{subtype}.wav", samples, 22050, "WAV", subtype)
    audio = read_audio(path)
    assert audio.sample_rate == 22050 and audio.channels == 2
    assert audio.samples.dtype == np.float32
    assert audio.n_samples == samples.shape[0]
    assert np.abs(audio.samples - samples).max() <= tolerance + 1e-7


@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (44100, 2), (96000, 6)])
def test_flac_any_rate_and_channel_count(make: Maker, rate: int, channels: int) -> None:
    samples = sine(0.2, rate, channels=channels, amp=0.3)
    audio = read_audio(make.sound("x.flac", samples, rate, "FLAC", "PCM_24"))
    assert (audio.sample_rate, audio.channels, audio.n_samples) == (rate, channels, samples.shape[0])
    assert np.abs(audio.samples - samples).max() < 1e-5


@pytest.mark.parametrize(
    ("name", "codec", "container"),
    # PyAV's bundled FFmpeg has no libvorbis encoder (only the experimental native one):
    # Vorbis files come from libsndfile in the next test
    [("lame.mp3", "libmp3lame", "mp3"), ("aac.m4a", "aac", "ipod"), ("opus.ogg", "libopus", "ogg")],
)
def test_lossy_codecs_through_ffmpeg(make: Maker, name: str, codec: str, container: str) -> None:
    rate = 48000
    samples = sine(1.0, rate, channels=2, freq=500.0)
    path = make.av_audio(name, samples, rate, codec, container)
    audio = read_audio(path)
    assert audio.sample_rate == rate and audio.channels == 2
    # encoders pad to whole frames and trim their priming delay only where the container says how
    assert abs(audio.duration - 1.0) < 0.05
    assert abs(dominant_hz(audio.samples[:, 0], rate) - 500.0) < 5
    assert abs(dominant_hz(audio.samples[:, 1], rate) - 1000.0) < 5
    assert 0.3 < np.abs(audio.samples[rate // 4 : 3 * rate // 4, 0]).max() < 0.7


def test_mp3_from_libsndfile_and_ogg_from_libsndfile(make: Maker) -> None:
    samples = sine(0.5, 44100, channels=1, freq=300.0)
    for name, fmt, subtype in [("sf.mp3", "MP3", "MPEG_LAYER_III"), ("sf.ogg", "OGG", "VORBIS")]:
        audio = read_audio(make.sound(name, samples, 44100, fmt, subtype))
        assert audio.sample_rate == 44100 and audio.channels == 1
        assert abs(audio.duration - 0.5) < 0.06
        assert abs(dominant_hz(audio.mono(), 44100) - 300.0) < 5


def test_wav_round_trip_keeps_rate_length_and_samples(make: Maker) -> None:
    original = Audio(sine(0.3, 16000, channels=2), 16000)
    path = write_media(make.path("out.wav"), original)
    back = read_audio(path)
    assert (back.sample_rate, back.channels, back.n_samples) == (16000, 2, original.n_samples)
    assert np.abs(back.samples - original.samples).max() < 1e-4
    float_path = write_wav(make.path("float.wav"), original, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(float_path).samples, original.samples)


def test_write_wav_clips_integer_formats(make: Maker) -> None:
    loud = Audio(np.array([[1.7], [-3.0], [0.5]], np.float32), 8000)
    back = read_audio(write_wav(make.path("loud.wav"), loud))
    assert back.samples[:, 0].tolist() == pytest.approx([32767 / 32768, -1.0, 0.5], abs=1e-4)


def test_read_with_target_rate_and_mono(make: Maker) -> None:
    samples = sine(1.0, 44100, channels=2, freq=440.0)
    audio = read_audio(make.sound("cd.wav", samples, 44100, "WAV", "PCM_16"), sample_rate=16000, mono=True)
    assert (audio.sample_rate, audio.channels, audio.n_samples) == (16000, 1, 16000)
    # the channels were 440 Hz and 880 Hz: the average holds both, nothing else
    spectrum = np.abs(np.fft.rfft(audio.mono()))
    top_two = sorted(np.argsort(spectrum)[-2:].tolist())
    assert top_two == [440, 880]


def test_resampling_is_band_limited_and_exact_in_length() -> None:
    rate = 48000
    tone = Audio(sine(1.0, rate, freq=1000.0), rate)
    high = Audio(sine(1.0, rate, freq=15000.0), rate)  # above the new Nyquist (8 kHz): must vanish
    down = resample_audio(tone, 16000)
    assert down.n_samples == 16000
    assert abs(dominant_hz(down.mono(), 16000) - 1000.0) < 2
    aliased = resample_audio(high, 16000)
    assert np.abs(aliased.samples[1000:-1000]).max() < 0.01
    up = resample_audio(Audio(sine(0.5, 22050), 22050), 44100)
    assert up.n_samples == 22050 and up.sample_rate == 44100


def test_resample_odd_ratio_length() -> None:
    audio = Audio(np.zeros((1001, 2), np.float32), 44100)
    assert resample_audio(audio, 16000).n_samples == round(1001 * 16000 / 44100)


def test_to_mono_averages_channels() -> None:
    audio = Audio(np.array([[1.0, 0.0], [0.5, -0.5]], np.float32), 8000)
    assert to_mono(audio).samples[:, 0].tolist() == [0.5, 0.0]
    same = Audio(np.zeros((4, 1), np.float32), 8000)
    assert to_mono(same) is same
    assert convert_audio(audio, 16000, mono=True).channels == 1


def test_max_duration_caps_what_is_read(make: Maker) -> None:
    path = make.sound("long.flac", sine(3.0, 8000), 8000, "FLAC", "PCM_16")
    assert read_audio(path, max_duration=1.0).n_samples == 8000
    assert read_audio(path, start=2.5).n_samples == 4000
    with pytest.raises(MediaError, match="no audio samples after"):
        read_audio(path, start=5.0)
    m4a = make.av_audio("long.m4a", sine(3.0, 16000), 16000, "aac", "ipod")
    capped = read_audio(m4a, max_duration=1.0)
    assert capped.n_samples == 16000
    tail = read_audio(m4a, start=2.0)
    assert abs(tail.duration - 1.0) < 0.05


def test_read_media_gives_audio_for_sound_files(make: Maker) -> None:
    path = make.av_audio("song.mp3", sine(0.5, 44100), 44100, "libmp3lame", "mp3")
    assert isinstance(read_media(path), Audio)


def test_resample_refuses_nonsense_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        resample_audio(Audio(np.zeros((4, 1), np.float32), 8000), 0)


def test_unsupported_wav_subtype_is_refused(make: Maker) -> None:
    with pytest.raises(MediaError, match="subtype"):
        write_wav(make.path("x.wav"), Audio(np.zeros((4, 1), np.float32), 8000), subtype="ULAW")
    assert not make.path("x.wav").exists()


def test_soundfile_subtypes_we_list_exist() -> None:
    for subtype in ("PCM_16", "PCM_24", "PCM_32", "FLOAT"):
        assert soundfile.check_format("WAV", subtype)
