"""Tests for stillmotion.image: the Load stage, on real photos from skimage.data."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms
from skimage import data

from stillmotion.errors import InputError
from stillmotion.image import (
    MAX_PIXELS,
    MIN_SIDE_PX,
    SMALL_SIDE_PX,
    Still,
    load_image,
    load_mask,
    output_size,
)
from stillmotion.request import Aspect, Resolution

ASTRONAUT = data.astronaut()  # 512×512 RGB
COFFEE = data.coffee()  # 400×600 RGB
CHELSEA = data.chelsea()  # 300×451 RGB


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int32) - b.astype(np.int32)).mean())


def save(img: Image.Image | np.ndarray, path: Path, **kw) -> Path:
    if isinstance(img, np.ndarray):
        img = Image.fromarray(img)
    img.save(path, **kw)
    return path


def png_bytes(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2, raw: bytes = b"") -> bytes:
    """A PNG file with the given header and ``raw`` (filtered scanlines) as its only IDAT."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def assert_rgb8(still: Still, width: int, height: int) -> None:
    assert still.rgb.dtype == np.uint8
    assert still.rgb.shape == (height, width, 3)
    assert still.rgb.flags.c_contiguous
    assert still.size == (width, height) == still.source_size


def assert_input_error(path: Path, match: str, **kw) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        load_image(path, **kw)
    err = info.value
    assert err.exit_code == 2
    assert path.name in str(err)
    assert "\n" not in str(err)
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)  # no chained traceback
    return err


# --- good photos -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kw", "tol"),
    [
        ("a.jpg", {"quality": 95}, 3.0),
        ("a.png", {}, 0.0),
        ("a.webp", {"lossless": True}, 0.0),
        ("a.tif", {}, 0.0),
        ("a.bmp", {}, 0.0),
    ],
)
def test_loads_allowed_formats(tmp_path, name, kw, tol):
    still = load_image(save(COFFEE, tmp_path / name, **kw))
    assert_rgb8(still, 600, 400)
    assert mae(still.rgb, COFFEE) <= tol
    assert still.path == tmp_path / name


def test_loads_str_path_and_big_photo_has_no_warnings(tmp_path):
    big = np.repeat(np.repeat(ASTRONAUT, 2, axis=0), 2, axis=1)  # 1024×1024
    still = load_image(str(save(big, tmp_path / "big.png")))
    assert_rgb8(still, 1024, 1024)
    assert np.array_equal(still.rgb, big)
    assert still.warnings == ()


@pytest.mark.parametrize(("orientation", "k"), [(6, -1), (8, 1), (3, 2)])
def test_exif_orientation_is_applied(tmp_path, orientation, k):
    src = COFFEE  # 600 wide × 400 high, so a quarter turn changes the shape
    exif = Image.Exif()
    exif[0x0112] = orientation
    still = load_image(save(src, tmp_path / f"phone{orientation}.jpg", exif=exif, quality=95))
    upright = np.rot90(src, k=k)
    assert still.rgb.shape == upright.shape
    assert still.source_size == (upright.shape[1], upright.shape[0])
    assert mae(still.rgb, upright) < 3


@pytest.mark.parametrize(("orientation", "k"), [(6, -1), (8, 1)])
def test_a_mask_is_turned_upright_like_the_photo(tmp_path, orientation, k):
    """load_mask decodes with load_image's own code: a phone's EXIF quarter turn applies to masks too."""
    stored = np.zeros((64, 48), np.uint8)  # as stored: 48 wide × 64 high; upright it is the photo's 64×48
    stored[:16, :12] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    m = load_mask(save(stored, tmp_path / f"mask{orientation}.png", exif=exif), (64, 48))
    upright = np.rot90(stored, k=k).astype(np.float32) / 255
    assert m.shape == (48, 64) and m.dtype == np.float32
    assert np.array_equal(m, upright)
    # Without the EXIF turn, the same pixels are the wrong way round for this photo.
    with pytest.raises(InputError, match=r"^--freeze '.*' is 48×64 but the photo is 64×48"):
        load_mask(save(stored, tmp_path / "flat.png"), (64, 48), flag="--freeze")


def test_greyscale_becomes_equal_channels(tmp_path):
    grey = np.asarray(Image.fromarray(ASTRONAUT).convert("L"))
    still = load_image(save(grey, tmp_path / "grey.png"))
    assert_rgb8(still, 512, 512)
    for c in range(3):
        assert np.array_equal(still.rgb[..., c], grey)


def test_one_bit_becomes_black_and_white(tmp_path):
    bw = Image.fromarray(ASTRONAUT).convert("1")
    still = load_image(save(bw, tmp_path / "bw.png"))
    assert set(np.unique(still.rgb)) == {0, 255}
    assert np.array_equal(still.rgb[..., 0] == 255, np.asarray(bw))


def test_16bit_grey_png_is_scaled_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 512 * 64).round().astype(np.uint16).reshape(64, 512)
    path = save(Image.fromarray(ramp), tmp_path / "ramp16.png")
    assert Image.open(path).mode in ("I;16", "I")
    still = load_image(path)
    grey = still.rgb[..., 0]
    assert grey.min() == 0 and grey.max() == 255
    assert (grey == 255).mean() < 0.01  # clipping would saturate almost everything
    assert np.all(np.diff(grey.ravel().astype(int)) >= 0)  # still a monotone ramp
    assert abs(int(grey[32, 256]) - 128) <= 2
    expected = np.round(ramp / 257).astype(np.uint8)
    assert np.abs(grey.astype(int) - expected).max() <= 1


def test_16bit_rgb_png(tmp_path):
    h, w = 64, 512
    rgb16 = np.zeros((h, w, 3), ">u2")
    rgb16[..., 0] = np.linspace(0, 65535, w).astype(">u2")
    rgb16[..., 2] = 65535
    raw = b"".join(b"\x00" + rgb16[y].tobytes() for y in range(h))
    path = tmp_path / "rgb16.png"
    path.write_bytes(png_bytes(w, h, bit_depth=16, colour_type=2, raw=raw))
    still = load_image(path)
    assert_rgb8(still, w, h)
    assert still.rgb[..., 0].min() == 0 and still.rgb[..., 0].max() == 255
    assert np.all(still.rgb[..., 1] == 0) and np.all(still.rgb[..., 2] == 255)


def test_cmyk_jpeg_colours_match(tmp_path):
    path = save(Image.fromarray(ASTRONAUT).convert("CMYK"), tmp_path / "cmyk.jpg", quality=95)
    assert Image.open(path).mode == "CMYK"
    still = load_image(path)
    assert_rgb8(still, 512, 512)
    assert mae(still.rgb, ASTRONAUT) < 12


def test_srgb_icc_profile_keeps_colours(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    still = load_image(save(COFFEE, tmp_path / "icc.png", icc_profile=srgb))
    assert mae(still.rgb, COFFEE) < 1
    assert not any("colour profile" in w for w in still.warnings)


def test_multipage_tiff_uses_first_page_with_warning(tmp_path):
    pages = [Image.fromarray(COFFEE), Image.fromarray(COFFEE[::-1].copy())]
    path = save(pages[0], tmp_path / "scan.tif", save_all=True, append_images=pages[1:])
    still = load_image(path)
    assert np.array_equal(still.rgb, COFFEE)
    assert any("has several pages: using the first" in w for w in still.warnings)


def test_palette_image(tmp_path):
    pal = Image.fromarray(ASTRONAUT).quantize(256)
    still = load_image(save(pal, tmp_path / "pal.png"))
    assert_rgb8(still, 512, 512)
    assert np.array_equal(still.rgb, np.asarray(pal.convert("RGB")))
    assert mae(still.rgb, ASTRONAUT) < 12


def test_palette_transparency_is_grey(tmp_path):
    idx = np.zeros((64, 64), np.uint8)
    idx[:, 32:] = 1
    pal = Image.fromarray(idx, mode="P")
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    still = load_image(save(pal, tmp_path / "pal_t.png", transparency=0))
    assert np.all(still.rgb[:, :32] == 128)
    assert np.all(still.rgb[:, 32:] == [0, 0, 255])


def test_rgba_is_composited_over_mid_grey(tmp_path):
    rgba = np.dstack([ASTRONAUT, np.full(ASTRONAUT.shape[:2], 255, np.uint8)])
    rgba[:, :100, 3] = 0  # fully transparent
    rgba[:, 100:200, 3] = 128  # half
    still = load_image(save(rgba, tmp_path / "alpha.png"))
    assert_rgb8(still, 512, 512)
    assert np.all(still.rgb[:, :100] == 128)
    assert np.array_equal(still.rgb[:, 200:], ASTRONAUT[:, 200:])
    half = (ASTRONAUT[:, 100:200].astype(int) * 128 + 128 * 127) / 255
    assert np.abs(still.rgb[:, 100:200] - half).max() <= 1


def test_la_is_composited_over_mid_grey(tmp_path):
    grey = np.asarray(Image.fromarray(CHELSEA).convert("L"))
    alpha = np.full(grey.shape, 255, np.uint8)
    alpha[:50] = 0
    still = load_image(save(Image.fromarray(np.dstack([grey, alpha]), mode="LA"), tmp_path / "la.png"))
    assert np.all(still.rgb[:50] == 128)
    assert np.array_equal(still.rgb[50:, :, 1], grey[50:])


@pytest.mark.parametrize("name", ["anim.gif", "anim.webp"])
def test_animated_uses_first_frame_with_warning(tmp_path, name):
    first, second = ASTRONAUT[:256, :256], COFFEE[:256, :256]
    frames = [Image.fromarray(first), Image.fromarray(second)]
    path = save(frames[0], tmp_path / name, save_all=True, append_images=frames[1:], duration=100)
    still = load_image(path)
    assert_rgb8(still, 256, 256)
    assert mae(still.rgb, first) < 15 < mae(still.rgb, second)
    assert any("is animated: using its first frame" in w and name in w for w in still.warnings)


def test_small_photo_loads_with_soft_warning(tmp_path):
    still = load_image(save(CHELSEA, tmp_path / "cat.jpg"))
    assert_rgb8(still, 451, 300)
    assert min(still.size) < SMALL_SIDE_PX
    (warning,) = still.warnings
    assert "cat.jpg" in warning and "upscaled" in warning and "1024×576" in warning


def test_still_checks_its_array():
    with pytest.raises(ValueError, match="uint8 H×W×3"):
        Still(rgb=np.zeros((4, 4, 3), np.float32), path=Path("x.png"), source_size=(4, 4))
    with pytest.raises(ValueError, match="uint8 H×W×3"):
        Still(rgb=np.zeros((4, 4), np.uint8), path=Path("x.png"), source_size=(4, 4))
    still = Still(rgb=np.zeros((4, 6, 3), np.uint8)[:, ::2], path=Path("x.png"), source_size=(3, 4))
    assert still.rgb.flags.c_contiguous and still.size == (3, 4)


# --- bad photos ------------------------------------------------------------------


def _truncated(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    return dst


def _corrupt_middle(src: Path, dst: Path) -> Path:
    raw = bytearray(src.read_bytes())
    raw[2000:2200] = bytes(200)
    dst.write_bytes(bytes(raw))
    return dst


def _header_zeroed(src: Path, dst: Path) -> Path:
    raw = bytearray(src.read_bytes())
    raw[30:200] = bytes(170)
    dst.write_bytes(bytes(raw))
    return dst


def _write(path: Path, content: bytes | str) -> Path:
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return path


def _folder(path: Path) -> Path:
    path.mkdir()
    return path


BAD_FILES = {
    "missing": (lambda d: d / "nope.jpg", "does not exist"),
    "folder": (lambda d: _folder(d / "folder.jpg"), "is a folder"),
    "empty": (lambda d: _write(d / "empty.png", b""), "is empty"),
    "text": (lambda d: _write(d / "notes.txt", "a cat on a sofa\n"), "not a supported image"),
    "video": (lambda d: _write(d / "clip.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(64)), "is a video"),
    "heic": (lambda d: _write(d / "iphone.heic", b"\x00\x00\x00\x18ftypheic" + bytes(64)), "HEIC"),
    "ppm": (lambda d: save(CHELSEA, d / "cat.ppm"), r"not a supported image \(JPEG, PNG, WebP, TIFF, BMP or GIF\)"),
    "truncated jpeg": (
        lambda d: _truncated(save(ASTRONAUT, d / "full.jpg"), d / "cut.jpg"),
        r"is truncated or corrupt \(image file is truncated.*\): re-export or re-download it",
    ),
    "truncated png": (lambda d: _truncated(save(ASTRONAUT, d / "full.png"), d / "cut.png"), "is truncated or corrupt"),
    "corrupt png": (lambda d: _corrupt_middle(save(ASTRONAUT, d / "ok.png"), d / "bad.png"), "truncated or corrupt"),
    "corrupt jpeg header": (
        lambda d: _header_zeroed(save(ASTRONAUT, d / "ok.jpg"), d / "bad.jpg"),
        "looks like a JPEG file but its header is corrupt",
    ),
    "zero size": (lambda d: _write(d / "zero.png", png_bytes(0, 0)), "corrupt"),
    "too small": (lambda d: save(ASTRONAUT[:10, :10], d / "dot.png"), f"at least {MIN_SIDE_PX} pixels"),
    "absurd aspect": (lambda d: save(ASTRONAUT[:20, :400], d / "strip.png"), "aspect ratio over 8:1"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_one_line_input_error(tmp_path, case):
    make, match = BAD_FILES[case]
    assert_input_error(make(tmp_path), match)


def test_decompression_bomb_is_rejected_before_decoding(tmp_path):
    # 12000×9000 = 108 MP: over MAX_PIXELS, under Pillow's hard limit. The file
    # holds no pixel data, so any decoding would fail with a different message.
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bytes(12_000, 9_000))
    assert 12_000 * 9_000 > MAX_PIXELS
    assert_input_error(path, r"12000×9000 pixels \(108 megapixels\), over the 100-megapixel limit")


def test_pillow_decompression_bomb_error_becomes_input_error(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(png_bytes(20_000, 20_000))  # 400 MP: Pillow refuses it while opening
    assert_input_error(path, "too large to decode safely")


def test_max_pixels_argument(tmp_path):
    path = save(ASTRONAUT, tmp_path / "a.png")
    assert_input_error(path, "over the 0.1-megapixel limit", max_pixels=100_000)
    assert load_image(path, max_pixels=512 * 512).size == (512, 512)


# --- output size -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("photo", "size", "res", "aspect", "expected"),
    [
        ((2560, 1600), None, "720p", "source", (1152, 720)),
        ((2560, 1600), None, "720p", "16:9", (1280, 720)),
        ((2560, 1600), None, "1080p", "9:16", (1080, 1920)),
        ((1000, 1500), None, "720p", "source", (720, 1080)),
        ((1000, 1000), None, "480p", "4:5", (480, 600)),
        ((1000, 1000), None, "1080p", "1:1", (1080, 1080)),
        ((1001, 999), None, "480p", "source", (480, 480)),
        ((451, 300), None, "720p", "source", (1082, 720)),  # 1082.4 → even
        ((2560, 1600), "640x360", "1080p", "9:16", (640, 360)),  # size wins
    ],
)
def test_output_size(photo, size, res, aspect, expected):
    w, h, notes = output_size(photo, size=size, resolution=Resolution(res), aspect=Aspect(aspect))
    assert (w, h) == expected
    assert w % 2 == 0 and h % 2 == 0
    assert notes == []


def test_output_size_caps_long_side_at_4096():
    w, h, notes = output_size((800, 6000), size=None, resolution=Resolution.p1080, aspect=Aspect.source)
    assert (w, h) == (546, 4096)  # 1080×8100 → long side 4096, short 4096·0.1333 = 546.1 → 546
    (note,) = notes
    assert "1080x8100" in note and "546x4096" in note and "4096" in note


def test_output_size_rejects_bad_size():
    with pytest.raises(InputError):
        output_size((100, 100), size="641x360", resolution=Resolution.p720, aspect=Aspect.source)
