"""Pictures: every format read into RGB, alpha/bit depth/orientation handled, PNG metadata kept."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from media_makers import Maker, gradient_rgb
from PIL import Image as PILImage

from codi_studio.media import Image, MediaError, read_image, read_media, read_png_metadata, write_media, write_png


def test_png_8bit_round_trip_is_exact(make: Maker) -> None:
    pixels = gradient_rgb(37, 53)
    path = write_png(make.path("out.png"), Image(pixels))
    back = read_image(path)
    assert back.pixels.shape == (37, 53, 3)
    np.testing.assert_array_equal(back.pixels, pixels)


def test_png_16bit_rgb_is_scaled_not_clipped(make: Maker) -> None:
    deep = gradient_rgb(20, 30).astype(np.uint16) * 257  # full 16-bit range
    path = make.path("deep.png")
    assert cv2.imwrite(str(path), cv2.cvtColor(deep, cv2.COLOR_RGB2BGR))
    assert path.read_bytes()[24] == 16  # IHDR bit depth: really a 16-bit PNG
    back = read_image(path)
    assert np.abs(back.pixels.astype(int) - gradient_rgb(20, 30).astype(int)).max() <= 1


def test_png_16bit_grey_is_scaled(make: Maker) -> None:
    grey16 = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1040).astype(np.uint16)
    path = make.pillow("grey16.png", PILImage.fromarray(grey16))
    assert path.read_bytes()[24] == 16
    back = read_image(path)
    expected = np.rint(grey16 / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(back.pixels[:, :, 0], expected)
    np.testing.assert_array_equal(back.pixels[:, :, 0], back.pixels[:, :, 2])


def test_grey_png_becomes_three_equal_channels(make: Maker) -> None:
    grey = gradient_rgb(10, 12)[:, :, 0]
    back = read_image(make.pillow("grey.png", PILImage.fromarray(grey, "L")))
    for channel in range(3):
        np.testing.assert_array_equal(back.pixels[:, :, channel], grey)


def test_alpha_is_composited_on_white(make: Maker) -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red
    rgba[:2, :, 3] = 255  # opaque top half
    rgba[2:, :, 3] = 0  # transparent bottom half
    back = read_image(make.pillow("alpha.png", PILImage.fromarray(rgba, "RGBA")))
    assert back.pixels[0, 0].tolist() == [255, 0, 0]
    assert back.pixels[3, 3].tolist() == [255, 255, 255]


def test_palette_png_with_transparency(make: Maker) -> None:
    picture = PILImage.new("P", (6, 6), 1)
    picture.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)  # index 0 black, index 1 blue
    picture.paste(0, (0, 0, 3, 6))
    picture.info["transparency"] = 0
    path = make.pillow("palette.png", picture, transparency=0)
    back = read_image(path)
    assert back.pixels[0, 0].tolist() == [255, 255, 255]  # transparent black -> white
    assert back.pixels[0, 5].tolist() == [0, 0, 255]


def test_jpeg_rgb_reads_close(make: Maker) -> None:
    pixels = gradient_rgb(64, 80)
    back = read_image(make.pillow("photo.jpg", PILImage.fromarray(pixels), quality=95))
    assert back.pixels.shape == pixels.shape
    assert np.abs(back.pixels.astype(int) - pixels.astype(int)).mean() < 4


def test_jpeg_cmyk_is_converted_to_rgb(make: Maker) -> None:
    cmyk = PILImage.new("CMYK", (16, 16), (0, 255, 255, 0))  # pure red in CMYK
    back = read_image(make.pillow("print.jpg", cmyk, quality=95))
    r, g, b = back.pixels[8, 8].astype(int)
    assert r > 230 and g < 25 and b < 25


def test_jpeg_exif_orientation_is_applied(make: Maker) -> None:
    pixels = gradient_rgb(20, 40)  # landscape
    picture = PILImage.fromarray(pixels)
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = make.pillow("phone.jpg", picture, exif=exif.tobytes(), quality=98)
    back = read_image(path)
    assert (back.width, back.height) == (20, 40)  # shown as portrait
    expected = np.rot90(pixels, k=-1)
    assert np.abs(back.pixels.astype(int) - expected.astype(int)).mean() < 4


@pytest.mark.parametrize(("name", "options"), [("lossless.webp", {"lossless": True}), ("plain.bmp", {}), ("scan.tiff", {})])
def test_lossless_formats_read_exactly(make: Maker, name: str, options: dict) -> None:
    pixels = gradient_rgb(24, 30)
    back = read_image(make.pillow(name, PILImage.fromarray(pixels), **options))
    np.testing.assert_array_equal(back.pixels, pixels)


def test_lossy_webp_reads_close(make: Maker) -> None:
    pixels = gradient_rgb(32, 32)
    back = read_image(make.pillow("lossy.webp", PILImage.fromarray(pixels), quality=90))
    assert np.abs(back.pixels.astype(int) - pixels.astype(int)).mean() < 6


def test_gif_gives_its_first_frame(make: Maker) -> None:
    path = make.animated_gif("anim.gif", 3, [100, 100, 100])
    first = read_image(path)
    assert (first.width, first.height) == (32, 24)
    reference = np.asarray(PILImage.open(path).convert("RGB"))
    np.testing.assert_array_equal(first.pixels, reference)


def test_content_decides_not_the_extension(make: Maker) -> None:
    pixels = gradient_rgb(8, 8)
    path = make.pillow("actually_png.jpg", PILImage.fromarray(pixels), format="PNG")
    value = read_media(path)
    assert isinstance(value, Image)
    np.testing.assert_array_equal(value.pixels, pixels)


def test_png_metadata_in_text_and_itxt_chunks(make: Maker) -> None:
    metadata = {"parameters": "a red fox, steps: 50, seed: 7", "prompt": "生成 ✓ émoji"}
    path = write_png(make.path("gen.png"), Image(gradient_rgb(8, 8)), metadata)
    raw = path.read_bytes()
    assert b"tEXtparameters\x00a red fox" in raw  # Latin-1 values go in tEXt, readable by any tool
    assert b"iTXtprompt" in raw  # others in UTF-8 iTXt
    assert read_png_metadata(path) == metadata


def test_bad_metadata_key_leaves_no_file(make: Maker) -> None:
    with pytest.raises(MediaError, match="key"):
        write_png(make.path("gen.png"), Image(gradient_rgb(4, 4)), {"": "empty key"})
    assert list(make.folder.iterdir()) == []


def test_write_media_refuses_a_mismatched_suffix(make: Maker) -> None:
    with pytest.raises(MediaError, match=r"\.png"):
        write_media(make.path("picture.jpg"), Image(gradient_rgb(4, 4)))
    assert list(make.folder.iterdir()) == []


def test_write_replaces_an_existing_file_whole(make: Maker) -> None:
    target = make.path("same.png")
    write_png(target, Image(np.zeros((4, 4, 3), np.uint8)))
    write_png(target, Image(np.full((6, 6, 3), 9, np.uint8)))
    assert read_image(target).pixels.shape == (6, 6, 3)
    assert [p.name for p in make.folder.iterdir()] == ["same.png"]
