"""Every rule of toyworld.md v1, checked on generated samples."""

from __future__ import annotations

import re

import numpy as np
import pytest

from codi_studio.media import Audio, Image, Text, Video
from codi_studio.toyworld import world as w

RNG_SEED = 1234


def _one(scene: w.Scene, seed: int = 0) -> tuple[w.Jitter, dict]:
    """A sample drawn with its jitter exposed, so geometry can be checked exactly."""
    rng = np.random.default_rng(seed)
    jitter = w.draw_jitter([scene], rng)
    return jitter, {
        "image": w.draw_images([scene], jitter)[0],
        "video": w.draw_videos([scene], jitter)[0],
        "audio": w.draw_audio([scene], jitter)[0],
        "text": w.captions([scene], jitter)[0],
    }


def _object_pixels(picture: np.ndarray, object_rgb: np.ndarray) -> np.ndarray:
    return np.all(picture.astype(int) == object_rgb[None, None, :], axis=-1)


# ---------------------------------------------------------------- scenes


def test_96_scenes_and_the_8_held_out() -> None:
    assert len(w.SCENES) == 96 == len(set(w.SCENES))
    expected = {w.Scene("triangle", "yellow", m, "night") for m in ("left", "right", "up", "down")}
    expected |= {w.Scene("square", "green", "down", b) for b in ("day", "night")}
    expected |= {w.Scene("circle", "red", "right", b) for b in ("day", "night")}
    assert set(w.HELD_OUT) == expected
    assert len(w.TRAIN_SCENES) == 88
    assert not set(w.TRAIN_SCENES) & set(w.HELD_OUT)
    assert set(w.TRAIN_SCENES) | set(w.HELD_OUT) == set(w.SCENES)


def test_scene_rejects_unknown_values() -> None:
    with pytest.raises(ValueError, match="unknown color 'purple'"):
        w.Scene("circle", "purple", "up", "day")


def test_random_scenes_come_from_training_only() -> None:
    drawn = w.random_scenes(2000, np.random.default_rng(0))
    assert not set(drawn) & set(w.HELD_OUT)
    assert len(set(drawn)) == 88


def test_parse_scene() -> None:
    assert w.parse_scene("night, red circle left") == w.Scene("circle", "red", "left", "night")
    with pytest.raises(ValueError, match="names no backdrop"):
        w.parse_scene("red circle left")


# ---------------------------------------------------------------- determinism and types


def test_seeded_and_deterministic() -> None:
    scenes = w.random_scenes(6, np.random.default_rng(3))
    a = w.batch(scenes, np.random.default_rng(7))
    b = w.batch(scenes, np.random.default_rng(7))
    c = w.batch(scenes, np.random.default_rng(8))
    for key in ("image", "video", "audio", "labels"):
        np.testing.assert_array_equal(a[key], b[key])
    assert a["text"] == b["text"]
    assert not np.array_equal(a["image"], c["image"])


def test_render_functions_return_media_values() -> None:
    scene = w.Scene("square", "blue", "left", "day")
    rng = np.random.default_rng(0)
    image, video = w.render_image(scene, rng), w.render_video(scene, rng)
    audio, text = w.render_audio(scene, rng), w.render_caption(scene, rng)
    assert isinstance(image, Image) and image.pixels.shape == (64, 64, 3)
    assert isinstance(video, Video) and video.frames.shape == (8, 64, 64, 3)
    assert video.fps == 8.0 and video.duration == pytest.approx(1.0)
    assert isinstance(audio, Audio) and audio.sample_rate == 16000 and audio.channels == 1
    assert audio.duration == pytest.approx(1.0) and audio.samples.dtype == np.float32
    assert isinstance(text, Text)


def test_batch_shapes_and_labels() -> None:
    scenes = [w.Scene("triangle", "green", "up", "night"), w.Scene("circle", "red", "down", "day")]
    out = w.batch(scenes, np.random.default_rng(0))
    assert out["image"].shape == (2, 64, 64, 3) and out["image"].dtype == np.uint8
    assert out["video"].shape == (2, 8, 64, 64, 3) and out["video"].dtype == np.uint8
    assert out["audio"].shape == (2, 16000) and out["audio"].dtype == np.float32
    assert len(out["text"]) == 2
    np.testing.assert_array_equal(out["labels"], [[2, 1, 2, 1], [0, 0, 3, 0]])
    empty = w.batch([], np.random.default_rng(0))
    assert empty["image"].shape == (0, 64, 64, 3) and empty["audio"].shape == (0, 16000)
    only_audio = w.batch(scenes, np.random.default_rng(0), ("audio",))
    assert set(only_audio) == {"audio", "labels"}
    with pytest.raises(ValueError, match="unknown modality 'smell'"):
        w.batch(scenes, np.random.default_rng(0), ("smell",))


# ---------------------------------------------------------------- palette and jitter


def test_palette_and_jitter_ranges() -> None:
    scenes = list(w.SCENES) * 10
    jitter = w.draw_jitter(scenes, np.random.default_rng(RNG_SEED))
    base_object = np.array([w.COLOR_RGB[s.color] for s in scenes])
    base_backdrop = np.array([w.BACKDROP_RGB[s.backdrop] for s in scenes])
    for drawn, base in ((jitter.object_rgb, base_object), (jitter.backdrop_rgb, base_backdrop)):
        delta = drawn - base
        assert delta.min() == -10 and delta.max() == 10  # integers over the whole [-10, 10]
        assert set(np.unique(delta)) == set(range(-10, 11))
    assert 9.0 <= jitter.radius.min() and jitter.radius.max() <= 13.0
    assert jitter.radius.max() - jitter.radius.min() > 3.8
    assert 0.98 <= jitter.pitch.min() and jitter.pitch.max() <= 1.02


def test_image_colours_are_the_jittered_palette() -> None:
    for scene in (w.Scene("circle", "yellow", "up", "night"), w.Scene("square", "blue", "right", "day")):
        jitter, drawn = _one(scene, seed=5)
        image = drawn["image"]
        np.testing.assert_array_equal(image[0, 0], jitter.backdrop_rgb[0])
        cx, cy = jitter.center[0]
        np.testing.assert_array_equal(image[int(cy), int(cx)], jitter.object_rgb[0])


# ---------------------------------------------------------------- image geometry


@pytest.mark.parametrize("scene", w.SCENES[::5])
def test_object_inside_frame_with_margin(scene: w.Scene) -> None:
    for seed in range(4):
        jitter, drawn = _one(scene, seed)
        backdrop = jitter.backdrop_rgb[0]
        pictures = [drawn["image"], *drawn["video"]]
        for picture in pictures:
            border = np.concatenate(
                [picture[:2].reshape(-1, 3), picture[-2:].reshape(-1, 3), picture[:, :2].reshape(-1, 3), picture[:, -2:].reshape(-1, 3)]
            )
            assert np.all(border == backdrop), f"{scene}: something drawn within 2 px of the edge"


@pytest.mark.parametrize("shape", w.SHAPES)
def test_object_size_per_shape(shape: str) -> None:
    """Filled area matches circle pi r^2, square (2r)^2, triangle of circumradius 1.2 r."""
    for seed in range(6):
        scene = w.Scene(shape, "red", "up", "night")
        jitter, _ = _one(scene, seed)
        r = jitter.radius[0]
        mask = w.coverage([shape], jitter.center, jitter.radius)[0]
        expected = {"circle": np.pi * r**2, "square": (2 * r) ** 2, "triangle": 3 * np.sqrt(3) / 4 * (1.2 * r) ** 2}
        assert mask.sum() == pytest.approx(expected[shape], rel=0.02)
        rows = np.nonzero(mask.max(axis=1) > 0.5)[0]
        cols = np.nonzero(mask.max(axis=0) > 0.5)[0]
        height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        if shape == "circle":
            assert abs(width - 2 * r) <= 1.5 and abs(height - 2 * r) <= 1.5
        elif shape == "square":
            assert abs(width - 2 * r) <= 1.5 and abs(height - 2 * r) <= 1.5
            assert mask[rows[0] + 1, cols[0] + 1] == pytest.approx(1.0)  # a filled corner
        else:
            big = 1.2 * r
            assert abs(width - np.sqrt(3) * big) <= 1.5 and abs(height - 1.5 * big) <= 1.5
            widths = (mask > 0.5).sum(axis=1)[rows]
            assert widths[1] < widths[len(widths) // 2] < widths[-2]  # narrow at the top: points up


def test_edges_are_antialiased() -> None:
    jitter, _ = _one(w.Scene("circle", "green", "left", "day"), 2)
    mask = w.coverage(["circle"], jitter.center, jitter.radius)[0]
    partial = (mask > 0.02) & (mask < 0.98)
    assert partial.sum() > 20


@pytest.mark.parametrize("motion", w.MOTIONS)
def test_trail_copies_behind_the_object(motion: str) -> None:
    """Copies at 5 px (35 %) and 10 px (15 %) opposite to the motion, under the object."""
    scene = w.Scene("circle", "blue", motion, "day")
    jitter, drawn = _one(scene, 11)
    image = drawn["image"].astype(float)
    r = jitter.radius[0]
    c = jitter.center[0]
    colour, backdrop = jitter.object_rgb[0].astype(float), jitter.backdrop_rgb[0].astype(float)
    back = -np.array(w.DIRECTION[motion], dtype=float)

    def pixel_at(distance: float) -> np.ndarray:
        x, y = c + back * distance
        return image[int(np.floor(y)), int(np.floor(x))]

    # inside both copies but outside the object: 15 % over the backdrop, then 35 % over that
    both = colour + (backdrop - colour) * 0.85 * 0.65
    np.testing.assert_allclose(pixel_at(r + 2.5), both, atol=2.0)
    # only in the far copy
    np.testing.assert_allclose(pixel_at(r + 7.5), colour + (backdrop - colour) * 0.85, atol=2.0)
    # beyond the trail: backdrop; and no trail ahead of the object
    np.testing.assert_allclose(pixel_at(r + 12.0), backdrop, atol=0.5)
    np.testing.assert_allclose(pixel_at(-(r + 2.5)), backdrop, atol=0.5)
    # the object itself is drawn last, fully opaque
    np.testing.assert_allclose(pixel_at(0.0), colour, atol=0.5)


# ---------------------------------------------------------------- video


@pytest.mark.parametrize("motion", w.MOTIONS)
def test_video_moves_3px_per_frame_without_trail(motion: str) -> None:
    scene = w.Scene("square", "yellow", motion, "night")
    jitter, drawn = _one(scene, 4)
    frames = drawn["video"]
    colour = jitter.object_rgb[0]
    direction = np.array(w.DIRECTION[motion], dtype=float)
    centroids = []
    for frame in frames:
        moved = np.any(frame != jitter.backdrop_rgb[0], axis=-1)
        ys, xs = np.nonzero(moved)
        weights = np.abs(frame[ys, xs].astype(float) - jitter.backdrop_rgb[0]).sum(axis=1)
        centroids.append([np.average(xs + 0.5, weights=weights), np.average(ys + 0.5, weights=weights)])
        # no trail: every changed pixel is the object or its anti-aliased edge, full colour inside
        assert _object_pixels(frame, colour).sum() > 0.8 * moved.sum()
    centroids = np.array(centroids)
    steps = np.diff(centroids, axis=0)
    np.testing.assert_allclose(steps, np.tile(3 * direction, (7, 1)), atol=0.05)
    np.testing.assert_allclose(centroids[0], jitter.center[0], atol=0.1)


def test_sample_shares_one_jitter_between_image_and_video() -> None:
    scene = w.Scene("triangle", "green", "right", "day")
    drawn = w.sample(scene, np.random.default_rng(9))
    image, first = drawn.image.pixels, drawn.video.frames[0]
    assert np.array_equal(image[0, 0], first[0, 0])  # same backdrop draw
    # the object (drawn last, opaque) covers the same pixels in the still and the first frame
    object_colour = image[np.unravel_index(np.argmax(np.abs(image.astype(int) - image[0, 0]).sum(-1)), image.shape[:2])]
    in_image = _object_pixels(image, object_colour)
    in_video = _object_pixels(first, object_colour)
    assert in_image.sum() > 100 and np.array_equal(in_image, in_video)
    assert drawn.text.text.split()[1:3] == ["green", "triangle"]


# ---------------------------------------------------------------- audio


def _peak_hz(signal: np.ndarray, sr: int = 16000) -> float:
    window = signal * np.hanning(len(signal))
    spectrum = np.abs(np.fft.rfft(window, n=len(signal) * 8))
    return float(np.argmax(spectrum) * sr / (len(signal) * 8))


def _harmonic_amplitudes(signal: np.ndarray, f0: float, sr: int = 16000) -> np.ndarray:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    freqs = np.fft.rfftfreq(len(signal), 1 / sr)
    amps = np.array([spectrum[np.abs(freqs - k * f0) < 0.03 * f0].max() for k in range(1, 8)])
    return amps / amps[0]


@pytest.mark.parametrize("color", w.COLORS)
def test_fundamental_at_mid_clip_per_colour(color: str) -> None:
    for motion in w.MOTIONS:
        jitter, drawn = _one(w.Scene("circle", color, motion, "day"), 3)
        expected = w.FUNDAMENTAL_HZ[color] * jitter.pitch[0]
        mid = drawn["audio"][8000 - 400 : 8000 + 400]
        assert _peak_hz(mid) == pytest.approx(expected, rel=0.01), motion


@pytest.mark.parametrize("shape", w.SHAPES)
def test_timbre_per_shape(shape: str) -> None:
    jitter, drawn = _one(w.Scene(shape, "red", "left", "night"), 2)
    f0 = 220.0 * jitter.pitch[0]
    amps = _harmonic_amplitudes(drawn["audio"][2000:14000], f0)
    expected = {
        "circle": [1, 0, 0, 0, 0, 0, 0],
        "square": [1, 0, 1 / 3, 0, 1 / 5, 0, 1 / 7],
        "triangle": [1 / n for n in range(1, 8)],
    }[shape]
    np.testing.assert_allclose(amps, expected, atol=0.02)


@pytest.mark.parametrize("motion", ["up", "down"])
def test_pitch_glide(motion: str) -> None:
    jitter, drawn = _one(w.Scene("circle", "blue", motion, "day"), 6)
    f = 440.0 * jitter.pitch[0]
    audio = drawn["audio"]
    start, end = _peak_hz(audio[160:800]), _peak_hz(audio[-800:-160])
    # 640-sample windows centred at 30 ms and 970 ms of an exponential 0.8 f -> 1.25 f glide
    ratio = 1.25 / 0.8
    lo, hi = (0.8 * f * ratio**0.03, 0.8 * f * ratio**0.97)
    if motion == "down":
        lo, hi = 1.25 * f / ratio**0.03, 1.25 * f / ratio**0.97
    assert start == pytest.approx(lo, rel=0.015) and end == pytest.approx(hi, rel=0.015)
    # constant loudness: rms steady away from the fades
    rms = np.sqrt((audio[320:-320].reshape(-1, 160) ** 2).mean(axis=1))
    assert rms.max() / rms.min() < 1.05


@pytest.mark.parametrize("motion", ["left", "right"])
def test_loudness_ramp_constant_pitch(motion: str) -> None:
    jitter, drawn = _one(w.Scene("circle", "green", motion, "night"), 8)
    audio = drawn["audio"].astype(float)
    # a pure tone: amplitude envelope from the rms of whole 10 ms blocks (the tone repeats fast enough)
    blocks = audio.reshape(100, 160)
    envelope = np.sqrt(2 * (blocks**2).mean(axis=1))
    t = (np.arange(100) + 0.5) / 100
    ramp = 1.0 - 0.8 * t if motion == "left" else 0.2 + 0.8 * t
    peak_gain = 0.5 / ramp.max()  # the loudest point is scaled to the 0.5 peak
    np.testing.assert_allclose(envelope[2:-2], (ramp * peak_gain)[2:-2], rtol=0.03)
    f = 330.0 * jitter.pitch[0]
    assert _peak_hz(audio[1000:3000]) == pytest.approx(f, rel=0.01)
    assert _peak_hz(audio[13000:15000]) == pytest.approx(f, rel=0.01)


def test_peak_level_and_fades() -> None:
    scenes = list(w.SCENES)
    audio = w.batch(scenes, np.random.default_rng(0), ("audio",))["audio"]
    peaks = np.abs(audio).max(axis=1)
    np.testing.assert_allclose(peaks, 0.5, atol=0.01)
    assert np.abs(audio).max() <= 0.5 + 1e-6
    assert np.all(audio[:, 0] == 0.0)
    # 10 ms = 160 samples: inside the fade the level is bounded by the linear ramp
    ramp = np.arange(160) / 160
    assert np.all(np.abs(audio[:, :160]) <= 0.5 * ramp[None, :] + 1e-6)
    assert np.all(np.abs(audio[:, -160:]) <= 0.5 * ramp[::-1][None, :] + 1e-6)
    # outside the fades the loud parts reach the peak
    assert np.all(np.abs(audio[:, 160:-160]).max(axis=1) > 0.45)


# ---------------------------------------------------------------- captions

CAPTION = re.compile(
    r"^(a|one) (red|green|blue|yellow) (circle|square|triangle) (moving|moves|going|drifting) "
    r"(left|to the left|right|to the right|up|upward|down|downward) "
    r"(in daylight|on a sunny day|at night|in the dark)$"
)


def test_caption_grammar_and_all_choices() -> None:
    scenes = list(w.SCENES) * 8
    texts = w.batch(scenes, np.random.default_rng(0), ("text",))["text"]
    seen: dict[str, set[str]] = {k: set() for k in ("article", "verb", "direction", "backdrop")}
    for scene, text in zip(scenes, texts):
        match = CAPTION.match(text)
        assert match, text
        article, color, shape, verb, direction, backdrop = match.groups()
        assert (color, shape) == (scene.color, scene.shape)
        assert direction in w.DIRECTION_PHRASES[scene.motion]
        assert backdrop in w.BACKDROP_PHRASES[scene.backdrop]
        seen["article"].add(article)
        seen["verb"].add(verb)
        seen["direction"].add(direction)
        seen["backdrop"].add(backdrop)
    assert seen["article"] == {"a", "one"}
    assert seen["verb"] == {"moving", "moves", "going", "drifting"}
    assert len(seen["direction"]) == 8 and len(seen["backdrop"]) == 4


def test_the_spec_example_is_a_possible_caption() -> None:
    scene = w.Scene("triangle", "yellow", "up", "night")
    texts = {w.render_caption(scene, np.random.default_rng(s)).text for s in range(200)}
    assert "a yellow triangle drifting upward at night" in texts


# ---------------------------------------------------------------- speed


def test_batch_drawing_is_fast() -> None:
    import time

    scenes = w.random_scenes(256, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    w.batch(scenes[:32], rng, ("image",))  # warm up
    start = time.perf_counter()
    w.batch(scenes, rng, ("image",))
    images_per_s = 256 / (time.perf_counter() - start)
    start = time.perf_counter()
    w.batch(scenes, rng, ("audio",))
    audio_per_s = 256 / (time.perf_counter() - start)
    # generous floors: the machine is shared; measured ~3,000 images/s and ~1,400 tones/s alone
    assert images_per_s > 500 and audio_per_s > 250
