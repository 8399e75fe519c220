"""Image intake: validate untrusted bytes, then straighten the card for the engine.

Theory of operation
-------------------
*Validation* happens before any pixel is decoded: an empty body, a body over
``ImageLimits.max_bytes`` (a 50 MB photo), bytes Pillow cannot identify, and a
header that declares more than ``max_pixels`` (a decompression bomb: a few KB
of PNG that inflates to gigabytes) are refused with typed FS-4xxx errors.
Pillow's own bomb check is turned into the same error.

*Preprocessing* then:

1. applies the EXIF orientation (phones store sideways shots with a tag);
2. scales the long side down to ``work_side`` pixels (OCR cost grows with area;
   card text is still 20+ px high at 1600 px);
3. finds the card: edges (Canny) closed by dilation, the largest contour whose
   convex hull approximates a quadrilateral covering 15-98 % of the frame and
   not cut by the frame's border; its corners are ordered and the card is
   warped to a flat rectangle whose size follows the quadrilateral's side
   lengths. No such quadrilateral: the photo is used as shot (a scan, or a
   card filling the frame);
4. evens the light: CLAHE (contrast-limited adaptive histogram equalisation)
   on the lightness channel removes the falloff of a phone's flash or a desk lamp.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from fieldsync.sync import errors as E


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What an upload may weigh: bytes on the wire and pixels once decoded."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 64_000_000  # a 50-megapixel phone sensor fits; bombs do not
    work_side: int = 1600


DEFAULT_LIMITS = ImageLimits()


_HEIF_LOCK = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF (iPhone photos) once, on first use rather than at import."""
    global _heif_registered
    with _HEIF_LOCK:
        if not _heif_registered:
            try:
                from pillow_heif import register_heif_opener
            except ImportError:  # optional: without it HEIC uploads are FS-4001
                pass
            else:
                register_heif_opener()
            _heif_registered = True


def load_image(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """Decode an upload (JPEG, PNG, WebP, HEIC ...) into an upright RGB image, or raise a typed FS-4xxx error."""
    if not data:
        raise E.error_for(E.EMPTY_IMAGE, "the image is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise E.error_for(
            E.IMAGE_TOO_LARGE, f"the image is {len(data)} bytes; the limit is {limits.max_bytes}", limit_bytes=limits.max_bytes
        )
    _register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > limits.max_pixels:
                raise E.error_for(
                    E.IMAGE_TOO_LARGE,
                    f"the image is {width}x{height} pixels; the limit is {limits.max_pixels}",
                    limit_pixels=limits.max_pixels,
                )
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise E.error_for(E.IMAGE_TOO_LARGE, "the image declares too many pixels", limit_pixels=limits.max_pixels) from exc
        except UnidentifiedImageError as exc:
            raise E.error_for(E.NOT_AN_IMAGE, "the upload is not a readable image") from exc
        except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt files
            raise E.error_for(E.NOT_AN_IMAGE, "the image is damaged or truncated") from exc
    try:
        image = ImageOps.exif_transpose(image) or image
    except (OSError, ValueError, KeyError, SyntaxError):  # a broken EXIF block: keep the pixels as stored
        pass
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def to_array(image: Image.Image, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """RGB pixels as a numpy array, the long side scaled down to ``limits.work_side``."""
    scale = limits.work_side / max(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left."""
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], dtype=np.float32)


def find_card(rgb: np.ndarray) -> np.ndarray | None:
    """The card's four corners in ``rgb`` (ordered), or ``None`` when no card outline stands out."""
    h, w = rgb.shape[:2]
    scale = 640 / max(h, w)
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    scale = min(scale, 1.0)
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    frame_area = gray.shape[0] * gray.shape[1]
    best: np.ndarray | None = None
    best_area = 0.0
    kernel = np.ones((5, 5), np.uint8)
    _, otsu = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks = [cv2.dilate(cv2.Canny(gray, lo, 3 * lo), kernel, iterations=2) for lo in (30, 12)] + [otsu, 255 - otsu]
    for mask in masks:
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
            hull = cv2.convexHull(contour)
            area = cv2.contourArea(hull)
            if not 0.15 * frame_area <= area <= 0.98 * frame_area or area <= best_area:
                continue
            quad = _quadrilateral(hull, area)
            if quad is not None and not _touches_frame(quad, gray.shape):
                best, best_area = quad, area
    if best is None:
        return None
    return _order_corners(best / scale)


def _touches_frame(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Two or more corners on the image border: the frame cuts the shape, so it is not a whole card on a desk.

    That happens with scans and tight crops (the card *is* the frame), where the
    largest quadrilateral is an inner panel (a coloured band, the white area
    beside it); warping to it would cut text off.
    """
    h, w = shape[:2]
    margin = 0.015 * max(h, w)
    near = [x <= margin or y <= margin or x >= w - 1 - margin or y >= h - 1 - margin for x, y in quad]
    return sum(near) >= 2


def _quadrilateral(hull: np.ndarray, area: float) -> np.ndarray | None:
    """Four corners that cover the hull (a simplification that cuts a corner off is refused)."""
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            if 0.93 <= cv2.contourArea(approx) / area <= 1.08:
                return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    box = cv2.boxPoints(cv2.minAreaRect(hull))  # a rotated rectangle when the hull is not a clean quadrilateral
    if area / max(cv2.contourArea(box), 1.0) >= 0.9:
        return box.astype(np.float32)
    return None


def warp_card(rgb: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Flatten the quadrilateral ``corners`` of ``rgb`` to an upright rectangle."""
    tl, tr, br, bl = corners
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners, target)
    return cv2.warpPerspective(rgb, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def even_light(rgb: np.ndarray) -> np.ndarray:
    """Equalise contrast locally (CLAHE on lightness) so shadows and glare do not hide text."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def prepare(data: bytes, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Validated, upright, flattened and light-evened card pixels (RGB) ready for an engine."""
    rgb = to_array(load_image(data, limits), limits)
    corners = find_card(rgb)
    if corners is not None:
        card = warp_card(rgb, corners)
        if min(card.shape[:2]) >= 64:
            rgb = card
    return even_light(rgb)
