"""Audio in: container sniffing, length limits before decoding, silence, decoding of phone formats."""

from __future__ import annotations

from typing import Any

import pytest

from fieldsync.sync import errors as E
from fieldsync.voice.audio import load_audio, sniff_format, speech_seconds, wav_header_duration


def test_sniff_recognises_containers_by_magic_bytes() -> None:
    """Magic bytes name WAV, FLAC, OGG, MP3, M4A, WebM and AMR; text and images are not audio."""
    assert sniff_format(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "wav"
    assert sniff_format(b"fLaC\x00") == "flac"
    assert sniff_format(b"OggS\x00") == "ogg"
    assert sniff_format(b"ID3\x04\x00") == "mp3"
    assert sniff_format(b"\xff\xfb\x90\x00") == "mp3"
    assert sniff_format(b"\x00\x00\x00\x20ftypM4A ") == "m4a"
    assert sniff_format(b"\x1a\x45\xdf\xa3\x01") == "webm"
    assert sniff_format(b"#!AMR\n") == "amr"
    assert sniff_format(b"hello, this is a text file") is None
    assert sniff_format(b"\x89PNG\r\n\x1a\n") is None


def test_wav_header_duration_reads_the_claim_without_samples(audio: Any) -> None:
    """A WAV header's claimed length is read from the header alone."""
    assert wav_header_duration(audio.long_header(7200)) == pytest.approx(7200)
    assert wav_header_duration(b"not a wav") is None
    streamed = audio.espeak("hello")
    assert wav_header_duration(streamed) is None  # espeak-ng leaves a placeholder size


def test_text_upload_is_not_audio() -> None:
    """A text file is refused as not_audio (FS-6001) without decoding."""
    with pytest.raises(E.ServiceError) as err:
        load_audio(b"Call Wang tomorrow, this is a text file.", max_seconds=60)
    assert err.value.code is E.NOT_AUDIO


def test_empty_upload_is_not_audio() -> None:
    """An empty upload is refused as not_audio."""
    with pytest.raises(E.ServiceError) as err:
        load_audio(b"", max_seconds=60)
    assert err.value.code is E.NOT_AUDIO


def test_corrupt_file_with_audio_magic_is_not_audio() -> None:
    """Bytes that start like an MP3 but do not decode are refused as not_audio."""
    with pytest.raises(E.ServiceError) as err:
        load_audio(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"garbage" * 50, max_seconds=60)
    assert err.value.code is E.NOT_AUDIO


def test_two_hour_header_is_too_long_before_decoding(audio: Any) -> None:
    """A WAV claiming two hours is refused as audio_too_long from its header alone."""
    with pytest.raises(E.ServiceError) as err:
        load_audio(audio.long_header(2 * 3600), max_seconds=1800)
    assert err.value.code is E.AUDIO_TOO_LONG
    assert err.value.detail["seconds"] == pytest.approx(7200, abs=1)


def test_decoder_is_capped_when_the_header_does_not_say(audio: Any) -> None:
    """A streamed WAV (placeholder length) of 4 s is refused as too long once decoding passes a 2 s limit."""
    wav = audio.silence(4.0, hiss=3000.0)
    lying = wav[:40] + (0x7FFFF000).to_bytes(4, "little") + wav[44:]  # what espeak-ng --stdout writes
    with pytest.raises(E.ServiceError) as err:
        load_audio(lying, max_seconds=2.0)
    assert err.value.code is E.AUDIO_TOO_LONG


def test_silence_is_no_speech(audio: Any) -> None:
    """Three seconds of room hiss is refused as no_speech (FS-6003)."""
    with pytest.raises(E.ServiceError) as err:
        load_audio(audio.silence(3.0), max_seconds=60)
    assert err.value.code is E.NO_SPEECH


def test_speech_is_detected_in_a_synthesised_memo(audio: Any) -> None:
    """An espeak-ng recording has well over half a second of speech."""
    decoded = load_audio(audio.espeak("Call the customer tomorrow about the quote"), max_seconds=60)
    assert decoded.format == "wav"
    assert decoded.speech_seconds > 0.5
    assert decoded.seconds == pytest.approx(len(decoded.pcm) / 32_000)
    assert speech_seconds(b"") == 0.0


@pytest.mark.parametrize("fmt", ["flac", "ogg", "mp3", "m4a", "webm", "aac"])
def test_phone_formats_decode_to_the_same_length(fmt: str, audio: Any) -> None:
    """FLAC, OGG, MP3, M4A, WebM and raw AAC versions of a memo decode to 16 kHz PCM of about the same length."""
    wav = audio.espeak("Visit Acme on Friday")
    reference = load_audio(wav, max_seconds=60)
    decoded = load_audio(audio.transcode(wav, fmt), max_seconds=60)
    assert decoded.format == fmt
    assert decoded.seconds == pytest.approx(reference.seconds, abs=0.15)
