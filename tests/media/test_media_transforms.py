"""Resize/crop, thumbnails and waveform peaks."""

from __future__ import annotations

import io

import numpy as np
import pytest
from media_makers import gradient_rgb, sine
from PIL import Image as PILImage

from codi_studio.media import (
    Audio,
    Image,
    Text,
    Video,
    center_crop,
    resize_and_crop,
    resize_image,
    thumbnail_png,
    waveform_peaks,
)


def test_resize_to_exact_size() -> None:
    image = Image(gradient_rgb(30, 40))
    small = resize_image(image, 20, 10)
    assert (small.width, small.height) == (20, 10)
    assert resize_image(image, 40, 30) is image
    flat = resize_image(Image(np.full((9, 9, 3), 77, np.uint8)), 31, 5)
    assert np.all(flat.pixels == 77)  # no ringing on flat colour


def test_center_crop_takes_the_middle() -> None:
    pixels = gradient_rgb(10, 20)
    crop = center_crop(Image(pixels), 6, 4)
    np.testing.assert_array_equal(crop.pixels, pixels[3:7, 7:13])
    with pytest.raises(ValueError, match="cannot crop"):
        center_crop(Image(pixels), 21, 4)


def test_resize_and_crop_covers_then_crops() -> None:
    # a wide picture: left third red, middle green, right third blue
    pixels = np.zeros((100, 300, 3), np.uint8)
    pixels[:, :100, 0] = 255
    pixels[:, 100:200, 1] = 255
    pixels[:, 200:, 2] = 255
    square = resize_and_crop(Image(pixels), 64, 64)
    assert (square.width, square.height) == (64, 64)
    assert square.pixels[32, 32].tolist() == [0, 255, 0]  # only the middle third remains
    assert square.pixels[:, 2:-2, 1].min() > 200
    tall = resize_and_crop(Image(gradient_rgb(50, 50)), 10, 40)
    assert (tall.width, tall.height) == (10, 40)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="1x1"):
        resize_image(Image(gradient_rgb(4, 4)), 0, 4)


def test_thumbnail_of_image_and_video_keeps_aspect() -> None:
    png = thumbnail_png(Image(gradient_rgb(100, 400)), 64)
    assert png is not None and png.startswith(b"\x89PNG")
    assert PILImage.open(io.BytesIO(png)).size == (64, 16)
    frames = np.zeros((3, 40, 30, 3), np.uint8)
    frames[0] = 200  # the first frame is the one shown
    video_png = thumbnail_png(Video(frames, 3.0), 128)
    assert video_png is not None
    shown = PILImage.open(io.BytesIO(video_png))
    assert shown.size == (30, 40)  # never enlarged
    assert np.asarray(shown.convert("RGB")).min() == 200


def test_thumbnail_of_text_and_audio_is_none() -> None:
    assert thumbnail_png(Text("hi"), 64) is None
    assert thumbnail_png(Audio(np.zeros((10, 1), np.float32), 8000), 64) is None


def test_waveform_peaks_bins_min_and_max() -> None:
    samples = np.zeros((100, 2), np.float32)
    samples[10, 0] = 0.9  # bin 1 of 10, left channel
    samples[55, 1] = -0.7  # bin 5, right channel
    peaks = waveform_peaks(Audio(samples, 1000), 10)
    assert peaks.shape == (10, 2) and peaks.dtype == np.float32
    assert peaks[1].tolist() == pytest.approx([0.0, 0.9])
    assert peaks[5].tolist() == pytest.approx([-0.7, 0.0])
    assert np.all(peaks[[0, 2, 3, 4, 6, 7, 8, 9]] == 0)


def test_waveform_peaks_of_a_sine_hit_its_amplitude() -> None:
    peaks = waveform_peaks(Audio(sine(1.0, 8000, amp=0.5), 8000), 50)
    assert np.allclose(peaks[:, 0], -0.5, atol=0.01) and np.allclose(peaks[:, 1], 0.5, atol=0.01)


def test_waveform_peaks_more_bins_than_samples_and_silence() -> None:
    tiny = waveform_peaks(Audio(np.array([[0.1], [0.2], [0.3]], np.float32), 8000), 6)
    assert tiny[:, 1].tolist() == pytest.approx([0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
    assert np.all(waveform_peaks(Audio(np.zeros((0, 1), np.float32), 8000), 4) == 0)
    with pytest.raises(ValueError):
        waveform_peaks(Audio(np.zeros((4, 1), np.float32), 8000), 0)
