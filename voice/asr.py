"""Speech to text: the one module that imports speech-recognition engines.

Theory of operation
-------------------
``Recogniser`` is a ``typing.Protocol``: ``transcribe(pcm16k, *, lang)`` takes
16 kHz mono s16le PCM (what ``audio.load_audio`` produces) and returns a
``Transcript``. Two engines implement it:

* ``PocketsphinxRecogniser`` (default): CMU PocketSphinx 5 with the US-English
  acoustic model, language model and dictionary that ship inside the wheel.
  Nothing is downloaded. A directory given as ``model_dir`` replaces the
  bundled model (it must hold the acoustic model folder plus ``*.lm.bin`` and
  ``*.dict``). The decoder is not thread-safe, so calls are serialised.
  Cepstral mean normalisation is per utterance (``cmn="batch"``) and the
  feature front end is reset before every memo, so a memo's transcript never
  depends on the memos decoded before it (without the reset it does).
* ``FasterWhisperRecogniser``: selected with ``asr_engine="faster-whisper"``
  and only when ``asr_model_dir`` is a CTranslate2 Whisper model directory
  (``model.bin`` + ``config.json``) *and* the ``faster_whisper`` package is
  installed. It is loaded with ``local_files_only=True`` so it never reaches
  for the network. Whisper covers English and Chinese.

``select_recogniser`` turns configuration into an engine and refuses with
FS-6005 (``asr_engine_unavailable``) when the engine or its model is missing:
a server misconfiguration should be loud, not silently fall back.
Engines are cached per (engine, model_dir), since loading a model costs far
more than decoding a memo.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from fieldsync.sync import errors as E
from fieldsync.voice.audio import SAMPLE_RATE, load_audio

__all__ = [
    "ENGINES",
    "FasterWhisperRecogniser",
    "PocketsphinxRecogniser",
    "Recogniser",
    "Transcript",
    "select_recogniser",
    "transcribe",
]

ENGINES = ("pocketsphinx", "faster-whisper")
# Half a second of padding either side: PocketSphinx normalises cepstra with a
# running mean and does markedly better when an utterance does not start cold.
_PAD_SAMPLES = SAMPLE_RATE // 2
# A -70 dBFS noise floor. Exact digital zeros (synthetic speech, gated phone
# recorders) give log(0) energies that derail the decoder between words; a
# real microphone never produces them. Seeded, so transcripts are repeatable.
_NOISE_FLOOR = 10.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """What a recogniser heard: text, its language, the engine, and the audio length."""

    text: str
    lang: str
    engine: str
    seconds: float = 0.0
    confidence: float | None = None


class Recogniser(Protocol):
    """A speech-to-text engine over 16 kHz mono s16le PCM."""

    name: str
    languages: tuple[str, ...]

    def transcribe(self, pcm16k: bytes, *, lang: str) -> Transcript: ...


def _check_lang(engine: Recogniser, lang: str) -> str:
    chosen = engine.languages[0] if lang == "auto" else lang
    if chosen not in engine.languages:
        raise E.error_for(
            E.UNSUPPORTED_LANGUAGE,
            f"the {engine.name} engine recognises {', '.join(engine.languages)}, not {lang!r}",
            lang=lang, engine=engine.name, supported=list(engine.languages),
        )
    return chosen


class PocketsphinxRecogniser:
    """CMU PocketSphinx with the English model shipped in its wheel (or one in ``model_dir``)."""

    name = "pocketsphinx"
    languages: tuple[str, ...] = ("en",)

    def __init__(self, *, model_dir: str | None = None) -> None:
        try:
            pocketsphinx = importlib.import_module("pocketsphinx")
        except ImportError as exc:
            raise E.error_for(E.ASR_ENGINE_UNAVAILABLE, "pocketsphinx is not installed", engine=self.name) from exc
        config: dict[str, Any] = {"samprate": SAMPLE_RATE, "loglevel": "FATAL", "cmn": "batch"}
        if model_dir is not None:
            config.update(_pocketsphinx_model(Path(model_dir)))
        try:
            self._decoder = pocketsphinx.Decoder(**config)
        except (RuntimeError, ValueError) as exc:
            raise E.error_for(E.ASR_ENGINE_UNAVAILABLE, "the pocketsphinx model could not be loaded",
                              engine=self.name) from exc
        self._lock = threading.Lock()

    def transcribe(self, pcm16k: bytes, *, lang: str) -> Transcript:
        chosen = _check_lang(self, lang)
        with self._lock:
            self._decoder.reinit_feat()  # no state from the previous memo's audio (see module doc)
            self._decoder.start_utt()
            self._decoder.process_raw(_condition(pcm16k), full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        return Transcript(text=text, lang=chosen, engine=self.name, seconds=len(pcm16k) / 2 / SAMPLE_RATE)


def _condition(pcm16k: bytes) -> bytes:
    """Pad with half a second either side and add a faint, seeded noise floor."""
    samples = np.frombuffer(pcm16k[: len(pcm16k) - len(pcm16k) % 2], dtype="<i2").astype(np.float64)
    padded = np.concatenate([np.zeros(_PAD_SAMPLES), samples, np.zeros(_PAD_SAMPLES)])
    noise = np.random.default_rng(0).normal(0.0, _NOISE_FLOOR, len(padded))
    return np.clip(padded + noise, -32768, 32767).astype("<i2").tobytes()


def _pocketsphinx_model(root: Path) -> dict[str, str]:
    if not root.is_dir():
        raise E.error_for(E.ASR_ENGINE_UNAVAILABLE, "the pocketsphinx model directory does not exist", engine="pocketsphinx")
    lms = sorted(p for p in root.glob("*.lm.bin") if "phone" not in p.name)
    dicts = sorted(root.glob("*.dict"))
    hmms = sorted(p for p in root.iterdir() if p.is_dir() and (p / "mdef").exists())
    if not (lms and dicts and hmms):
        raise E.error_for(E.ASR_ENGINE_UNAVAILABLE,
                          "the pocketsphinx model directory needs an acoustic model folder, a .lm.bin and a .dict",
                          engine="pocketsphinx")
    return {"hmm": str(hmms[0]), "lm": str(lms[0]), "dict": str(dicts[0])}


class FasterWhisperRecogniser:
    """Whisper through faster-whisper (CTranslate2), from a model directory installed on the server."""

    name = "faster-whisper"
    languages: tuple[str, ...] = ("en", "zh")

    def __init__(self, *, model_dir: str | None) -> None:
        root = Path(model_dir) if model_dir else None
        if root is None or not (root / "model.bin").is_file() or not (root / "config.json").is_file():
            raise E.error_for(
                E.ASR_ENGINE_UNAVAILABLE,
                "faster-whisper needs asr_model_dir to point at an installed CTranslate2 Whisper model "
                "(a folder with model.bin and config.json)",
                engine=self.name,
            )
        try:
            module = importlib.import_module("faster_whisper")
        except ImportError as exc:
            raise E.error_for(E.ASR_ENGINE_UNAVAILABLE, "the faster_whisper package is not installed",
                              engine=self.name) from exc
        try:
            self._model = module.WhisperModel(str(root), device="cpu", compute_type="int8", local_files_only=True)
        except Exception as exc:  # the engine raises assorted runtime errors for a broken model
            raise E.error_for(E.ASR_ENGINE_UNAVAILABLE, "the faster-whisper model could not be loaded",
                              engine=self.name) from exc
        self._lock = threading.Lock()

    def transcribe(self, pcm16k: bytes, *, lang: str) -> Transcript:
        chosen = None if lang == "auto" else _check_lang(self, lang)
        audio = np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0
        with self._lock:
            segments, info = self._model.transcribe(audio, language=chosen, beam_size=5)
            parts = [segment.text.strip() for segment in segments]
        detected = chosen or str(getattr(info, "language", "") or "en")
        joiner = "" if detected == "zh" else " "
        confidence = getattr(info, "language_probability", None)
        return Transcript(text=joiner.join(p for p in parts if p), lang=detected, engine=self.name,
                          seconds=len(pcm16k) / 2 / SAMPLE_RATE,
                          confidence=float(confidence) if confidence is not None else None)


@lru_cache(maxsize=4)
def select_recogniser(engine: str = "pocketsphinx", model_dir: str | None = None) -> Recogniser:
    """The configured engine, loaded once; FS-6005 when it or its model is not installed."""
    if engine == "pocketsphinx":
        return PocketsphinxRecogniser(model_dir=model_dir)
    if engine in ("faster-whisper", "faster_whisper", "whisper"):
        return FasterWhisperRecogniser(model_dir=model_dir)
    raise E.error_for(E.ASR_ENGINE_UNAVAILABLE, f"unknown speech engine {engine!r}; choose one of {', '.join(ENGINES)}",
                      engine=engine)


def transcribe(
    audio: bytes,
    *,
    lang: str = "en",
    recogniser: Recogniser | None = None,
    max_seconds: float = 1800.0,
) -> Transcript:
    """Validate, decode and recognise a memo recording; typed FS-600x errors for bad input."""
    engine = recogniser or select_recogniser()
    _check_lang(engine, lang)  # refuse before spending time decoding
    decoded = load_audio(audio, max_seconds=max_seconds)
    heard = engine.transcribe(decoded.pcm, lang=lang)
    if not heard.text.strip():
        raise E.error_for(E.NO_SPEECH, "no words were recognised in the recording",
                          seconds=round(decoded.seconds, 2), engine=heard.engine)
    return heard
