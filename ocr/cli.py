"""``fieldsync card scan IMAGE``: recognise a business card photo from the command line.

Prints the fields as JSON (``--json``) or as aligned text. Exit codes: 0 read,
1 the image was refused (a typed FS-4xxx error, printed as JSON on stderr),
2 the file could not be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fieldsync.ocr.engines import ENGINE_NAMES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    card = sub.add_parser("card", help="business-card tools")
    card_sub = card.add_subparsers(dest="card_command", metavar="ACTION")
    card_sub.required = True
    scan = card_sub.add_parser("scan", help="recognise a business card photo")
    scan.add_argument("image", type=Path, help="photo of the card (JPEG, PNG, WebP ...)")
    scan.add_argument("--back", type=Path, default=None, help="photo of the back of a two-sided card")
    scan.add_argument("--json", action="store_true", help="print the fields as JSON")
    scan.add_argument("--engine", choices=ENGINE_NAMES, default=None, help="OCR engine (default: FIELDSYNC_OCR_ENGINE or rapidocr)")
    scan.add_argument("--region", default=None, help="default phone region, ISO 3166 (default: FIELDSYNC_DEFAULT_PHONE_REGION or CN)")
    scan.set_defaults(handler=_scan)


def _scan(args: argparse.Namespace) -> int:
    from fieldsync.ocr.scan import scan_card
    from fieldsync.server.settings import Settings
    from fieldsync.sync.errors import FieldSyncError

    settings = Settings.from_env()
    try:
        front = args.image.read_bytes()
        back = args.back.read_bytes() if args.back else None
    except OSError as exc:
        print(f"fieldsync card scan: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        card = scan_card(
            front,
            back=back,
            engine=args.engine or settings.ocr_engine,
            region=args.region or settings.default_phone_region,
        )
    except FieldSyncError as exc:
        print(json.dumps({"error": exc.to_wire()}, ensure_ascii=False), file=sys.stderr)
        return 1
    fields = card.to_json()
    if args.json:
        print(json.dumps(fields, ensure_ascii=False, indent=2))
        return 0
    confidence = fields.pop("confidence")
    for key, value in fields.items():
        if key == "phones":
            value = ", ".join(f"{p['number']} ({p['kind']})" for p in value)
        elif key == "emails":
            value = ", ".join(value)
        score = f"  [{confidence[key]:.2f}]" if key in confidence else ""
        print(f"{key:<11} {value or '-'}{score}")
    return 0
