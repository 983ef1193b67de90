"""Safe decoding and normalisation of uploaded wound photos (no Flask here).

The upload route calls :func:`process_upload` on the temporary file it
received and maps :class:`ImageRejected.status` straight to the HTTP status
(413 too large, 415 unsupported type, 422 undecodable). Everything that can
go wrong with a hostile or merely broken file ends as an ``ImageRejected``;
nothing here should ever turn bad input into a 500.

Decisions worth knowing (see also the API contract, "Photos"):

- The type is decided by magic bytes only (never the filename or the declared
  content type). Accepted: JPEG (including MPO from phone cameras, first frame
  used), PNG, WebP, HEIF/HEIC and AVIF.
- A zero-byte upload is **422** ("the file is empty"): it claims no media type
  at all, it is an interrupted or failed capture, and the fix is "send it
  again", not "send another format".
- Pixel limits are checked from the header, before any pixel is decoded.
  Pillow's own global ``Image.MAX_IMAGE_PIXELS`` is never mutated (it is
  process-global, so per-call changes would race between threads); when Pillow's
  bomb check fires first it is mapped to the same 413.
- Stored copies are re-encoded JPEGs in sRGB with no metadata at all: no EXIF
  (so no GPS, maker notes or orientation tag), no IPTC, no XMP, no comment and
  no ICC profile (pixels are converted to sRGB, which is what a JPEG without a
  profile means to every viewer).
- Truncated files are rejected: ``ImageFile.LOAD_TRUNCATED_IMAGES`` must stay
  False (Pillow's default; nothing in the app may switch it on).
- Malformed EXIF never rejects a photo: orientation falls back to "as stored"
  and the capture time to ``None``; the picture itself is still clinically useful.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from PIL import Image, ImageCms

from app.core.storage import StorageError

log = logging.getLogger(__name__)


@functools.cache
def _register_heif_opener() -> None:
    """HEIF/HEIC through the pillow-heif plug-in (AVIF is native in Pillow >= 11.3).

    Registered on the first HEIF/AVIF upload rather than at import: pillow-heif
    and libheif add about 7 MB to every server process, and most photos are
    JPEGs. Registering is idempotent, so a race between two first uploads is
    harmless; the cache only saves the work after the first.
    """
    import pillow_heif

    pillow_heif.register_heif_opener()


SIZES: Final = {"large": 1600, "thumb": 320}
"""Longest side, in pixels, of each derivative (only ever downscaled)."""

_JPEG_QUALITY: Final = 90
_CHUNK: Final = 1024 * 1024

_HEIF_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})

# Which Pillow decoders may run for each sniffed type. The decoder is pinned to
# the one matching the magic bytes, so a file cannot talk Pillow into a
# different (less hardened) plug-in. MPO is produced by the JPEG factory.
_PILLOW_FORMATS: Final = {
    "JPEG": ("JPEG",),
    "PNG": ("PNG",),
    "WEBP": ("WEBP",),
    "HEIF": ("HEIF",),
    "AVIF": ("AVIF", "HEIF"),
}


class ImageRejected(Exception):
    """An upload that cannot be accepted; ``status`` is the HTTP status to answer.

    ``title`` is short and stable (for the problem ``title``); ``detail`` says
    what to do about it, in words a nurse or an app developer can act on.
    """

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail


def _too_large(detail: str) -> ImageRejected:
    return ImageRejected(413, "Photo too large", detail)


def _unsupported(detail: str) -> ImageRejected:
    return ImageRejected(415, "Unsupported image type", detail)


def _undecodable(detail: str) -> ImageRejected:
    return ImageRejected(422, "Photo could not be decoded", detail)


_ACCEPTED_TEXT: Final = "Send a JPEG, PNG, WebP or HEIC/HEIF photo."


@dataclass(frozen=True)
class ImageLimits:
    """Upper bounds for one upload: file size in bytes and decoded pixel count."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000


@dataclass
class ProcessedImage:
    """Result of :func:`process_upload`.

    ``width``/``height`` are those of the stored upright original;
    ``files`` maps "original", "large" and "thumb" to temporary JPEG paths in
    the caller's work directory (the caller moves them to storage and deletes them).
    """

    width: int
    height: int
    format_in: str
    taken_at: datetime | None
    sha256: str
    files: dict[str, str] = field(default_factory=dict)
    analysis: Any = None


def sniff_format(path: str | os.PathLike[str]) -> str:
    """Return "JPEG", "PNG", "WEBP", "HEIF" or "AVIF" from the file's magic bytes.

    Raises ImageRejected(422) for an empty file and ImageRejected(415) for
    anything else (TIFF, GIF, PDF, HTML, video, ...).
    """
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not head:
        raise _undecodable("The file is empty (0 bytes). Take or attach the photo again.")
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"  # includes MPO, which is a JPEG with extra frames appended
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if len(head) >= 16 and head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[:4], "big")
        end = min(max(box_size, 16), len(head))
        # major brand at 8..12, minor version at 12..16, compatible brands after
        brands = {head[8:12]} | {head[i : i + 4] for i in range(16, end - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
    raise _unsupported(f"This file is not a photo format the service accepts. {_ACCEPTED_TEXT}")


def _check_pixels(width: int, height: int, limits: ImageLimits) -> None:
    if width <= 0 or height <= 0:
        raise _undecodable("The image declares no pixels (zero width or height).")
    if width * height > limits.max_pixels:
        raise _too_large(
            f"The image is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {limits.max_pixels / 1e6:.0f} megapixels. "
            "Send a smaller photo (phone cameras' default setting is fine)."
        )


def open_limited(path: str | os.PathLike[str], limits: ImageLimits | None = None) -> Image.Image:
    """Open and fully decode an accepted photo, enforcing ``limits`` first.

    The pixel count is checked from the header before ``load()``. For MPO the
    first frame is decoded. The caller owns the returned image (use it as a
    context manager or call ``close()``). Raises ImageRejected (413/415/422).
    """
    limits = limits or ImageLimits()
    fmt = sniff_format(path)
    if fmt in ("HEIF", "AVIF"):
        _register_heif_opener()
    try:
        img = Image.open(path, formats=_PILLOW_FORMATS[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(f"The image declares too many pixels ({exc}).") from exc
    except Exception as exc:  # hostile input reaches many code paths; none may be a 500
        log.info("image open failed: %s: %s", type(exc).__name__, exc)
        raise _undecodable(
            f"The file looks like {fmt} but its contents are damaged or incomplete. "
            "Take or export the photo again."
        ) from exc
    try:
        _check_pixels(img.width, img.height, limits)
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # MPO / animated WebP: the first frame is the photo
        img.load()
    except ImageRejected:
        img.close()
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        img.close()
        raise _too_large(f"The image declares too many pixels ({exc}).") from exc
    except Exception as exc:
        img.close()
        log.info("image decode failed: %s: %s", type(exc).__name__, exc)
        raise _undecodable(
            f"The {fmt} file could not be decoded: it is truncated or corrupt. "
            "Take or export the photo again."
        ) from exc
    return img


def _parse_exif_datetime(value: object) -> datetime | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\x00").strip()
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _parse_exif_offset(value: object) -> timezone | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\x00").strip()
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def capture_time(img: Image.Image) -> datetime | None:
    """Capture time from EXIF DateTimeOriginal (falling back to DateTimeDigitized).

    Timezone-aware when OffsetTimeOriginal/OffsetTimeDigitized is present
    (EXIF 2.31), otherwise naive camera-local time. Never raises: malformed
    or missing EXIF gives None. The value is what the camera clock said; the
    caller decides whether it is plausible (e.g. not in the future).
    """
    try:
        exif = img.getexif()
        ifd = exif.get_ifd(0x8769)  # Exif sub-IFD
        for time_tag, offset_tag in ((0x9003, 0x9011), (0x9004, 0x9012)):
            taken = _parse_exif_datetime(ifd.get(time_tag))
            if taken is not None:
                tz = _parse_exif_offset(ifd.get(offset_tag))
                return taken.replace(tzinfo=tz) if tz else taken
    except Exception as exc:  # malformed EXIF comes in endless varieties
        log.info("unreadable EXIF capture time: %s: %s", type(exc).__name__, exc)
    return None


_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_SRGB: Final = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _orientation(img: Image.Image) -> int:
    try:
        value = img.getexif().get(0x0112, 1)
        return int(value) if isinstance(value, int) else 1
    except Exception as exc:
        log.info("unreadable EXIF orientation: %s: %s", type(exc).__name__, exc)
        return 1


def _to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; alpha is composited on white."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey: scale to 8 bit (plain convert would clip everything > 255 to white)
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif mode == "F":
        img = img.convert("L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    ):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        return white.convert("RGB")
    if img.mode != "RGB":
        return img.convert("RGB")
    return img


def _icc_to_srgb(img: Image.Image, icc: bytes, *, in_place: bool = False) -> Image.Image | None:
    """Convert ``img`` (RGB, L or CMYK) from its embedded profile to sRGB, or None.

    ``in_place`` (RGB only, for an image this module owns) rewrites ``img``'s
    own pixels and returns it, instead of allocating a second full-size image.
    """
    in_place = in_place and img.mode == "RGB"
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(
            img,
            src,
            _SRGB,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            outputMode="RGB",
            inPlace=in_place,
        )
    except Exception as exc:  # profile broken or not matching the pixel mode
        log.info("ICC conversion skipped: %s: %s", type(exc).__name__, exc)
        return None
    return img if in_place else converted


def normalise(img: Image.Image) -> Image.Image:
    """Return a new upright, 8-bit sRGB ``RGB`` image with no metadata.

    EXIF orientation 2-8 is applied (unreadable EXIF: left as stored). Alpha is
    composited on white, 16-bit grey scaled to 8 bit, CMYK/L/P converted to RGB,
    and an embedded ICC profile converted to sRGB (falling back to a plain mode
    conversion when the profile is unusable). ``info`` of the result is empty,
    so saving it writes no EXIF, XMP, IPTC, ICC or comment.
    """
    return _normalise(img, owned=False)


def _normalise(img: Image.Image, *, owned: bool) -> Image.Image:
    """:func:`normalise`; ``owned``: the caller hands ``img`` over, so it may be
    returned itself, converted in place, or closed once a copy replaces it.

    A phone photo is often both rotated (EXIF orientation) and in Display P3:
    owned, it needs two full-size images at a time instead of three.
    """
    img.load()
    icc = img.info.get("icc_profile")
    out = img
    method = _TRANSPOSE.get(_orientation(img))
    if method is not None:
        out = out.transpose(method)
        if owned:
            img.close()  # free the stored-orientation pixels before the colour work
    # pixels this function may overwrite: its own copies, or the caller's if handed over
    mine = owned or out is not img
    if icc and out.mode in ("RGB", "L", "CMYK"):
        converted = _icc_to_srgb(out, icc, in_place=mine)
        if converted is not None:
            out = converted
    elif icc and out.mode in ("RGBA", "LA", "P", "PA"):
        out = _to_rgb(out)  # composite first, then colour-manage the RGB result
        converted = _icc_to_srgb(out, icc, in_place=True)  # _to_rgb made a new image
        if converted is not None:
            out = converted
    out = _to_rgb(out)
    if out is img and not owned:
        out = img.copy()  # never hand back (and strip) the caller's image
    elif owned and out is not img:
        img.close()  # the converted copy replaces it
    out.info = {}
    return out


def _normalise_owned(img: Image.Image) -> Image.Image:
    """:func:`normalise` for an image the caller owns and will not use again: no
    defensive copy, in-place colour conversion, the original freed early
    (each saves a full-size copy: 48 MB for a 12 MP photo)."""
    return _normalise(img, owned=True)


def _scaled(img: Image.Image, longest: int) -> Image.Image:
    """Downscale so the longest side is at most ``longest``; never upscales."""
    w, h = img.size
    scale = longest / max(w, h)
    if scale >= 1:
        return img.copy()
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # reducing_gap lets Pillow use a fast integer reduce() first, then Lanczos
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _jpeg_options(subsampling: int, *, optimize: bool) -> dict[str, Any]:
    return {
        "format": "JPEG",
        "quality": _JPEG_QUALITY,
        "subsampling": subsampling,
        "optimize": optimize,
        "exif": b"",
    }


def _save_jpeg(
    img: Image.Image, workdir: str, name: str, *, subsampling: int, optimize: bool = False
) -> str:
    """Write ``img`` as a metadata-free JPEG to a new temp file and return its path.

    4:4:4 chroma (subsampling=0) on the original and large copies keeps the
    colour of erythema edges. Huffman optimisation makes libjpeg buffer the
    whole image, so it is only used for the small derivatives.
    """
    fd, path = tempfile.mkstemp(prefix="photo-", suffix=f"-{name}.jpg", dir=workdir)
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                img.save(fh, **_jpeg_options(subsampling, optimize=optimize))
            except OSError:
                if not optimize:
                    raise
                # Pillow sizes the optimising encoder's buffer at about two bytes
                # per pixel; a photo of pure noise needs more and the encoder
                # fails ("broken data stream"). The plain encoder streams, so it
                # always fits: write that instead (a few per cent larger).
                fh.seek(0)
                fh.truncate()
                img.save(fh, **_jpeg_options(subsampling, optimize=False))
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(path)
        raise
    return path


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, streamed in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def process_upload(
    src_path: str | os.PathLike[str],
    limits: ImageLimits | None = None,
    workdir: str | os.PathLike[str] | None = None,
    analyse: Callable[[Image.Image, Image.Image], Any] | None = None,
    sha256: str | None = None,
) -> ProcessedImage:
    """Validate, decode and re-encode an uploaded photo.

    Produces three metadata-free sRGB JPEGs in ``workdir`` ("original" at full
    size, "large" <= 1600 px, "thumb" <= 320 px on the longest side). On any
    rejection no file is left in ``workdir``. Raises ImageRejected for bad
    input, and app.core.storage.StorageError when ``workdir`` cannot be
    written (disk full: a 507, not the client's fault).

    ``analyse(upright, large)`` runs while the full-size upright image is still
    in memory (e.g. marker detection), so nothing has to decode the photo
    again; its return value is ``ProcessedImage.analysis``. ``sha256``: the
    caller's digest of the file, if it already hashed it while receiving it.
    """
    limits = limits or ImageLimits()
    workdir = os.fspath(workdir) if workdir is not None else tempfile.gettempdir()
    size = os.path.getsize(src_path)
    if size > limits.max_bytes:
        raise _too_large(
            f"The file is {size / 1048576:.1f} MB; the limit is "
            f"{limits.max_bytes / 1048576:.0f} MB. Send a smaller photo."
        )
    fmt = sniff_format(src_path)
    digest = sha256 or sha256_file(src_path)
    files: dict[str, str] = {}
    try:
        # Everything happens inside the block: closing the decoded image frees
        # its pixels, and the upright image may be that very object.
        with open_limited(src_path, limits) as decoded:
            taken_at = capture_time(decoded)
            try:
                upright = _normalise_owned(decoded)
            except Exception as exc:  # e.g. an exotic mode with no RGB conversion
                log.info("normalise failed: %s: %s", type(exc).__name__, exc)
                raise _undecodable(
                    "The photo's colour format could not be converted. Export it as JPEG."
                ) from exc
            if upright is not decoded:
                decoded.close()  # only one full-size copy from here on
            width, height = upright.size
            files["original"] = _save_jpeg(upright, workdir, "original", subsampling=0)
            large = _scaled(upright, SIZES["large"])
            analysis = analyse(upright, large) if analyse is not None else None
            upright.close()
        files["large"] = _save_jpeg(large, workdir, "large", subsampling=0, optimize=True)
        thumb = _scaled(large, SIZES["thumb"])
        files["thumb"] = _save_jpeg(thumb, workdir, "thumb", subsampling=2, optimize=True)
    except BaseException as exc:
        for path in files.values():
            with contextlib.suppress(OSError):
                os.remove(path)
        if isinstance(exc, OSError):  # the work directory, not the upload, failed
            raise StorageError(f"could not write processed photo: {exc}") from exc
        raise
    return ProcessedImage(
        width=width,
        height=height,
        format_in=fmt,
        taken_at=taken_at,
        sha256=digest,
        files=files,
        analysis=analysis,
    )
