"""Reading server frames while keeping the raw text of each array element.

A page set's checksum is defined over the exact bytes of the row-state and
change JSON texts as the server sent them (docs/protocol.md §5). Rather than
re-serialising every parsed item (slow, and only equal if both sides encode
floats and escapes alike), ``parse_frame`` walks the top-level object with the
C JSON scanner and slices out each element of top-level arrays: one pass gives
both the parsed values and their raw texts. The raw row texts are also stored
as-is as the rows' ``_state`` when nothing needs merging.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

#: The C scanner behind ``json.loads``: ``scan_once(text, index) -> (value, end)``.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]  # the pattern matches the empty string


def _value(text: str, i: int) -> tuple[Any, int]:
    try:
        return _scan_once(text, i)
    except StopIteration:
        raise ValueError(f"bad JSON value at {i}") from None


def _array(text: str, i: int) -> tuple[list[Any], list[str], int]:
    items: list[Any] = []
    raws: list[str] = []
    i = _skip(text, i + 1)
    if text[i : i + 1] == "]":
        return items, raws, i + 1
    while True:
        start = i
        item, i = _value(text, i)
        items.append(item)
        raws.append(text[start:i])
        i = _skip(text, i)
        sep = text[i : i + 1]
        if sep == ",":
            i = _skip(text, i + 1)
        elif sep == "]":
            return items, raws, i + 1
        else:
            raise ValueError(f"expected , or ] at {i}")


def parse_frame(text: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Parse one JSON object; also return, per top-level array member, its elements' raw texts."""
    obj: dict[str, Any] = {}
    raws: dict[str, list[str]] = {}
    i = _skip(text, 0)
    if text[i : i + 1] != "{":
        raise ValueError("frame is not a JSON object")
    i = _skip(text, i + 1)
    if text[i : i + 1] == "}":
        i += 1
    else:
        while True:
            if text[i : i + 1] != '"':
                raise ValueError(f"expected a key at {i}")
            key, i = _value(text, i)
            i = _skip(text, i)
            if text[i : i + 1] != ":":
                raise ValueError(f"expected : at {i}")
            i = _skip(text, i + 1)
            if text[i : i + 1] == "[":
                obj[key], raws[key], i = _array(text, i)
            else:
                obj[key], i = _value(text, i)
            i = _skip(text, i)
            sep = text[i : i + 1]
            if sep == ",":
                i = _skip(text, i + 1)
            elif sep == "}":
                i += 1
                break
            else:
                raise ValueError(f"expected , or }} at {i}")
    if _skip(text, i) != len(text):
        raise ValueError("trailing data after the frame")
    return obj, raws


__all__ = ["parse_frame"]
