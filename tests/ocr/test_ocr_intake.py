"""Image intake and ``scan_card`` refusals: every bad upload gets its typed FS-4xxx error."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from fieldsync.ocr import scan_card
from fieldsync.ocr.image import ImageLimits, find_card, load_image, prepare, to_array
from fieldsync.sync import errors as E


def _png(image: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", **params)
    return buf.getvalue()


def _code(call: Callable[[], object]) -> E.ErrorCode:
    with pytest.raises(E.FieldSyncError) as info:
        call()
    assert isinstance(info.value, E.ServiceError)
    return info.value.code


def test_zero_bytes_is_empty_upload() -> None:
    """A zero-byte upload is refused as FS-4002 empty_upload."""
    assert _code(lambda: scan_card(b"")) is E.EMPTY_IMAGE


@pytest.mark.parametrize("data", [b"hello, this is not a photo", b"%PDF-1.7\n" + b"x" * 500, b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_not_an_image(data: bytes) -> None:
    """Text, a PDF and a PNG signature with garbage behind it are FS-4001 not_an_image."""
    assert _code(lambda: scan_card(data)) is E.NOT_AN_IMAGE


def test_truncated_jpeg_is_not_an_image(card_samples: dict[str, object]) -> None:
    """A JPEG cut off half way through is FS-4001, not a crash."""
    front = card_samples["zh"].front  # type: ignore[attr-defined]
    assert _code(lambda: scan_card(front[: len(front) // 3])) is E.NOT_AN_IMAGE


def test_fifty_megabyte_photo_is_too_large() -> None:
    """A 50 MB upload is FS-4003 image_too_large, refused before decoding."""
    data = b"\xff\xd8\xff\xe0" + bytes(50 * 1024 * 1024)
    assert _code(lambda: scan_card(data)) is E.IMAGE_TOO_LARGE


@pytest.mark.parametrize("side", [9_000, 30_000])
def test_decompression_bomb_is_too_large(bomb_png: Callable[[int, int], bytes], side: int) -> None:
    """A few-hundred-byte PNG declaring 81 or 900 megapixels is FS-4003, whether our limit or Pillow's trips first."""
    data = bomb_png(side, side)
    assert len(data) < 1000
    assert _code(lambda: scan_card(data)) is E.IMAGE_TOO_LARGE


def test_pixel_limit_is_configurable() -> None:
    """A small image over a configured pixel limit is refused; under it, it decodes."""
    data = _png(Image.new("RGB", (400, 300), "white"))
    assert _code(lambda: load_image(data, ImageLimits(max_pixels=100_000))) is E.IMAGE_TOO_LARGE
    assert load_image(data, ImageLimits(max_pixels=200_000)).size == (400, 300)


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_blank_image_is_no_text_found(blank_png: bytes, engine: str) -> None:
    """A photo with nothing printed on it is FS-4004 no_text_found with either engine."""
    assert _code(lambda: scan_card(blank_png, engine=engine)) is E.NO_TEXT_FOUND


def test_unknown_engine_and_region_are_refused(blank_png: bytes) -> None:
    """An unknown engine is FS-4006 and an unknown region FS-4007, before any OCR work."""
    assert _code(lambda: scan_card(blank_png, engine="abbyy")) is E.UNKNOWN_OCR_ENGINE
    assert _code(lambda: scan_card(blank_png, region="ZZ")) is E.INVALID_REGION


def test_exif_orientation_is_applied() -> None:
    """A sideways photo with an EXIF orientation tag is turned upright before OCR."""
    upright = Image.new("RGB", (300, 100), "white")
    upright.paste((0, 0, 0), (0, 0, 30, 30))  # a black mark at the top left
    stored = upright.rotate(90, expand=True)  # what a phone held sideways stores, tagged 6
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", exif=exif, quality=95)
    image = load_image(buf.getvalue())
    assert image.size == (300, 100)
    assert np.asarray(image)[5, 5].max() < 60


def test_transparent_png_gets_a_white_background() -> None:
    """Transparent pixels become white paper, not black."""
    image = load_image(_png(Image.new("RGBA", (50, 40), (0, 0, 0, 0))))
    assert image.mode == "RGB" and np.asarray(image).min() == 255


def test_card_is_found_and_flattened(card_samples: dict[str, object]) -> None:
    """On a synthetic phone photo the card is found and warped back to a business-card aspect ratio."""
    for sample in card_samples.values():
        rgb = to_array(load_image(sample.front))  # type: ignore[attr-defined]
        corners = find_card(rgb)
        assert corners is not None
        flat = prepare(sample.front)  # type: ignore[attr-defined]
        h, w = flat.shape[:2]
        assert 1.45 <= max(w, h) / min(w, h) <= 1.95


def test_no_card_outline_keeps_the_whole_frame() -> None:
    """A frame with no card outline (a flat scan) is used whole, not cropped."""
    rgb = np.full((300, 500, 3), 255, np.uint8)
    assert find_card(rgb) is None
    assert prepare(_png(Image.fromarray(rgb))).shape[:2] == (300, 500)


def test_heic_photo_is_decoded() -> None:
    """An iPhone-style HEIC photo decodes like a JPEG (pillow-heif), with its size intact."""
    from fieldsync.ocr.image import _register_heif

    _register_heif()
    buf = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 30, 30)).save(buf, format="HEIF")
    assert buf.getvalue()[4:12] == b"ftypheic"
    image = load_image(buf.getvalue())
    assert image.size == (320, 200) and image.mode == "RGB"


def test_flat_scan_is_not_cropped_to_an_inner_panel(flat_samples: dict[str, object]) -> None:
    """A scan where the card fills the frame is used whole, never cropped to a coloured band or panel inside it."""
    for sample in flat_samples.values():
        rgb = to_array(load_image(sample.front))  # type: ignore[attr-defined]
        assert find_card(rgb) is None
        assert prepare(sample.front).shape[:2] == rgb.shape[:2]  # type: ignore[attr-defined]
