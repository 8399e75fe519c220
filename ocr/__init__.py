"""Business-card recognition: a photo of a card in, contact fields with confidences out.

>>> from fieldsync.ocr import scan_card
>>> card = scan_card(open("card.jpg", "rb").read())          # doctest: +SKIP
>>> card.to_json()["phones"]                                 # doctest: +SKIP
[{'number': '+8613812345678', 'kind': 'mobile'}]

``parse_card`` is the pure parser over recognised lines; ``card_to_contact`` and
``find_duplicates`` turn a card into a suggested CRM contact. See docs/ocr.md.
"""

from __future__ import annotations

from fieldsync.ocr.contacts import DuplicateCandidate, card_to_contact, find_duplicates
from fieldsync.ocr.fields import CardFields, Phone, PhoneKind, TextLine
from fieldsync.ocr.parse import parse_card
from fieldsync.ocr.scan import scan_card

__all__ = [
    "CardFields",
    "DuplicateCandidate",
    "Phone",
    "PhoneKind",
    "TextLine",
    "card_to_contact",
    "find_duplicates",
    "parse_card",
    "scan_card",
]
