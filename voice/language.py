"""Which language a transcript is in, and whether we serve it (English, Chinese).

A phone may send a transcript made by its own recogniser, labelled with the
phone's UI language rather than what was said. ``detect_language`` looks at
the text itself: scripts first (Han, kana, Hangul, Cyrillic, Arabic, ...),
then, for Latin text, the share of very common function words of English
against French, German, Spanish, Italian, Portuguese and Dutch. It is a
classifier for memos of a sentence or three, not a general language
identifier, and it says ``None`` when the evidence is thin.

``memo_language`` decides the language a memo is processed in: the declared
one when the text agrees or is ambiguous, the detected one when the text is
clearly in the other supported language, and FS-6004 when the text is clearly
in a language we do not serve (or the caller declared one).
"""

from __future__ import annotations

import re

from fieldsync.sync import errors as E

__all__ = ["SUPPORTED", "detect_language", "memo_language"]

SUPPORTED = ("en", "zh")

_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ja", "[\u3040-\u30ff]"),
    ("ko", "[\uac00-\ud7af\u1100-\u11ff]"),
    ("ru", "[\u0400-\u04ff]"),
    ("ar", "[\u0600-\u06ff]"),
    ("he", "[\u0590-\u05ff]"),
    ("th", "[\u0e00-\u0e7f]"),
    ("hi", "[\u0900-\u097f]"),
    ("el", "[\u0370-\u03ff]"),
)
_HAN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")
_LATIN_WORD = re.compile(r"[a-zA-ZÀ-ÿ']+")

_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the a an and to of in on at for with about by is are was be will i we you he she it they "
                    "this that call email send meet visit tomorrow next follow up please need him her them our "
                    "my his their from before after quote".split()),
    "fr": frozenset("le la les un une et à de des du en pour avec sur est sont je nous vous il elle ce cette "
                    "demain appeler envoyer au aux mais pas ne".split()),
    "de": frozenset("der die das ein eine und zu von mit für ist sind ich wir sie er es nicht morgen anrufen "
                    "schicken dem den des auf bei".split()),
    "es": frozenset("el la los las un una y de del en para con por es son yo nosotros usted mañana llamar "
                    "enviar que al se".split()),
    "it": frozenset("il lo la gli le un una e di del della in per con è sono io noi domani chiamare inviare "
                    "che al alla".split()),
    "pt": frozenset("o a os as um uma e de do da em para com por é são eu nós você amanhã ligar enviar que "
                    "ao não".split()),
    "nl": frozenset("de het een en van in op met voor is zijn ik wij jij hij zij morgen bellen sturen niet "
                    "aan bij".split()),
}


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the memo's language, or None when the text is too thin to tell."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    for code, pattern in _SCRIPTS:
        if len(re.findall(pattern, text)) >= max(2, len(letters) * 0.2):
            return code
    han = len(_HAN.findall(text))
    if han >= max(2, len(letters) * 0.3):
        return "zh"
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if not words:
        return "zh" if han else None
    scores = {code: sum(w in vocab for w in words) for code, vocab in _FUNCTION_WORDS.items()}
    best = max(scores, key=lambda code: scores[code])
    if scores[best] == 0:
        return None
    runner_up = max(v for k, v in scores.items() if k != best)
    if best != "en" and scores[best] >= 2 and scores[best] >= 2 * max(runner_up, 1) - 1 and scores[best] > scores["en"]:
        return best
    return "en" if scores["en"] >= runner_up else None


def memo_language(text: str, declared: str = "auto") -> str:
    """The supported language to process ``text`` in, or FS-6004 (unsupported_language)."""
    declared = (declared or "auto").lower().replace("_", "-")
    if declared.startswith("zh"):
        declared = "zh"
    elif declared.startswith("en"):
        declared = "en"
    if declared not in SUPPORTED and declared != "auto":
        raise E.error_for(E.UNSUPPORTED_LANGUAGE, f"memos in {declared!r} are not supported; use en or zh",
                          lang=declared, supported=list(SUPPORTED))
    detected = detect_language(text)
    if detected is not None and detected not in SUPPORTED:
        raise E.error_for(E.UNSUPPORTED_LANGUAGE, f"the transcript looks like {detected!r}; memos in en or zh are supported",
                          detected=detected, supported=list(SUPPORTED))
    if detected is not None:
        return detected
    return "en" if declared == "auto" else declared
