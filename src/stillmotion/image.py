"""Load: decode one photo safely into an sRGB ``uint8`` H×W×3 array.

:func:`load_image` opens only an allow-list of formats (JPEG, PNG, WebP,
TIFF, BMP, GIF), checks the pixel count from the header before decoding
(decompression bombs), applies the EXIF orientation of phone photos and
converts every colour mode (greyscale, 1-bit, 16-bit, palette, CMYK,
alpha, embedded ICC profiles) to sRGB RGB. Every problem a user can fix
becomes one :class:`~stillmotion.errors.InputError` line naming the file,
the problem and the fix.

:func:`output_size` chooses the output video size from the request's
``size``, or ``resolution`` and ``aspect``.

:func:`load_mask` reads the motion brush's painted masks (``--mask``,
``--freeze``) with the same decoders and the same one-line errors.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ._measure import smoothstep
from .errors import InputError
from .request import MAX_SIDE, Aspect, Resolution, parse_size

__all__ = [
    "check_image",
    "crop_to_aspect",
    "MAX_ASPECT",
    "MAX_PIXELS",
    "MIN_SIDE_PX",
    "SMALL_SIDE_PX",
    "Still",
    "load_image",
    "load_mask",
    "output_size",
]

MAX_PIXELS = 100_000_000
"""Largest photo accepted, in pixels (width × height), checked before decoding."""
MIN_SIDE_PX = 16
"""Smallest accepted photo side in pixels."""
SMALL_SIDE_PX = 480
"""A photo whose short side is below this loads with a quality warning."""
MAX_ASPECT = 8.0
"""Largest accepted width/height or height/width of a photo."""

BACKGROUND_RGB = (128, 128, 128)
"""Neutral mid-grey that transparent pixels are composited over."""

# Pillow format names. Pillow's JPEG opener also opens the multi-picture
# JPEGs many phones write (a photo plus a preview or depth map) as "MPO".
_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF")
_FORMATS_TEXT = "JPEG, PNG, WebP, TIFF, BMP or GIF"

# What Pillow's decoders raise on a damaged file: the file is at fault,
# not the program, so each becomes an InputError. Kept to the decoding
# calls only, so a bug in this module still shows as a bug.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, ZeroDivisionError)

# First bytes of the allowed formats, to tell "corrupt PNG" from "not an image".
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)
# Masks: ITU-R BT.601 luma, as Pillow's convert("L").
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Soft threshold of mask values: below LO is exactly 0 (JPEG noise on black),
# above HI exactly 1, smoothstep between.
_MASK_LO, _MASK_HI = 0.1, 0.9
# A transparent mask whose painted pixels (alpha > 0.5) vary in luminance by
# at most this much is read by its alpha: the paint colour does not matter.
_UNIFORM_LUMA = 8 / 255
# What the mask means, by flag: load_mask accepts exactly these.
_MASK_ROLES = {"--mask": "moves", "--freeze": "frozen"}
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis")


# eq=False: a generated __eq__ would compare arrays (an error) and __hash__ would fail on them.
@dataclass(frozen=True, eq=False)
class Still:
    """A decoded photo, ready for the Understand stage.

    Attributes:
        rgb: ``uint8`` array of shape (H, W, 3), sRGB, C-contiguous, values 0..255.
        path: The photo's path as given.
        source_size: (width, height) of the photo in pixels, after EXIF orientation.
        warnings: One-line notices for the user (animated file, small photo, ...).
    """

    rgb: np.ndarray
    path: Path
    source_size: tuple[int, int]
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        a = self.rgb
        if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
            shape = getattr(a, "shape", None)
            dtype = getattr(a, "dtype", type(a).__name__)
            raise ValueError(f"Still.rgb must be a uint8 H×W×3 array, got {dtype} with shape {shape}")
        if not a.flags.c_contiguous:
            object.__setattr__(self, "rgb", np.ascontiguousarray(a))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of :attr:`rgb` in pixels."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def load_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> Still:
    """Decode a photo into an sRGB ``uint8`` H×W×3 array.

    Accepts JPEG, PNG, WebP, TIFF, BMP and GIF. The photo is turned
    upright by its EXIF orientation; greyscale, 1-bit, 16-bit (scaled,
    65535 → 255), palette, CMYK and embedded ICC profiles become sRGB RGB;
    transparent areas are composited over mid-grey (128, 128, 128). An
    animated GIF, WebP or PNG gives its first frame, with a warning. A
    photo whose short side is below :data:`SMALL_SIDE_PX` loads with a
    warning that the clip will look soft.

    Args:
        path: The photo file.
        max_pixels: Largest accepted width × height, checked from the header
            before decoding. Pillow's own hard limit (2 ×
            ``PIL.Image.MAX_IMAGE_PIXELS``, about 179 megapixels) still applies.

    Returns:
        A :class:`Still` whose ``rgb`` is ``uint8`` (H, W, 3), C-contiguous.

    Raises:
        InputError: the path is missing, a folder, unreadable or empty; the
            file is not an allowed image format; it is truncated or corrupt;
            it has more than ``max_pixels`` pixels; a side is below
            :data:`MIN_SIDE_PX`; or its aspect ratio exceeds :data:`MAX_ASPECT`.

    >>> still = load_image("photo.jpg")  # doctest: +SKIP
    >>> still.rgb.shape, still.rgb.dtype  # doctest: +SKIP
    ((1080, 1920, 3), dtype('uint8'))
    """
    path = Path(path)
    label = f"photo '{path}'"
    notes: list[str] = []
    with _open_checked(path, label, max_pixels) as im:
        # 1. Size limits, from the header, before any pixel is decoded (the pixel
        #    count was checked on opening).
        _check_sides(im.size, label)
        # 2. Decode the first frame, upright as the camera saw it.
        upright, icc = _decode_upright(im, label, notes)
        # 3. sRGB uint8 H×W×3.
        rgb = _to_srgb_rgb8(upright, icc, label, notes)

    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    if min(w, h) < SMALL_SIDE_PX:
        notes.append(
            f"{label} is only {w}×{h} pixels: the clip will be upscaled and look soft; "
            "use a larger photo (ideally 1024×576 or more)"
        )
    return Still(rgb=rgb, path=path, source_size=(w, h), warnings=tuple(notes))


def load_mask(path: str | os.PathLike, photo_size: tuple[int, int], *, flag: str = "--mask") -> np.ndarray:
    """Read a painted mask: float32 H×W in [0, 1] at the photo's size, 1 = white.

    Any image :func:`load_image` reads (JPEG, PNG, WebP,
    TIFF, BMP, GIF), turned upright by its EXIF orientation. Values are the
    luminance, or the alpha when the image has transparency and its painted
    pixels are all one colour (white strokes on a transparent layer); a
    transparent image with varied colours gives luminance × alpha. A soft
    threshold follows: below 0.1 is 0, above 0.9 is 1, smoothstep between.

    Args:
        path: The mask file.
        photo_size: (width, height) of the photo in pixels, after EXIF orientation.
        flag: ``"--mask"`` (white = moves; all black is an error) or
            ``"--freeze"`` (white = frozen; all black means nothing frozen
            and gives zeros; all white is an error).

    Returns:
        float32 array of shape (height, width), values in [0, 1].

    Raises:
        InputError: the file is missing, a folder, unreadable, not an image,
            truncated or corrupt; it is not exactly ``photo_size``; a
            ``--mask`` is all black or a ``--freeze`` all white.
        ValueError: ``flag`` is neither ``"--mask"`` nor ``"--freeze"``.

    >>> moves = load_mask("water.png", (1280, 960))  # doctest: +SKIP
    >>> moves.shape, moves.dtype  # doctest: +SKIP
    ((960, 1280), dtype('float32'))
    """
    role = _MASK_ROLES.get(flag)
    if role is None:
        raise ValueError(f"flag must be one of {sorted(_MASK_ROLES)}, got {flag!r}")
    path = Path(path)
    label = f"{flag} '{path}'"
    pw, ph = photo_size
    notes: list[str] = []  # animated file, unreadable EXIF: harmless for a mask
    with _open_checked(path, label, MAX_PIXELS) as im:
        if im.size not in ((pw, ph), (ph, pw)):  # (ph, pw): EXIF may rotate it to the right size
            raise _wrong_size(label, im.size, photo_size)
        upright, _icc = _decode_upright(im, label, notes)
        if upright.size != (pw, ph):
            raise _wrong_size(label, upright.size, photo_size)
        raw = None
        if upright.has_transparency_data:
            rgba = np.asarray(upright.convert("RGBA"), dtype=np.float32) / 255
            alpha = rgba[..., 3]
            if alpha.min() < 1:
                lum = rgba[..., :3] @ _LUMA
                painted = alpha > 0.5
                uniform = not painted.any() or float(np.ptp(lum[painted])) <= _UNIFORM_LUMA
                raw = alpha if uniform else lum * alpha
            else:
                raw = rgba[..., :3] @ _LUMA
        if raw is None:
            raw = _to_srgb_rgb8(upright, None, label, notes).astype(np.float32) @ (_LUMA / 255)

    values = smoothstep((raw - _MASK_LO) / (_MASK_HI - _MASK_LO))
    if role == "moves" and not values.any():
        raise InputError(f"{label} is all black: nothing would move; paint the moving areas white")
    if role == "frozen" and values.min() >= 1:
        raise InputError(f"{label} is all white: everything would be frozen; paint only the still areas white")
    return np.ascontiguousarray(values, dtype=np.float32)


def output_size(
    photo_size: tuple[int, int],
    *,
    size: str | None,
    resolution: Resolution,
    aspect: Aspect,
) -> tuple[int, int, list[str]]:
    """Choose the output video size in pixels.

    With ``size`` (``"WxH"``) that size is used exactly. Otherwise the short
    side is ``resolution.short_side`` and the aspect is ``aspect.ratio``, or
    the photo's own aspect for ``Aspect.source``; both sides are rounded to
    even numbers (H.264 yuv420p needs them). A long side over 4096 is capped
    at 4096 and the short side recomputed, with a warning.

    Args:
        photo_size: (width, height) of the photo in pixels, both > 0.
        size: ``"WxH"`` in pixels, or None.
        resolution: Output short side (480p, 720p or 1080p).
        aspect: Output width/height (16:9, 9:16, 1:1, 4:5) or ``source``.

    Returns:
        (width, height, warnings): even sides in pixels, within [2, 4096],
        and one-line notices for the user.

    Raises:
        InputError: ``size`` is not a valid ``WxH`` (see :func:`~stillmotion.request.parse_size`).
        ValueError: ``photo_size`` has a side <= 0.

    >>> output_size((2560, 1600), size=None, resolution=Resolution.p720, aspect=Aspect.source)
    (1152, 720, [])
    >>> output_size((2560, 1600), size=None, resolution=Resolution.p1080, aspect=Aspect.vertical)
    (1080, 1920, [])
    """
    if size is not None:
        w, h = parse_size(size)
        return w, h, []
    pw, ph = photo_size
    if pw <= 0 or ph <= 0:
        raise ValueError(f"photo_size must be (width, height) > 0 pixels, got {photo_size}")
    resolution, aspect = Resolution(resolution), Aspect(aspect)
    ratio = aspect.ratio if aspect.ratio is not None else pw / ph  # width / height
    short = resolution.short_side
    if ratio >= 1:
        w, h = _even(short * ratio), short
    else:
        w, h = short, _even(short / ratio)
    notes: list[str] = []
    if max(w, h) > MAX_SIDE:
        before = f"{w}x{h}"
        if w >= h:
            w, h = MAX_SIDE, _even(MAX_SIDE / ratio)
        else:
            w, h = _even(MAX_SIDE * ratio), MAX_SIDE
        notes.append(
            f"{resolution.value} at aspect {aspect.value} would be {before}: long side capped at {MAX_SIDE} "
            f"pixels, {before} → {w}x{h}"
        )
    return w, h, notes


def crop_to_aspect(rgb: np.ndarray, width: int, height: int, centre: tuple[float, float]) -> np.ndarray:
    """Crop uint8 H×W×3 ``rgb`` to the aspect width:height around ``centre`` (x, y fractions of the
    photo, the crop kept inside it), then resize to exactly width×height pixels: never stretches.

    Returns:
        uint8 height×width×3 RGB (area resampling when shrinking, bicubic when enlarging).

    >>> crop_to_aspect(np.zeros((400, 600, 3), np.uint8), 160, 160, (0.5, 0.5)).shape
    (160, 160, 3)
    """
    import cv2

    h, w = rgb.shape[:2]
    target = width / height
    if w / h > target:
        cw, ch = round(h * target), h
    else:
        cw, ch = w, round(w / target)
    x0 = int(np.clip(centre[0] * w - cw / 2, 0, w - cw))
    y0 = int(np.clip(centre[1] * h - ch / 2, 0, h - ch))
    crop = rgb[y0 : y0 + ch, x0 : x0 + cw]
    interp = cv2.INTER_AREA if cw > width else cv2.INTER_CUBIC
    return cv2.resize(crop, (width, height), interpolation=interp)


def check_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """Check a photo from its header alone, as :func:`load_image` would, without decoding pixels.

    For checking many photos up front (``stillmotion batch``): the file exists,
    is an allowed format with a readable header, and its size and aspect ratio
    are within the limits. A corrupt body is found only by :func:`load_image`.

    Returns:
        ``(width, height)`` in pixels, as stored (before EXIF rotation).

    Raises:
        InputError: as :func:`load_image` for everything the header shows.
    """
    path = Path(path)
    label = f"photo '{path}'"
    with _open_checked(path, label, max_pixels) as im:
        _check_sides(im.size, label)
        return im.size


def _check_sides(size: tuple[int, int], label: str) -> None:
    """Refuse a photo too small on a side or too elongated (from its header size in pixels)."""
    width, height = size
    if min(width, height) < MIN_SIDE_PX:
        raise InputError(
            f"{label} is only {width}×{height} pixels: use a photo at least {MIN_SIDE_PX} pixels on each side "
            "(ideally 1024×576 or larger)"
        )
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise InputError(
            f"{label} is {width}×{height} pixels, an aspect ratio over {MAX_ASPECT:g}:1: "
            f"crop it to at most {MAX_ASPECT:g}:1 first"
        )


def _open_checked(path: Path, label: str, max_pixels: int) -> Image.Image:
    """Open ``path`` with Pillow (allowed formats only), nothing decoded yet; the caller closes it.

    Shared by :func:`load_image` and :func:`load_mask`.
    ``label`` starts every message (``"photo 'x.jpg'"``, ``"--mask 'm.png'"``).

    Raises:
        InputError: missing, a folder, unreadable, empty, not an allowed
            format, a corrupt header, or over ``max_pixels`` pixels.
    """
    if not path.exists():
        raise InputError(f"{label} does not exist: check the path and spelling")
    if path.is_dir():
        raise InputError(f"{label} is a folder, not an image: pass one image file ({_FORMATS_TEXT})")
    try:
        with path.open("rb") as f:
            head = f.read(32)
    except OSError as err:
        raise InputError(f"{label} cannot be read ({err.strerror or err}): check its permissions") from None
    if not head:
        raise InputError(f"{label} is empty (0 bytes): re-export or re-download it")
    try:
        # Pillow warns above its own limit (~89 MP); max_pixels is checked
        # just below from the same header, so that warning is redundant here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path, formats=_FORMATS)
    except Image.DecompressionBombError as err:
        raise InputError(f"{label} is too large to decode safely ({err}): downscale it first") from None
    except Image.UnidentifiedImageError:
        raise InputError(_not_an_image(label, path, head)) from None
    except _DECODE_ERRORS as err:
        raise InputError(f"{label} is truncated or corrupt ({_reason(err)}): re-export or re-download it") from None
    width, height = im.size
    if width * height > max_pixels:
        im.close()
        raise InputError(
            f"{label} is {width}×{height} pixels ({width * height / 1e6:.0f} megapixels), over the "
            f"{max_pixels / 1e6:g}-megapixel limit: downscale it first (it may be a decompression bomb)"
        )
    return im


def _decode_upright(im: Image.Image, label: str, notes: list[str]) -> tuple[Image.Image, bytes | None]:
    """Decode the first frame of ``im`` and turn it upright by its EXIF orientation.

    Returns the upright image and its embedded ICC profile (or None); an
    animated file or unreadable EXIF data adds a line to ``notes``.

    Raises:
        InputError: the pixel data is truncated or corrupt, or a frame is
            larger than the header said (decompression bomb).
    """
    # A bomb warning now (a later frame larger than the header said) is an error.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            if getattr(im, "is_animated", False):
                if im.format in ("GIF", "WEBP", "PNG"):
                    notes.append(f"{label} is animated: using its first frame")
                elif im.format == "TIFF":
                    notes.append(f"{label} has several pages: using the first")
                # MPO: the extra pictures are previews or depth maps, not frames.
                im.seek(0)
            im.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise InputError(f"{label} is too large to decode safely ({err}): downscale it first") from None
    except _DECODE_ERRORS as err:
        raise InputError(f"{label} is truncated or corrupt ({_reason(err)}): re-export or re-download it") from None

    icc = im.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(im)
    except _DECODE_ERRORS as err:
        upright = im
        notes.append(f"{label} has unreadable EXIF data ({_reason(err)}): using it as stored, not rotated")
    return upright, icc


def _wrong_size(label: str, got: tuple[int, int], photo_size: tuple[int, int]) -> InputError:
    (gw, gh), (pw, ph) = got, photo_size
    return InputError(f"{label} is {gw}×{gh} but the photo is {pw}×{ph}: make the mask the photo's size")


def _even(x: float) -> int:
    """Nearest even integer >= 2."""
    return max(2, 2 * int(round(x / 2)))


def _reason(err: BaseException) -> str:
    """Pillow's message for ``err``, on one line."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _not_an_image(label: str, path: Path, head: bytes) -> str:
    """The message for a file Pillow cannot identify, guessing why from its first bytes."""
    fmt = next((name for magic, name in _MAGIC if head.startswith(magic)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        fmt = "WebP"
    if fmt is not None:
        return f"{label} looks like a {fmt} file but its header is corrupt: re-export or re-download it"
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            return f"{label} is a HEIC/AVIF photo, which this version cannot read: export it as JPEG or PNG"
        return f"{label} is a video, not a photo: export one frame as JPEG or PNG"
    return f"{label} is not a supported image ({_FORMATS_TEXT}): convert it to JPEG or PNG"


def _to_srgb_rgb8(im: Image.Image, icc: bytes | None, label: str, notes: list[str]) -> np.ndarray:
    """Convert a decoded Pillow image of any mode to a ``uint8`` (H, W, 3) sRGB array.

    16-bit and 32-bit modes are scaled, never clipped; alpha is composited
    over :data:`BACKGROUND_RGB`; an embedded ICC profile is converted to sRGB.
    """
    mode = im.mode
    if mode.startswith("I;16"):
        a16 = np.asarray(im).astype(np.uint32)
        return _grey_to_rgb(((a16 * 255 + 32767) // 65535).astype(np.uint8))
    if mode in ("I", "F"):
        return _grey_to_rgb(_wide_to_uint8(np.asarray(im), mode, label, notes))

    if im.has_transparency_data and mode != "RGBA":
        im = im.convert("RGBA")
    if icc and im.mode in ("RGB", "RGBA", "CMYK"):
        im = _icc_to_srgb(im, icc, label, notes)
    if im.mode == "RGBA":
        rgba = np.asarray(im)
        alpha = rgba[..., 3:4].astype(np.uint16)
        if (alpha == 255).all():
            return rgba[..., :3]
        bg = np.asarray(BACKGROUND_RGB, np.uint16)
        mixed = (rgba[..., :3].astype(np.uint16) * alpha + bg * (255 - alpha) + 127) // 255
        return mixed.astype(np.uint8)
    if im.mode != "RGB":
        try:
            im = im.convert("RGB")
        except ValueError:
            raise InputError(
                f"{label} uses the colour mode {mode}, which cannot be converted to RGB: save it as an RGB JPEG or PNG"
            ) from None
    return np.asarray(im)


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., None], 3, axis=2)


def _wide_to_uint8(a: np.ndarray, mode: str, label: str, notes: list[str]) -> np.ndarray:
    """Scale a 32-bit integer ("I") or float ("F") greyscale image to 0..255."""
    a = a.astype(np.float64)
    lo, hi = float(a.min()), float(a.max())
    if mode == "I" and lo >= 0 and hi <= 65535:
        return np.round(a * (255 / 65535)).astype(np.uint8)  # 16-bit data that Pillow opened as "I"
    if mode == "F" and lo >= 0 and hi <= 1:
        return np.round(a * 255).astype(np.uint8)
    notes.append(f"{label} has {mode} pixel values in [{lo:g}, {hi:g}]: stretched to 0..255")
    if hi <= lo:
        return np.zeros(a.shape, np.uint8)
    return np.round((a - lo) * (255 / (hi - lo))).astype(np.uint8)


def _icc_to_srgb(im: Image.Image, icc: bytes, label: str, notes: list[str]) -> Image.Image:
    """Convert ``im`` (RGB, RGBA or CMYK) from its embedded ICC profile to sRGB."""
    try:
        from PIL import ImageCms
    except ImportError:  # Pillow built without LittleCMS
        notes.append(f"{label} has a colour profile but Pillow cannot apply it here: colours may be slightly off")
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if im.mode != "CMYK" and "srgb" in (ImageCms.getProfileDescription(src) or "").lower():
            return im  # already sRGB
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode=out_mode)
        return converted if converted is not None else im  # None only with inPlace=True
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError) as err:
        notes.append(f"{label} has a colour profile that could not be applied ({_reason(err)}): colours may be off")
        return im
