"""Speech engines: selection by configuration, clear FS-6005 when missing, the default engine on real audio."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from fieldsync.sync import errors as E
from fieldsync.voice.asr import PocketsphinxRecogniser, select_recogniser, transcribe


def test_default_engine_is_pocketsphinx_with_its_bundled_model() -> None:
    """With no configuration the recogniser is PocketSphinx, English, loaded from the wheel."""
    engine = select_recogniser()
    assert isinstance(engine, PocketsphinxRecogniser)
    assert engine.languages == ("en",)
    assert select_recogniser() is engine  # loaded once


def test_unknown_engine_is_unavailable() -> None:
    """An engine name we do not know is FS-6005, naming the engine."""
    with pytest.raises(E.ServiceError) as err:
        select_recogniser("kaldi-9000", None)
    assert err.value.code is E.ASR_ENGINE_UNAVAILABLE
    assert err.value.detail["engine"] == "kaldi-9000"


def test_faster_whisper_without_model_dir_is_unavailable() -> None:
    """faster-whisper is refused with FS-6005 when no model directory is configured."""
    with pytest.raises(E.ServiceError) as err:
        select_recogniser("faster-whisper", None)
    assert err.value.code is E.ASR_ENGINE_UNAVAILABLE
    assert "asr_model_dir" in err.value.message


def test_faster_whisper_with_empty_model_dir_is_unavailable(tmp_path: Path) -> None:
    """A model directory without model.bin and config.json is refused, nothing is downloaded."""
    with pytest.raises(E.ServiceError) as err:
        select_recogniser("faster-whisper", str(tmp_path))
    assert err.value.code is E.ASR_ENGINE_UNAVAILABLE


@pytest.mark.skipif(importlib.util.find_spec("faster_whisper") is not None, reason="faster-whisper is installed here")
def test_faster_whisper_model_without_package_is_unavailable(tmp_path: Path) -> None:
    """A model directory is not enough: without the faster_whisper package the answer is FS-6005."""
    (tmp_path / "model.bin").write_bytes(b"\x00")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(E.ServiceError) as err:
        select_recogniser("faster-whisper", str(tmp_path))
    assert err.value.code is E.ASR_ENGINE_UNAVAILABLE
    assert "not installed" in err.value.message


def test_pocketsphinx_model_dir_must_hold_a_model(tmp_path: Path) -> None:
    """A pocketsphinx model directory without an acoustic model, LM and dictionary is FS-6005."""
    with pytest.raises(E.ServiceError) as err:
        select_recogniser("pocketsphinx", str(tmp_path))
    assert err.value.code is E.ASR_ENGINE_UNAVAILABLE


def test_chinese_audio_with_the_english_engine_is_unsupported_language() -> None:
    """Asking the English-only engine for Chinese is FS-6004, before any decoding."""
    with pytest.raises(E.ServiceError) as err:
        transcribe(b"not even audio", lang="zh")
    assert err.value.code is E.UNSUPPORTED_LANGUAGE
    assert err.value.detail["supported"] == ["en"]


def test_synthesised_memo_is_transcribed_to_words(audio: Any) -> None:
    """PocketSphinx turns an espeak-ng memo into a non-empty English transcript."""
    heard = transcribe(audio.espeak("Call the customer tomorrow"), lang="en")
    assert heard.engine == "pocketsphinx"
    assert heard.lang == "en"
    assert heard.seconds > 1.0
    assert heard.text and heard.text == heard.text.strip()


def test_transcription_is_repeatable(audio: Any) -> None:
    """The same recording gives the same transcript whatever was decoded before it."""
    first, other = audio.espeak("Send the quote"), audio.espeak("Hello there")
    heard = transcribe(first).text
    transcribe(other)  # a different memo in between must not change the next transcript
    assert transcribe(first).text == heard


def test_silence_is_no_speech_through_transcribe(audio: Any) -> None:
    """transcribe refuses a silent recording with FS-6003."""
    with pytest.raises(E.ServiceError) as err:
        transcribe(audio.silence(2.0))
    assert err.value.code is E.NO_SPEECH
