"""Tests for app.photos.imaging against real (hostile) image files.

The corpus in tests/data/images comes from Pillow's own test suite; its
README says what the upload path does with each file and under which licence
the files are kept here.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from app.photos.imaging import (
    ImageLimits,
    ImageRejected,
    capture_time,
    normalise,
    open_limited,
    process_upload,
    sniff_format,
)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "images"

ACCEPT = "accept"
# Expected outcome per corpus file: ACCEPT, an HTTP status, or a set of allowed
# outcomes where the README allows either (files Pillow can fully decode).
EXPECTED: dict[str, object] = {
    # valid baseline
    "hopper.jpg": ACCEPT,
    "hopper.png": ACCEPT,
    "hopper.webp": ACCEPT,
    "flower.jpg": ACCEPT,
    "hopper_16bit_qtables.jpg": ACCEPT,
    "iptc.jpg": ACCEPT,
    "app13.jpg": ACCEPT,
    "junk_jpeg_header.jpg": ACCEPT,
    # unusual colour modes
    "hopper_gray.jpg": ACCEPT,
    "pil_sample_cmyk.jpg": ACCEPT,
    "icc_profile.png": ACCEPT,
    "tRNS_null_1x1.png": ACCEPT,
    # EXIF orientation
    **{f"hopper_orientation_{n}.jpg": ACCEPT for n in range(2, 9)},
    "hopper_orientation_6.webp": ACCEPT,
    # location / identity metadata
    "exif_gps.jpg": ACCEPT,
    "empty_gps_ifd.jpg": ACCEPT,
    # malformed EXIF: our decision is that bad EXIF never costs the photo
    "hopper_bad_exif.jpg": ACCEPT,
    "invalid-exif.jpg": ACCEPT,
    "exif-dpi-zerodivision.jpg": ACCEPT,
    "exif_typeerror.jpg": ACCEPT,
    "exif-ifd-offset.jpg": ACCEPT,
    "broken_exif_dpi.jpg": ACCEPT,
    "truncated_exif_dpi.jpg": ACCEPT,
    # corrupt / truncated
    "broken.png": 422,
    "broken_data_stream.png": 422,
    "truncated_end_chunk.png": 422,
    "truncated_app14.jpg": {ACCEPT, 422},  # Pillow decodes it completely today
    # decompression bombs (GIF is not an accepted type: refused unread)
    "decompression_bomb.gif": 415,
    "decompression_bomb_extents.gif": 415,
    # multi-picture JPEG
    "frozenpond.mpo": ACCEPT,
    "sugarshack_no_data.mpo": ACCEPT,
    "sugarshack_bad_mpo_header.jpg": ACCEPT,
    # HEIF / AVIF
    "hopper.heif": ACCEPT,
    "exif.avif": ACCEPT,
    # never a wound photo
    "seek_too_large.tif": 415,
    "oom-225817ca0f8c663be7ab4b9e717b02c661e66834.tif": 415,
    "crash-0c7e0e8e11ce787078f00b5b0ca409a167f070e0.tif": 415,
}

CORPUS_FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")


def jpeg_segments(data: bytes) -> list[int]:
    """Marker bytes of every segment before the entropy-coded scan."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while pos < len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: header ends here
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def assert_clean_jpeg(path: str) -> None:
    """A stored copy: baseline RGB JPEG with no metadata segment of any kind."""
    data = Path(path).read_bytes()
    markers = jpeg_segments(data)
    allowed = {0xE0, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDD, 0xDA}  # JFIF, tables, frame, scan
    assert set(markers) <= allowed, [hex(m) for m in markers]
    for needle in (b"Exif\x00\x00", b"http://ns.adobe.com/xap", b"Photoshop 3.0", b"ICC_PROFILE"):
        assert needle not in data
    with Image.open(path) as img:
        assert img.format == "JPEG"
        assert img.mode == "RGB"
        assert not img.getexif()
        for key in ("exif", "icc_profile", "comment", "xmp", "photoshop", "mp"):
            assert key not in img.info


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    d = tmp_path / "work"
    d.mkdir()
    return d


def test_corpus_table_covers_every_file() -> None:
    # a file added to the corpus must get a decided expectation here
    assert set(CORPUS_FILES) == set(EXPECTED)


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_outcome(name: str, workdir: Path) -> None:
    expected = EXPECTED[name]
    allowed = expected if isinstance(expected, set) else {expected}
    try:
        result = process_upload(CORPUS / name, ImageLimits(), workdir)
    except ImageRejected as exc:
        assert exc.status in allowed, f"{name}: got {exc.status} {exc.detail}"
        assert exc.title and exc.detail
        assert list(workdir.iterdir()) == []  # nothing left behind
        return
    assert ACCEPT in allowed, f"{name} was accepted"
    assert set(result.files) == {"original", "large", "thumb"}
    assert len(result.sha256) == 64
    for size, path in result.files.items():
        assert Path(path).parent == workdir
        assert_clean_jpeg(path)
        with Image.open(path) as out:
            if size == "original":
                assert out.size == (result.width, result.height)
            limit = {"original": 10**9, "large": 1600, "thumb": 320}[size]
            assert max(out.size) <= limit


def test_sha256_is_of_the_uploaded_bytes(workdir: Path) -> None:
    import hashlib

    src = CORPUS / "flower.jpg"
    result = process_upload(src, ImageLimits(), workdir)
    assert result.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert result.format_in == "JPEG"
    assert result.taken_at == datetime(2003, 12, 14, 12, 1, 44)


def load_rgb(path: str | Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize(
    "name",
    [f"hopper_orientation_{n}.jpg" for n in range(2, 9)] + ["hopper_orientation_6.webp"],
)
def test_orientation_is_applied(name: str, workdir: Path) -> None:
    # Each file stores hopper transformed so that applying its EXIF orientation
    # restores the upright hopper.jpg.
    reference = load_rgb(CORPUS / "hopper.jpg")
    result = process_upload(CORPUS / name, ImageLimits(), workdir)
    stored = load_rgb(result.files["original"])
    assert stored.shape == reference.shape
    assert np.abs(stored - reference).mean() < 8
    # and the test can tell: the raw, untransposed pixels are far from upright
    raw = load_rgb(CORPUS / name)
    assert np.abs(raw - reference).mean() > 20
    with Image.open(result.files["original"]) as out:
        assert 0x0112 not in out.getexif()


def make_jpeg_with_metadata(path: Path) -> None:
    img = Image.new("RGB", (64, 48), (200, 80, 60))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    exif[0x0112] = 1
    exif_ifd = exif.get_ifd(0x8769)
    exif_ifd[0x9003] = "2024:05:06 07:08:09"
    exif_ifd[0x9011] = "+02:00"
    exif_ifd[0x927C] = b"MAKERNOTE-SECRET"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (52.0, 22.0, 7.5)
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 1.25)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">patient-name</x:xmpmeta>'
    img.save(path, "JPEG", exif=exif, xmp=xmp, comment=b"Jane Doe MRN 123")


def test_location_and_identity_metadata_removed(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "gps.jpg"
    make_jpeg_with_metadata(src)
    raw = src.read_bytes()
    assert b"MAKERNOTE-SECRET" in raw and b"Jane Doe" in raw and b"patient-name" in raw
    with Image.open(src) as img:
        assert img.getexif().get_ifd(0x8825)  # the GPS IFD is really there
    result = process_upload(src, ImageLimits(), workdir)
    assert result.taken_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))
    for path in result.files.values():
        assert_clean_jpeg(path)
        data = Path(path).read_bytes()
        for secret in (b"GPS", b"MAKERNOTE-SECRET", b"Jane Doe", b"patient-name", b"PhoneMaker"):
            assert secret not in data
        with Image.open(path) as out:
            assert not out.getexif().get_ifd(0x8825)


def test_iptc_and_xmp_from_real_files_removed(workdir: Path) -> None:
    for name in ("iptc.jpg", "exif_gps.jpg", "pil_sample_cmyk.jpg", "truncated_app14.jpg"):
        with Image.open(CORPUS / name) as img:
            assert {"photoshop", "exif", "xmp"} & set(img.info)
        result = process_upload(CORPUS / name, ImageLimits(), workdir)
        for path in result.files.values():
            assert_clean_jpeg(path)


def test_heic_and_avif_accepted(workdir: Path) -> None:
    heif = process_upload(CORPUS / "hopper.heif", ImageLimits(), workdir)
    assert (heif.format_in, heif.width, heif.height) == ("HEIF", 128, 128)
    reference = load_rgb(CORPUS / "hopper.jpg")
    assert np.abs(load_rgb(heif.files["original"]) - reference).mean() < 12
    avif = process_upload(CORPUS / "exif.avif", ImageLimits(), workdir)
    assert avif.format_in == "AVIF"


def test_mpo_uses_first_frame(workdir: Path) -> None:
    result = process_upload(CORPUS / "frozenpond.mpo", ImageLimits(), workdir)
    with Image.open(CORPUS / "frozenpond.mpo") as mpo:
        mpo.seek(0)
        first = np.asarray(mpo.convert("RGB"), dtype=np.int16)
    assert np.abs(load_rgb(result.files["original"]) - first).mean() < 4


def test_derivative_sizes_only_downscale(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "big.jpg"
    Image.radial_gradient("L").resize((2400, 1800)).convert("RGB").save(src, quality=80)
    result = process_upload(src, ImageLimits(), workdir)
    sizes = {}
    for size, path in result.files.items():
        with Image.open(path) as img:
            sizes[size] = img.size
    assert sizes == {"original": (2400, 1800), "large": (1600, 1200), "thumb": (320, 240)}
    small = process_upload(CORPUS / "hopper.jpg", ImageLimits(), workdir)
    for path in small.files.values():
        with Image.open(path) as img:
            assert img.size == (128, 128)


def test_photo_of_pure_noise_is_stored(tmp_path: Path, workdir: Path) -> None:
    # The optimising JPEG encoder's buffer (about two bytes per pixel) is too
    # small for noise at our quality; such a photo used to be refused as a
    # storage failure. Every copy must still be written, whole and decodable.
    src = tmp_path / "noise.png"
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, size=(1200, 1600, 3), dtype=np.uint8)
    Image.fromarray(noise, "RGB").save(src)
    result = process_upload(src, ImageLimits(), workdir)
    for size, path in result.files.items():
        with Image.open(path) as img:
            img.load()
            assert img.format == "JPEG", size
    with Image.open(result.files["thumb"]) as thumb:
        assert thumb.size == (320, 240)
    assert sorted(os.listdir(workdir)) == sorted(os.path.basename(p) for p in result.files.values())


def test_transparent_pixels_become_white(tmp_path: Path) -> None:
    src = tmp_path / "alpha.png"
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(src)
    with open_limited(src) as img:
        out = normalise(img)
    assert out.mode == "RGB"
    assert out.getpixel((5, 5)) == (255, 255, 255)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    src = tmp_path / "grey16.png"
    Image.new("I;16", (8, 8), 32768).save(src)
    with open_limited(src) as img:
        assert img.mode.startswith("I")
        out = normalise(img)
    assert out.mode == "RGB"
    r, g, b = out.getpixel((0, 0))  # type: ignore[misc]
    assert 120 <= r <= 136 and r == g == b


def test_cmyk_and_grey_become_rgb() -> None:
    for name in ("pil_sample_cmyk.jpg", "hopper_gray.jpg", "tRNS_null_1x1.png"):
        with open_limited(CORPUS / name) as img:
            assert img.mode != "RGB"
            out = normalise(img)
        assert out.mode == "RGB"
        assert out.info == {}


def test_icc_profile_converted_and_dropped(tmp_path: Path, workdir: Path) -> None:
    with open_limited(CORPUS / "icc_profile.png") as img:
        assert img.info.get("icc_profile")
        out = normalise(img)
    assert out.mode == "RGB" and "icc_profile" not in out.info
    # an unusable profile falls back to a plain conversion instead of failing
    src = tmp_path / "bad_icc.jpg"
    Image.new("RGB", (16, 16), (10, 120, 200)).save(src, icc_profile=b"not a profile" * 20)
    result = process_upload(src, ImageLimits(), workdir)
    assert_clean_jpeg(result.files["original"])
    r, g, b = load_rgb(result.files["original"])[8, 8]
    assert abs(r - 10) < 8 and abs(g - 120) < 8 and abs(b - 200) < 8


def _swapped_rgb_profile() -> bytes:
    """A valid ICC v2 RGB profile whose red and blue primaries are sRGB's blue
    and red (gamma 2.0): converting through it visibly swaps the channels."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    text = b"swapped\0"
    desc = b"desc" + b"\0" * 4 + struct.pack(">I", len(text)) + text + b"\0" * 78
    curv = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 2 * 256) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.1431, 0.0606, 0.7141)),  # sRGB's blue primary (D50)
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.4360, 0.2225, 0.0139)),  # sRGB's red primary (D50)
        (b"rTRC", curv),
        (b"gTRC", curv),
        (b"bTRC", curv),
        (b"cprt", b"text\0\0\0\0none\0\0\0\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    header = (
        struct.pack(">I", offset + len(data))
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acspAPPL"
        + b"\0" * 24
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"lcms"
        + b"\0" * 44
    )
    return header + struct.pack(">I", len(tags)) + table + data


@pytest.mark.parametrize("orientation", [1, 6])
def test_owned_normalise_matches_the_copying_one(tmp_path: Path, orientation: int) -> None:
    # process_upload converts colour in place and frees the rotated-away
    # original early; the pixels must be exactly those of the copying path
    from app.photos.imaging import _normalise_owned

    src = tmp_path / "p3ish.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    pixels = Image.new("RGB", (60, 40), (200, 30, 40))
    pixels.paste((20, 180, 60), (0, 0, 30, 20))
    pixels.save(src, quality=95, icc_profile=_swapped_rgb_profile(), exif=exif)
    with open_limited(src) as img:
        before = img.tobytes()
        reference = normalise(img)
        assert img.tobytes() == before  # the public function left the caller's pixels alone
    with open_limited(src) as img:
        owned = _normalise_owned(img)
    assert owned.size == reference.size == ((40, 60) if orientation == 6 else (60, 40))
    assert owned.tobytes() == reference.tobytes()
    assert owned.info == {}
    r, _, b = owned.getpixel((owned.width - 1, owned.height - 1))  # type: ignore[misc]
    assert b > 150 > 60 > r  # the profile was applied: red and blue swapped


def test_normalise_does_not_strip_the_callers_image() -> None:
    with open_limited(CORPUS / "hopper.jpg") as img:
        out = normalise(img)
        assert out is not img
        assert "comment" in img.info  # hopper.jpg carries a JPEG comment
        assert out.info == {}


# --- rejections -------------------------------------------------------------


def reject(path: Path, workdir: Path, limits: ImageLimits | None = None) -> ImageRejected:
    with pytest.raises(ImageRejected) as info:
        process_upload(path, limits or ImageLimits(), workdir)
    assert list(workdir.iterdir()) == []
    return info.value


def test_html_named_jpg_is_415(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "photo.jpg"
    src.write_bytes(b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>")
    assert reject(src, workdir).status == 415


def test_pdf_is_415(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "scan.jpg"
    Image.new("RGB", (20, 20), "white").save(src, "PDF")
    assert src.read_bytes().startswith(b"%PDF")
    assert reject(src, workdir).status == 415


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "BMP"])
def test_other_real_image_formats_are_415(fmt: str, tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "photo.jpg"
    Image.new("RGB", (20, 20), "red").save(src, fmt)
    assert reject(src, workdir).status == 415


def test_video_ftyp_is_415(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "clip.heic"
    src.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00isommp42" + b"\x00" * 64)
    assert reject(src, workdir).status == 415


def test_zero_bytes_is_422(tmp_path: Path, workdir: Path) -> None:
    src = tmp_path / "empty.jpg"
    src.write_bytes(b"")
    exc = reject(src, workdir)
    assert exc.status == 422
    assert "empty" in exc.detail


def test_truncated_jpeg_is_422(tmp_path: Path, workdir: Path) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = (CORPUS / "flower.jpg").read_bytes()
    src = tmp_path / "cut.jpg"
    src.write_bytes(data[: len(data) // 2])
    exc = reject(src, workdir)
    assert exc.status == 422
    assert "truncated" in exc.detail


def test_too_many_bytes_is_413(workdir: Path) -> None:
    exc = reject(CORPUS / "flower.jpg", workdir, ImageLimits(max_bytes=1000))
    assert exc.status == 413


def test_sniff_ignores_the_name(tmp_path: Path) -> None:
    src = tmp_path / "photo.gif"
    Image.new("RGB", (4, 4)).save(src, "PNG")
    assert sniff_format(src) == "PNG"
    assert sniff_format(CORPUS / "hopper.heif") == "HEIF"
    assert sniff_format(CORPUS / "exif.avif") == "AVIF"
    assert sniff_format(CORPUS / "frozenpond.mpo") == "JPEG"


def png_bomb(path: Path, width: int, height: int, *, valid_body: bool) -> None:
    """A PNG declaring width x height RGB pixels; the body is tiny either way."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    if valid_body:
        comp = zlib.compressobj(9)
        row = b"\x00" * (1 + 3 * width)
        idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    else:
        idat = b"this is not zlib data"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_pixel_limit_checked_before_decoding(tmp_path: Path, workdir: Path) -> None:
    # The body is garbage: had decoding started, the answer would be 422.
    for width, height in ((8000, 8000), (65000, 65000)):  # below / above Pillow's own bomb limit
        src = tmp_path / f"bomb{width}.png"
        png_bomb(src, width, height, valid_body=False)
        tracemalloc.start()
        try:
            exc = reject(src, workdir)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert exc.status == 413, exc.detail
        assert peak < 50 * 1024 * 1024


def test_pixel_limit_for_jpeg_header(tmp_path: Path, workdir: Path) -> None:
    data = bytearray((CORPUS / "hopper.jpg").read_bytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width
    src = tmp_path / "huge.jpg"
    src.write_bytes(bytes(data))
    assert reject(src, workdir).status == 413
    # and a lower configured limit applies to ordinary photos too
    assert reject(CORPUS / "flower.jpg", workdir, ImageLimits(max_pixels=1000)).status == 413


def test_real_bomb_keeps_process_memory_flat(tmp_path: Path) -> None:
    # tracemalloc cannot see Pillow's C pixel buffers, so measure the whole
    # process: a valid 51-megapixel PNG would need >150 MB once decoded.
    src = tmp_path / "bomb.png"
    png_bomb(src, 7200, 7100, valid_body=True)
    assert src.stat().st_size < 1024 * 1024
    script = textwrap.dedent(
        f"""
        import resource, sys
        from app.photos.imaging import ImageLimits, ImageRejected, process_upload
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            process_upload({str(src)!r}, ImageLimits(), {str(tmp_path)!r})
        except ImageRejected as exc:
            print(exc.status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
        """
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    ).stdout.split()
    status, grown_kib = int(out[0]), int(out[1])
    assert status == 413
    assert grown_kib < 50 * 1024


# --- capture time -------------------------------------------------------------


def test_capture_time_tolerates_malformed_exif() -> None:
    for name in CORPUS_FILES:
        if EXPECTED[name] == ACCEPT:
            with open_limited(CORPUS / name) as img:
                value = capture_time(img)
            assert value is None or isinstance(value, datetime)


def test_capture_time_ignores_garbage_values() -> None:
    img = Image.new("RGB", (4, 4))
    exif = img.getexif()
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"
    exif.get_ifd(0x8769)[0x9011] = "+99:99"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif)
    with Image.open(buf) as reopened:
        assert capture_time(reopened) is None


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heif_avif_orientation_applied_exactly_once(
    fmt: str, tmp_path: Path, workdir: Path
) -> None:
    # libheif applies irot/imir itself; EXIF orientation must not rotate again
    import pillow_heif

    # the app registers the HEIF plug-in only when it opens one; writing the
    # test file needs the encoder first
    pillow_heif.register_heif_opener()
    src = tmp_path / f"rotated.{fmt.lower()}"
    with Image.open(CORPUS / "hopper_orientation_6.jpg") as rotated:
        rotated.save(src, fmt, exif=rotated.getexif().tobytes(), quality=90)
    result = process_upload(src, ImageLimits(), workdir)
    reference = load_rgb(CORPUS / "hopper.jpg")
    assert np.abs(load_rgb(result.files["original"]) - reference).mean() < 12


def test_unwritable_workdir_is_a_storage_error(tmp_path: Path) -> None:
    from app.core.storage import StorageError

    not_a_dir = tmp_path / "file"
    not_a_dir.write_bytes(b"")
    with pytest.raises(StorageError):
        process_upload(CORPUS / "hopper.jpg", ImageLimits(), not_a_dir)
