"""Values of business-card recognition: what the engine reads and what the parser finds.

``TextLine`` is one recognised line (text, box in card pixels, engine confidence,
card side). ``CardFields`` is the parser's answer; its ``to_json()`` is the wire
shape shared by the Python API, ``fieldsync card scan --json`` and
``POST /v1/cards``, and ``CardFields.from_json`` reads it back (the server keeps
the JSON of a scanned card alongside the suggested contact).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: Fields that may carry a confidence, in wire order.
FIELD_NAMES: tuple[str, ...] = (
    "name",
    "title",
    "company",
    "department",
    "phones",
    "emails",
    "website",
    "address",
    "wechat",
    "qq",
)


class PhoneKind(enum.StrEnum):
    """What a card says a number is for."""

    MOBILE = "mobile"
    OFFICE = "office"
    FAX = "fax"
    OTHER = "other"  # hotlines (400/800), numbers with no label whose type is unknown


@dataclass(frozen=True, slots=True)
class TextLine:
    """One recognised line of text.

    ``box`` is ``(left, top, right, bottom)`` in pixels of the (corrected) card
    image; ``confidence`` is the engine's, in ``[0, 1]``; ``side`` is 0 for the
    front of the card and 1 for the back.
    """

    text: str
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    confidence: float = 1.0
    side: int = 0

    @property
    def height(self) -> float:
        """Line height in pixels: a proxy for font size (names are set large)."""
        return max(0.0, self.box[3] - self.box[1])


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number in E.164 (``+8613812345678``) with its kind; ``extension`` if printed."""

    number: str
    kind: PhoneKind
    extension: str | None = None

    def to_json(self) -> dict[str, str]:
        return {"number": self.number, "kind": self.kind.value}


def _frozen_map(values: Mapping[str, float] | None = None) -> Mapping[str, float]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True, slots=True)
class CardFields:
    """Everything recognised on one card; ``None``/empty where nothing was found.

    ``confidence`` maps each *found* field (see ``FIELD_NAMES``) to a score in
    ``[0, 1]``: the engine's confidence for the text times how sure the parser
    is of the field's role (a labelled ``手机:`` number is surer than a guessed
    name). ``lines`` keeps the recognised text for audit and re-parsing; it is
    not part of the wire shape.
    """

    name: str | None = None
    title: str | None = None
    company: str | None = None
    department: str | None = None
    phones: tuple[Phone, ...] = ()
    emails: tuple[str, ...] = ()
    website: str | None = None
    address: str | None = None
    wechat: str | None = None
    qq: str | None = None
    confidence: Mapping[str, float] = field(default_factory=_frozen_map)
    lines: tuple[TextLine, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.confidence, MappingProxyType):
            object.__setattr__(self, "confidence", _frozen_map(self.confidence))

    @property
    def is_empty(self) -> bool:
        """True when no field at all was recognised."""
        return not any(self.to_json()[name] for name in FIELD_NAMES)

    def phones_of(self, kind: PhoneKind) -> tuple[str, ...]:
        """The E.164 numbers of one kind, in card order."""
        return tuple(p.number for p in self.phones if p.kind is kind)

    def to_json(self) -> dict[str, Any]:
        """The wire shape: exactly the ``FIELD_NAMES`` keys plus ``confidence``."""
        return {
            "name": self.name,
            "title": self.title,
            "company": self.company,
            "department": self.department,
            "phones": [p.to_json() for p in self.phones],
            "emails": list(self.emails),
            "website": self.website,
            "address": self.address,
            "wechat": self.wechat,
            "qq": self.qq,
            "confidence": {k: round(v, 3) for k, v in self.confidence.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CardFields:
        """Read back what ``to_json`` wrote (unknown keys are ignored)."""
        phones = tuple(Phone(str(p["number"]), PhoneKind(p.get("kind", "other"))) for p in data.get("phones") or ())
        return cls(
            name=data.get("name"),
            title=data.get("title"),
            company=data.get("company"),
            department=data.get("department"),
            phones=phones,
            emails=tuple(data.get("emails") or ()),
            website=data.get("website"),
            address=data.get("address"),
            wechat=data.get("wechat"),
            qq=data.get("qq"),
            confidence={str(k): float(v) for k, v in (data.get("confidence") or {}).items()},
        )
