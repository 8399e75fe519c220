"""``fieldsync route ...``: plan a day or a team from a JSON file, classify a check-in."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from fieldsync.sync.errors import FieldSyncError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("route", help="plan visit routes and classify check-ins")
    actions = p.add_subparsers(dest="route_command", metavar="ACTION")
    actions.required = True
    for name, helptext in (("plan", "plan one rep's day from REQUEST.json"), ("team", "distribute accounts over a team from REQUEST.json"),
                           ("classify", "classify a check-in from {evidence, account, previous?, policy?} JSON")):
        a = actions.add_parser(name, help=helptext)
        a.add_argument("request", help="path to a JSON file, or - for standard input")
        a.add_argument("--json", action="store_true", help="print the answer as JSON")
        a.add_argument("--distance-provider", default=None, help="osrm+http://... or valhalla+http://... (default: great-circle)")
        a.set_defaults(handler=_run, action_name=name)


def _load(path: str) -> Any:
    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    return json.loads(text)


def _run(args: argparse.Namespace) -> int:
    from fieldsync.geo.checkin import AccountSite, Evidence, Policy, classify_check_in
    from fieldsync.geo.planner import plan_day
    from fieldsync.geo.provider import provider_for
    from fieldsync.geo.team import plan_team

    try:
        body = _load(args.request)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.request}: {exc}", file=sys.stderr)
        return 2
    try:
        provider = provider_for(args.distance_provider)
        if args.action_name == "plan":
            answer = plan_day(body, provider=provider).to_json()
        elif args.action_name == "team":
            answer = plan_team(body, provider=provider).to_json()
        else:
            if not isinstance(body, dict):
                body = {}
            prev = body.get("previous")
            answer = classify_check_in(Evidence.from_json(body.get("evidence")), AccountSite.from_json(body.get("account")),
                                       previous=None if prev is None else Evidence.from_json(prev),
                                       policy=Policy.from_json(body.get("policy"))).to_json()
    except FieldSyncError as exc:
        if args.json:
            print(json.dumps({"error": exc.to_wire()}, ensure_ascii=False))
        else:
            print(f"error {exc.code.code} {exc.code.name}: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        print(_human(args.action_name, answer))
    return 0


def _hm(iso: str) -> str:
    return iso[11:16]


def _day_lines(day: dict[str, Any]) -> list[str]:
    lines = [f"{day['date']}  depart {_hm(day['depart'])}  back {_hm(day['back'])}  "
             f"travel {day['totals']['travel_minutes']:.0f} min  {day['totals']['distance_km']:.1f} km"]
    lunch = day.get("lunch")
    for stop in day["stops"]:
        lines.append(f"  {_hm(stop['start'])}-{_hm(stop['departure'])}  {stop['kind']:<11} {stop['id']}  {stop['name']}")
        if lunch and lunch["after"] == stop["id"]:
            lines.append(f"  {_hm(lunch['start'])}-{_hm(lunch['end'])}  lunch")
    if lunch and lunch["after"] is None:
        lines.insert(1, f"  {_hm(lunch['start'])}-{_hm(lunch['end'])}  lunch")
    return lines


def _human(action: str, answer: dict[str, Any]) -> str:
    if action == "classify":
        reasons = "; ".join(f"{r['code']}: {r['message']}" for r in answer["reasons"]) or "no concerns"
        return f"{answer['status']}  ({answer['distance_m']:.0f} m from the account)  {reasons}"
    lines: list[str] = []
    days = answer["days"] if action == "team" else [answer]
    for day in days:
        if action == "team":
            lines.append(f"rep {day['rep_id']}")
        lines += _day_lines(day)
    for d in answer["dropped"]:
        lines.append(f"  left out {d['id']}: {d['message']}")
    for w in answer.get("warnings", []):
        lines.append(f"  warning: {w}")
    return "\n".join(lines)


__all__ = ["register"]
