"""``fieldsync memo extract``: a memo (text or audio) -> suggested tasks, on the command line.

    fieldsync memo extract --text "明天下午三点给华东电气的王总打电话" --at 2026-11-22T17:05:00+08:00 --lang zh --json
    fieldsync memo extract --audio memo.wav --at 2026-11-22T17:05:00+08:00 --accounts accounts.json

Exit codes: 0 done (even with no task found), 1 the memo was refused with a
typed error (printed as ``{"error": {...}}`` with ``--json``), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldsync.sync import errors as E

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``memo extract`` to the ``fieldsync`` command."""
    memo = sub.add_parser("memo", help="voice memos: transcript or audio -> suggested follow-up tasks")
    memo.set_defaults(handler=lambda args: _usage(memo))
    actions = memo.add_subparsers(dest="memo_command", metavar="ACTION")
    p = actions.add_parser("extract", help="print the tasks a memo suggests")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="the memo transcript")
    source.add_argument("--audio", type=Path, help="a recording (WAV, FLAC, OGG, MP3, M4A, ...)")
    p.add_argument("--at", required=True, dest="recorded_at",
                   help="when the memo was recorded, ISO 8601 with offset, e.g. 2026-11-22T17:05:00+08:00")
    p.add_argument("--tz", dest="time_zone", default=None, help="the rep's IANA time zone, e.g. Asia/Shanghai")
    p.add_argument("--lang", default="auto", help="en, zh or auto (default)")
    p.add_argument("--accounts", type=Path, default=None,
                   help="JSON file: a list of accounts {id, name, aliases, short_names, contacts: [{id, name}]}")
    p.add_argument("--memo-id", default=None, help="attachment id; adds stable CRM task rows to the JSON output")
    p.add_argument("--engine", default=None, help="speech engine (default from FIELDSYNC_ASR_ENGINE or pocketsphinx)")
    p.add_argument("--model-dir", default=None, help="speech model directory (FIELDSYNC_ASR_MODEL_DIR)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(handler=_extract)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _extract(args: argparse.Namespace) -> int:
    from fieldsync.server.settings import Settings
    from fieldsync.voice.asr import select_recogniser
    from fieldsync.voice.memo import process_memo

    try:
        recorded_at = datetime.fromisoformat(args.recorded_at)
    except ValueError:
        print(f"fieldsync memo extract: --at {args.recorded_at!r} is not an ISO 8601 time", file=sys.stderr)
        return 2
    try:
        accounts = _load_accounts(args.accounts) if args.accounts else []
        audio = args.audio.read_bytes() if args.audio else None
    except (OSError, ValueError) as exc:
        print(f"fieldsync memo extract: {exc}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    try:
        recogniser = None
        if audio is not None:
            recogniser = select_recogniser(args.engine or settings.asr_engine, args.model_dir or settings.asr_model_dir)
        result = process_memo(recorded_at=recorded_at, text=args.text, audio=audio, time_zone=args.time_zone,
                              lang=args.lang, accounts=accounts, recogniser=recogniser,
                              max_seconds=settings.memo_max_seconds)
    except E.FieldSyncError as exc:
        if args.json:
            print(json.dumps({"error": exc.to_wire()}, ensure_ascii=False))
        else:
            print(f"error {exc.code.code} {exc.code.name}: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.to_dict(memo_id=args.memo_id), ensure_ascii=False, indent=2))
        return 0
    print(f"transcript ({result.lang}, {result.engine}): {result.text}")
    if not result.tasks:
        print("no tasks suggested")
    for n, task in enumerate(result.tasks, 1):
        due = task.due_at.date().isoformat() if task.due_at and task.all_day else (
            task.due_at.isoformat(timespec="minutes") if task.due_at else "-")
        who = task.contact_name or task.account_name or "-"
        if task.contact_name and task.account_name:
            who = f"{task.contact_name} ({task.account_name})"
        money = f"{task.amount} {task.currency or ''}".strip() if task.amount is not None else "-"
        print(f"{n}. [{task.kind.value}] {task.title}\n   due {due} | customer {who} | amount {money} | "
              f"priority {task.priority.value} | confidence {task.confidence:.2f}")
    return 0


def _load_accounts(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("accounts", [])
    if not isinstance(data, list) or not all(isinstance(a, dict) for a in data):
        raise ValueError(f"{path}: expected a JSON list of account objects")
    return data
