"""Synthetic business-card evaluation set: rendered cards, photographed, with ground truth.

``generate(n, seed=...)`` yields ``Sample`` values; nothing is committed, the
same seed always gives the same images. Mix: Chinese, English, bilingual
one-sided and two-sided (Chinese front, English back) cards over five layouts.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.cardgen.identity import Persona, make_persona
from bench.cardgen.photo import photograph
from bench.cardgen.render import LAYOUTS, render_back_en, render_side

KINDS = ("zh", "en", "bi", "two_sided")


@dataclass(frozen=True, slots=True)
class Sample:
    """One card: its photo(s), what is printed on it, and how it was made."""

    index: int
    kind: str
    layout: str
    front: bytes
    back: bytes | None
    truth: dict[str, Any]
    persona: Persona
    photo: dict[str, float] = field(default_factory=dict)


def make_sample(index: int, *, seed: int = 0, difficulty: float | None = None, photo: bool = True) -> Sample:
    """The ``index``-th card of the set for ``seed`` (``photo=False``: the flat PNG render)."""
    rng = random.Random(f"{seed}:{index}")
    kind = KINDS[index % len(KINDS)]
    layout = LAYOUTS[(index // len(KINDS)) % len(LAYOUTS)]
    persona = make_persona(rng, western=kind == "en" and rng.random() < 0.4)
    lang = "zh" if kind == "two_sided" else kind
    front_img = render_side(persona, lang, layout, rng)
    back_img = render_back_en(persona, rng) if kind == "two_sided" else None
    level = rng.uniform(0.2, 1.0) if difficulty is None else difficulty
    params: dict[str, float] = {"difficulty": round(level, 2)}
    if photo:
        front, params_front = photograph(front_img, rng, difficulty=level)
        params.update(params_front)
        back = photograph(back_img, rng, difficulty=level)[0] if back_img is not None else None
    else:
        front, back = _png(front_img), (_png(back_img) if back_img is not None else None)
    truth = persona.truth("bi" if kind == "two_sided" else lang)
    return Sample(index, kind, layout, front, back, truth, persona, params)


def generate(n: int, *, seed: int = 0, difficulty: float | None = None, photo: bool = True) -> Iterator[Sample]:
    """``n`` samples, cycling through card kinds and layouts."""
    for index in range(n):
        yield make_sample(index, seed=seed, difficulty=difficulty, photo=photo)


def _png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


__all__ = ["KINDS", "LAYOUTS", "Sample", "generate", "make_sample"]
