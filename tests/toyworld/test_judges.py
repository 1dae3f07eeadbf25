"""The judges read clean toy-world media right, and stay right on degraded media."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal

from codi_studio.media import Audio, Image, Modality, Text, Video
from codi_studio.toyworld import judges, world


def _samples(seed: int, repeats: int = 1) -> list[world.Sample]:
    rng = np.random.default_rng(seed)
    return [world.sample(scene, rng) for scene in list(world.SCENES) * repeats]


def _blur_and_noise(pixels: np.ndarray, rng: np.random.Generator, sigma: float, blur: float) -> np.ndarray:
    x = ndimage.gaussian_filter(pixels.astype(np.float64), sigma=[0] * (pixels.ndim - 3) + [blur, blur, 0])
    x += rng.normal(0.0, sigma, x.shape)
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def _muffle_and_noise(samples: np.ndarray, rng: np.random.Generator, snr_db: float, cutoff_hz: float) -> np.ndarray:
    b, a = signal.butter(4, cutoff_hz / 8000.0)
    x = signal.lfilter(b, a, samples.astype(np.float64)) * 0.4  # quieter, low-passed
    power = np.mean(x**2)
    x += rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), x.shape)
    return x.astype(np.float32)


def _accuracy(values: list, scenes: list[world.Scene], modality: Modality) -> dict[str, float]:
    attributes = judges.CARRIES[modality]
    right = {a: 0 for a in attributes}
    for value, scene in zip(values, scenes):
        verdict = judges.judge(value)
        assert set(verdict) == set(attributes)
        for attribute, ok in judges.score(verdict, scene, attributes).items():
            right[attribute] += ok
    return {a: right[a] / len(scenes) for a in attributes}


@pytest.fixture(scope="module")
def clean() -> list[world.Sample]:
    return _samples(seed=21)


@pytest.mark.parametrize("modality", list(Modality))
def test_clean_samples_judged_right(clean: list[world.Sample], modality: Modality) -> None:
    values = [getattr(s, modality.value) for s in clean]
    accuracy = _accuracy(values, [s.scene for s in clean], modality)
    assert accuracy == {a: 1.0 for a in judges.CARRIES[modality]}


def test_noisy_blurred_images_and_videos(clean: list[world.Sample]) -> None:
    rng = np.random.default_rng(5)
    scenes = [s.scene for s in clean]
    images = [Image(_blur_and_noise(s.image.pixels, rng, sigma=15.0, blur=1.2)) for s in clean]
    videos = [Video(_blur_and_noise(s.video.frames, rng, sigma=15.0, blur=1.2), fps=8.0) for s in clean]
    for modality, values in ((Modality.IMAGE, images), (Modality.VIDEO, videos)):
        accuracy = _accuracy(values, scenes, modality)
        assert min(accuracy.values()) >= 0.95, (modality, accuracy)


def test_noisy_muffled_audio(clean: list[world.Sample]) -> None:
    rng = np.random.default_rng(6)
    values = [Audio(_muffle_and_noise(s.audio.mono(), rng, snr_db=10.0, cutoff_hz=4000.0), 16000) for s in clean]
    accuracy = _accuracy(values, [s.scene for s in clean], Modality.AUDIO)
    assert min(accuracy.values()) >= 0.95, accuracy


def test_image_judge_tolerates_a_shifted_hue_and_a_faint_trail() -> None:
    """Generated stills drift: colour off-palette, trail fainter and closer than the spec's."""
    rng = np.random.default_rng(3)
    wrong = 0
    scenes = list(world.SCENES)
    for scene in scenes:
        jitter = world.draw_jitter([scene], rng)
        colour = np.clip(jitter.object_rgb[0] + rng.integers(-25, 26, 3), 0, 255).astype(np.float64)
        backdrop = jitter.backdrop_rgb[0].astype(np.float64)
        direction = np.array(world.DIRECTION[scene.motion], dtype=np.float64)
        transmission = np.ones((64, 64))
        for offset, opacity in ((8.0, 0.1), (4.0, 0.25)):
            transmission *= 1 - opacity * world.coverage([scene.shape], jitter.center - offset * direction, jitter.radius)[0]
        transmission *= 1 - world.coverage([scene.shape], jitter.center, jitter.radius)[0]
        pixels = colour + (backdrop - colour) * transmission[..., None]
        verdict = judges.judge(Image(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)))
        wrong += verdict != scene.attributes()
    assert wrong <= 2


def test_nothing_to_see_gives_none() -> None:
    blank = Image(np.full((64, 64, 3), world.BACKDROP_RGB["night"], dtype=np.uint8))
    assert judges.judge(blank) == {"shape": None, "color": None, "motion": None, "backdrop": "night"}
    still = Video(np.full((8, 64, 64, 3), world.BACKDROP_RGB["day"], dtype=np.uint8), fps=8.0)
    assert judges.judge(still) == {"shape": None, "color": None, "motion": None, "backdrop": "day"}
    silence = Audio(np.zeros(16000, dtype=np.float32), 16000)
    assert judges.judge(silence) == {"shape": None, "color": None, "motion": None}


def test_video_of_a_standing_object_has_no_motion() -> None:
    scene = world.Scene("square", "red", "up", "day")
    frames = np.repeat(world.render_video(scene, np.random.default_rng(0)).frames[:1], 8, axis=0)
    verdict = judges.judge(Video(frames, fps=8.0))
    assert verdict["motion"] is None and verdict["shape"] == "square" and verdict["color"] == "red"


def test_text_judge_reads_words_and_refuses_contradictions() -> None:
    assert judges.judge(Text("A Blue SQUARE, drifting downwards... in the dark!")) == {
        "shape": "square",
        "color": "blue",
        "motion": "down",
        "backdrop": "night",
    }
    assert judges.judge(Text("a red blue circle going up at night")) == {
        "shape": "circle",
        "color": None,
        "motion": "up",
        "backdrop": "night",
    }
    assert judges.judge(Text("")) == dict.fromkeys(world.ATTRIBUTES)


def test_audio_is_not_judged_on_backdrop() -> None:
    assert judges.CARRIES[Modality.AUDIO] == ("shape", "color", "motion")
    tone = world.render_audio(world.Scene("triangle", "yellow", "down", "night"), np.random.default_rng(0))
    assert judges.judge(tone) == {"shape": "triangle", "color": "yellow", "motion": "down"}


def test_stereo_and_other_rates_are_accepted() -> None:
    tone = world.render_audio(world.Scene("square", "green", "right", "day"), np.random.default_rng(2)).mono()
    stereo = Audio(np.stack([tone, tone], axis=1), 16000)
    assert judges.judge(stereo) == {"shape": "square", "color": "green", "motion": "right"}
    resampled = signal.resample_poly(tone, 441, 160).astype(np.float32)  # 16 kHz -> 44.1 kHz
    assert judges.judge(Audio(resampled, 44100)) == {"shape": "square", "color": "green", "motion": "right"}


def test_judge_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="cannot judge a str"):
        judges.judge("a red circle")  # type: ignore[arg-type]


def test_score_counts_none_as_wrong() -> None:
    scene = world.Scene("circle", "red", "left", "day")
    verdict = {"shape": "circle", "color": None, "motion": "right", "backdrop": "day"}
    assert judges.score(verdict, scene, world.ATTRIBUTES) == {
        "shape": True,
        "color": False,
        "motion": False,
        "backdrop": True,
    }


def test_pictures_at_another_size_are_judged_at_the_worlds() -> None:
    from codi_studio.media import resize_image

    drawn = world.sample(world.Scene("triangle", "blue", "left", "night"), np.random.default_rng(4))
    expected = drawn.scene.attributes()
    assert judges.judge(resize_image(drawn.image, 128, 128)) == expected
    small = np.stack([resize_image(Image(f), 32, 32).pixels for f in drawn.video.frames])
    assert judges.judge(Video(small, fps=8.0)) == expected


def _griffin_lim(x: np.ndarray, rng: np.random.Generator, iterations: int = 16, n: int = 512, hop: int = 128) -> np.ndarray:
    """Magnitude-only resynthesis from a frequency-smeared spectrogram, as a mel VAE + vocoder does."""
    _, _, spectrum = signal.stft(x, nperseg=n, noverlap=n - hop)
    magnitude = ndimage.uniform_filter1d(np.abs(spectrum), 3, axis=0)
    phase = np.exp(2j * np.pi * rng.random(magnitude.shape))
    for _ in range(iterations):
        _, y = signal.istft(magnitude * phase, nperseg=n, noverlap=n - hop)
        _, _, spectrum = signal.stft(y[: len(x)], nperseg=n, noverlap=n - hop)
        phase = np.exp(1j * np.angle(spectrum))
    _, y = signal.istft(magnitude * phase, nperseg=n, noverlap=n - hop)
    return y[: len(x)].astype(np.float32)


def test_audio_judge_survives_phase_loss(clean: list[world.Sample]) -> None:
    rng = np.random.default_rng(8)
    subset = clean[::8]
    values = [Audio(_griffin_lim(s.audio.mono(), rng), 16000) for s in subset]
    accuracy = _accuracy(values, [s.scene for s in subset], Modality.AUDIO)
    assert min(accuracy.values()) >= 0.95, accuracy


def test_pictures_survive_losing_detail(clean: list[world.Sample]) -> None:
    """Down to 16 x 16 and back up: what a coarse latent decoder might give."""
    from codi_studio.media import resize_image

    subset = clean[::2]
    images = [resize_image(resize_image(s.image, 16, 16), 64, 64) for s in subset]
    accuracy = _accuracy(images, [s.scene for s in subset], Modality.IMAGE)
    assert min(accuracy.values()) >= 0.95, accuracy


def test_media_unlike_the_world_gets_none_not_a_guess() -> None:
    """Garbage must not be judged: two garbage outputs would otherwise 'agree' on a biased guess."""
    rng = np.random.default_rng(12)
    speckle = rng.integers(0, 256, (64, 64, 3)).astype(np.uint8)
    blotches = np.clip(ndimage.gaussian_filter(rng.normal(128, 80, (64, 64, 3)), [3, 3, 0]), 0, 255).astype(np.uint8)
    for pixels in (speckle, blotches):
        assert judges.judge(Image(pixels)) == dict.fromkeys(world.ATTRIBUTES)
    noisy_video = rng.integers(0, 256, (8, 64, 64, 3)).astype(np.uint8)
    assert judges.judge(Video(noisy_video, fps=8.0)) == dict.fromkeys(world.ATTRIBUTES)
    # a flat backdrop of neither day nor night, holding a grey smudge
    odd = np.full((64, 64, 3), (40, 200, 40), dtype=np.uint8)
    odd[20:40, 20:40] = 128
    assert judges.judge(Image(odd))["backdrop"] is None
    grey_object = np.full((64, 64, 3), world.BACKDROP_RGB["day"], dtype=np.uint8)
    grey_object[20:40, 20:40] = 90
    assert judges.judge(Image(grey_object)) == {"shape": "square", "color": None, "motion": None, "backdrop": "day"}
    hiss = rng.normal(0.0, 0.1, 16000).astype(np.float32)
    rumble = np.cumsum(rng.normal(0.0, 0.01, 16000))
    for samples in (hiss, (rumble - rumble.mean()).astype(np.float32)):
        assert judges.judge(Audio(samples, 16000)) == {"shape": None, "color": None, "motion": None}


def test_a_blob_that_is_no_shape_is_not_given_one() -> None:
    pixels = np.full((64, 64, 3), world.BACKDROP_RGB["night"], dtype=np.uint8)
    pixels[10:54, 30:34] = world.COLOR_RGB["red"]  # a long thin bar: no circle, square or triangle fits
    verdict = judges.judge(Image(pixels))
    assert verdict["color"] == "red" and verdict["backdrop"] == "night"
    assert verdict["shape"] is None and verdict["motion"] is None


def test_a_still_without_a_trail_shows_no_motion() -> None:
    scene = world.Scene("circle", "yellow", "right", "day")
    first_frame = world.render_video(scene, np.random.default_rng(1)).frames[0]
    rng = np.random.default_rng(2)
    verdict = judges.judge(Image(_blur_and_noise(first_frame, rng, sigma=8.0, blur=0.8)))
    assert verdict == {"shape": "circle", "color": "yellow", "motion": None, "backdrop": "day"}
