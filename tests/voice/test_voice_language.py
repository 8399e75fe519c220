"""Language of a transcript: scripts, English against other Latin languages, declared vs detected."""

from __future__ import annotations

import pytest

from fieldsync.sync import errors as E
from fieldsync.voice.language import detect_language, memo_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [("Call Wang tomorrow about the quote", "en"), ("明天给王总打电话", "zh"), ("给Acme的David发邮件确认报价", "zh"),
     ("明日お客様に電話する", "ja"), ("내일 고객에게 전화", "ko"), ("Позвонить клиенту завтра", "ru"),
     ("Il faut appeler le client demain pour le devis", "fr"), ("Morgen den Kunden anrufen und das Angebot schicken", "de"),
     ("Llamar al cliente mañana para enviar la cotización", "es"), ("12345", None)],
)
def test_detect_language(text: str, lang: str | None) -> None:
    """Scripts decide CJK and others; function words tell English from French, German and Spanish."""
    assert detect_language(text) == lang


def test_declared_language_is_normalised() -> None:
    """zh-CN, zh_Hans and en-US are read as zh and en."""
    assert memo_language("明天打电话", "zh-CN") == "zh"
    assert memo_language("call tomorrow", "en-US") == "en"


def test_clear_text_overrides_a_wrong_label() -> None:
    """A Chinese transcript labelled English (the phone's UI language) is processed as Chinese."""
    assert memo_language("明天给王总打电话", "en") == "zh"


def test_thin_text_keeps_the_declared_language() -> None:
    """A transcript too short to tell keeps the label it came with."""
    assert memo_language("Acme 5k", "zh") == "zh"
    assert memo_language("Acme 5k", "auto") == "en"


def test_unsupported_declared_language() -> None:
    """A declared language we do not serve is FS-6004."""
    with pytest.raises(E.ServiceError) as err:
        memo_language("whatever", "de")
    assert err.value.code is E.UNSUPPORTED_LANGUAGE
