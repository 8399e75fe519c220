"""The one module that drives OCR engines: pixels in, ``TextLine`` values out.

Two engines are wired:

* ``rapidocr`` (default): PaddleOCR's PP-OCR detection, angle classification and
  recognition models run by ONNX Runtime; the models ship inside the
  ``rapidocr-onnxruntime`` wheel, so nothing is downloaded. It reads Chinese and
  tilted text lines well.
* ``tesseract``: the Tesseract 5 LSTM engine through ``pytesseract`` with the
  ``eng+chi_sim`` models from Debian's ``tesseract-ocr-chi-sim``; the project's
  original baseline, kept selectable.

``docs/ocr.md`` has the measurements that chose the default.

Loading a PP-OCR pipeline takes about half a second and a few hundred MB, so
each engine is built lazily, once per process, under a lock, and reused by every
request. ONNX Runtime already spreads one inference over the cores, so calls
into the RapidOCR pipeline are serialised by a per-engine lock (its Python
wrapper keeps per-call state); Tesseract runs as a subprocess per call and
needs no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from fieldsync.ocr.fields import TextLine
from fieldsync.sync import errors as E

ENGINE_NAMES: tuple[str, ...] = ("rapidocr", "tesseract")
DEFAULT_ENGINE = "rapidocr"


class Engine(Protocol):
    """Recognises the text lines of an RGB image."""

    name: str

    def recognise(self, rgb: np.ndarray) -> list[TextLine]: ...


class RapidOcrEngine:
    """PP-OCR (detection + angle classifier + recognition) through ONNX Runtime."""

    name = "rapidocr"

    def __init__(self) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            raise E.error_for(E.OCR_ENGINE_UNAVAILABLE, "rapidocr-onnxruntime is not installed", engine=self.name) from exc
        try:
            self._ocr: Any = RapidOCR()
        except Exception as exc:  # a broken model file or ONNX Runtime install
            raise E.error_for(E.OCR_ENGINE_UNAVAILABLE, "RapidOCR failed to load its models", engine=self.name) from exc
        self._lock = threading.Lock()

    def recognise(self, rgb: np.ndarray) -> list[TextLine]:
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        with self._lock:
            result, _elapsed = self._ocr(bgr, use_cls=True)
        lines: list[TextLine] = []
        for quad, text, score in result or ():
            xs = [float(p[0]) for p in quad]
            ys = [float(p[1]) for p in quad]
            if str(text).strip():
                lines.append(TextLine(str(text), (min(xs), min(ys), max(xs), max(ys)), float(score)))
        return lines


class TesseractEngine:
    """Tesseract 5 (LSTM) with English and Simplified Chinese models, words grouped into lines."""

    name = "tesseract"
    languages = "eng+chi_sim"

    def __init__(self) -> None:
        try:
            import pytesseract

            installed = set(pytesseract.get_languages(config=""))
        except Exception as exc:  # binary missing (TesseractNotFoundError) or unusable
            raise E.error_for(E.OCR_ENGINE_UNAVAILABLE, "the tesseract binary is not installed", engine=self.name) from exc
        missing = set(self.languages.split("+")) - installed
        if missing:
            raise E.error_for(
                E.OCR_ENGINE_UNAVAILABLE, f"tesseract lacks the language models {sorted(missing)}", engine=self.name
            )
        self._tess = pytesseract

    def recognise(self, rgb: np.ndarray) -> list[TextLine]:
        import cv2

        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if max(gray.shape) < 1400:  # Tesseract wants ~30 px capitals; small photos are upscaled
            factor = 1400 / max(gray.shape)
            gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        else:
            factor = 1.0
        try:
            data = self._tess.image_to_data(
                gray, lang=self.languages, config="--oem 1 --psm 11", output_type=self._tess.Output.DICT
            )
        except Exception as exc:
            raise E.error_for(E.OCR_ENGINE_UNAVAILABLE, "tesseract failed on the image", engine=self.name) from exc
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i, word in enumerate(data["text"]):
            if str(word).strip() and float(data["conf"][i]) >= 0:
                groups.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
        lines: list[TextLine] = []
        for idx in groups.values():
            words = [str(data["text"][i]).strip() for i in idx]
            text = _join_words(words)
            left = min(data["left"][i] for i in idx) / factor
            top = min(data["top"][i] for i in idx) / factor
            right = max(data["left"][i] + data["width"][i] for i in idx) / factor
            bottom = max(data["top"][i] + data["height"][i] for i in idx) / factor
            conf = sum(float(data["conf"][i]) for i in idx) / len(idx) / 100.0
            lines.append(TextLine(text, (left, top, right, bottom), conf))
        return lines


def _join_words(words: list[str]) -> str:
    """Tesseract splits Chinese into one 'word' per character: join Han without spaces, Latin with."""
    out = ""
    for word in words:
        if out and not (_is_han(out[-1]) and _is_han(word[0])):
            out += " "
        out += word
    return out


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


_FACTORIES: dict[str, Callable[[], Engine]] = {"rapidocr": RapidOcrEngine, "tesseract": TesseractEngine}
_LOADED: dict[str, Engine] = {}
_LOAD_LOCK = threading.Lock()


def get_engine(name: str | None = None) -> Engine:
    """The process-wide engine called ``name`` (``DEFAULT_ENGINE`` if None), built on first use."""
    key = (name or DEFAULT_ENGINE).strip().lower()
    if key not in _FACTORIES:
        raise E.error_for(E.UNKNOWN_OCR_ENGINE, f"unknown OCR engine {name!r}; use one of {', '.join(ENGINE_NAMES)}", engine=name)
    engine = _LOADED.get(key)
    if engine is None:
        with _LOAD_LOCK:
            engine = _LOADED.get(key)
            if engine is None:
                engine = _FACTORIES[key]()
                _LOADED[key] = engine
    return engine
