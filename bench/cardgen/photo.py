"""Photograph a printed card synthetically: desk, perspective, rotation, light, blur, noise, JPEG.

Every effect is drawn from the caller's ``random.Random`` so a seed reproduces
the whole evaluation set. ``difficulty`` in [0, 1] scales how hard the shot is
(0: a flat scan; 1: a hurried phone photo in a dim trade-fair hall).
"""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
from PIL import Image

# EXIF orientation tag values and the rotation (PIL, counter-clockwise) that
# produces the stored pixels from the upright picture.
_EXIF_ROTATIONS = {6: 90, 3: 180, 8: 270}


def _desk(rng: random.Random, w: int, h: int) -> np.ndarray:
    base = np.array(rng.choice([(110, 80, 55), (60, 60, 65), (150, 150, 145), (35, 40, 50), (170, 140, 100)]), dtype=np.float32)
    nprng = np.random.default_rng(rng.randrange(2**32))
    grain = cv2.GaussianBlur(nprng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), sigmaX=9, sigmaY=1.5)
    return np.clip(base[None, None, :] + grain[:, :, None], 0, 255)


def photograph(card: Image.Image, rng: random.Random, *, difficulty: float = 0.5) -> tuple[bytes, dict[str, float]]:
    """JPEG bytes of a photo of ``card`` and the parameters used."""
    cw, ch = card.size
    scale = rng.uniform(0.75, 1.05)
    out_w, out_h = 1600, 1200
    card_w = out_w * rng.uniform(0.62, 0.82) * scale
    card_h = card_w * ch / cw
    angle = rng.uniform(-12, 12) * difficulty
    cx = out_w / 2 + rng.uniform(-0.08, 0.08) * out_w
    cy = out_h / 2 + rng.uniform(-0.08, 0.08) * out_h
    rad = np.deg2rad(angle)
    rot = np.array([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]])
    corners = np.array([[-card_w / 2, -card_h / 2], [card_w / 2, -card_h / 2], [card_w / 2, card_h / 2], [-card_w / 2, card_h / 2]])
    jitter = np.array([[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]) * card_w * 0.06 * difficulty
    dst = (corners @ rot.T + jitter + [cx, cy]).astype(np.float32)
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    desk = _desk(rng, out_w, out_h)
    card_rgb = np.asarray(card, dtype=np.float32)
    warped = cv2.warpPerspective(card_rgb, matrix, (out_w, out_h), flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((ch, cw), np.float32), matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)[:, :, None]
    shadow = cv2.GaussianBlur(mask, (0, 0), 12)[:, :, None] if mask.ndim == 3 else mask
    photo = desk * (1 - 0.35 * np.roll(np.roll(shadow, 10, 0), 8, 1)) * (1 - mask) + warped * mask
    # uneven light: a linear falloff across the frame plus a soft hot spot
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    gx, gy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    light = 1 - 0.35 * difficulty * ((xx / out_w - 0.5) * gx + (yy / out_h - 0.5) * gy + 0.5)
    hx, hy = rng.uniform(0, out_w), rng.uniform(0, out_h)
    light += 0.15 * difficulty * np.exp(-(((xx - hx) ** 2 + (yy - hy) ** 2) / (2 * (out_w / 4) ** 2)))
    photo = photo * light[:, :, None] * rng.uniform(0.85, 1.0)
    blur = rng.uniform(0, 1.6) * difficulty
    if blur > 0.3:
        photo = cv2.GaussianBlur(photo, (0, 0), blur)
    noise = rng.uniform(2, 10) * difficulty
    nprng = np.random.default_rng(rng.randrange(2**32))
    photo = np.clip(photo + nprng.normal(0, noise, photo.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(photo)
    quality = int(rng.uniform(92, 55 + 35 * (1 - difficulty)))
    orientation = 1
    turn = rng.random()
    if turn < 0.2 * difficulty:  # shot sideways; the camera tags the turn
        orientation = rng.choice(list(_EXIF_ROTATIONS))
        image = image.rotate(_EXIF_ROTATIONS[orientation], expand=True)
    elif turn < 0.3 * difficulty:  # shot sideways and sent through a chat app that strips EXIF
        image = image.rotate(rng.choice([90, 270]), expand=True)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality, exif=exif)
    return buf.getvalue(), {"angle": round(angle, 1), "blur": round(blur, 2), "noise": round(noise, 1),
                            "jpeg_quality": quality, "exif_orientation": orientation,
                            "untagged_turn": float(orientation == 1 and image.width < image.height)}
