"""Score ``resolve_when`` beside dateparser (and jionlp for Chinese) on the shared date suites.

Run from the repository root::

    python -m bench.dates                      # every suite
    python -m bench.dates --suite zh-jionlp    # one suite
    python -m bench.dates --failures 40        # also print 40 of our failures per suite

Scoring rule (also in docs/dates.md)
------------------------------------
A *case* is one expected result of a spec entry.  Every system is handed the
same input: the expected result's own text (the expression, e.g. "next week"),
the spec's reference time (naive references are read as UTC; JioNLP's as
Asia/Shanghai) and the language.  Spec entries with no expected result are
*negative* cases: the whole input is handed over and the right answer is
"nothing".  A case is exact when the system's reading equals one of the
expected alternatives (Recognizers-Text lists past and future readings of
ambiguous expressions; either counts):

* date ``D``: a point on day ``D``, or an interval of exactly that day;
* datetime ``T``: a point at ``T`` (to the second);
* time ``t``: a point whose time of day is ``t``;
* daterange ``[S, E]``: an interval starting on day ``S`` and ending (exclusive)
  on ``E`` or one day, week, month (when ``E`` is a 1st) or year (when ``E`` is
  1 January) after ``E``: the specs write "next week" with ``E`` = the following
  Monday but "from 11th until 15th" with ``E`` = the 15th and "from March to
  May" with ``E`` = 1 May, i.e. the start of the last unit, inclusively;
* timerange / datetimerange: interval bounds equal (times of day / datetimes); the
  end may also be written inclusively ("tomorrow night" ends 23:59:59);
* duration: the same number of seconds;
* JioNLP ``[S, E]`` (``E`` inclusive, to the second): an interval ``[S, X)`` with
  ``X`` = ``E+1s``, or ``X`` = ``E`` (JioNLP writes "8点到9点" ending 09:00:00), or
  ``X`` = the start of ``E``'s minute when ``E`` ends in :59 ("到3点十分" ends
  15:10:59), or a point that expands by its grain to such an interval; a point
  with no grain (dateparser) matches when it equals ``S``.

Alternatives that cannot be checked (open-ended "Mod" ranges with one bound,
sets, time zones, JioNLP cases with blurred or infinite bounds or a base time
given only as a partial dict or "now") are not scored; the counts are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from fieldsync.voice.when import When, resolve_when

DATA = os.environ.get("FIELDSYNC_DATES_DATA", "/work/shared/bench-data/datetime")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PARSER_FILES = ("DateParser", "TimeParser", "DateTimeParser", "DatePeriodParser", "TimePeriodParser",
                "DateTimePeriodParser", "DurationParser", "HolidayParser")
GRAIN_STEP = {"second": timedelta(seconds=1), "minute": timedelta(minutes=1), "hour": timedelta(hours=1),
              "day": timedelta(days=1), "week": timedelta(days=7)}


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    grain: str | None


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime  # exclusive


@dataclass(frozen=True, slots=True)
class Duration:
    seconds: float


Reading = Point | Interval | Duration | None


@dataclass(frozen=True, slots=True)
class Case:
    suite: str
    lang: str
    text: str
    reference: datetime
    alternatives: tuple[tuple[str, tuple[str, ...]], ...]  # (kind, values); empty = negative case
    source: str


@dataclass(slots=True)
class Score:
    exact: int = 0
    total: int = 0
    seconds: float = 0.0
    failures: list[tuple[Case, Reading]] = field(default_factory=list)


# ---------------------------------------------------------------- loading

def _naive(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("T", " "))


def _rt_reference(entry: dict) -> datetime:
    ref = (entry.get("Context") or {}).get("ReferenceDateTime", "2016-11-07T00:00:00")
    return _naive(ref).replace(tzinfo=timezone.utc)


def _well_formed(kind: str, vals: tuple[str, ...]) -> bool:
    """Whether an expected value parses as its type says (a few spec entries do not)."""
    try:
        for v in vals:
            if kind in ("date", "daterange"):
                date.fromisoformat(v)
            elif kind in ("time", "timerange"):
                _naive("2000-01-01 " + v)
            elif kind in ("datetime", "datetimerange"):
                _naive(v)
            elif kind == "duration":
                float(v)
    except ValueError:
        return False
    return True


def _rt_alt(kind: str, v: dict) -> tuple[str, tuple[str, ...]] | None:
    kind = kind.removeprefix("datetimeV2.")
    keys = {"date": ("value",), "datetime": ("value",), "time": ("value",), "duration": ("value",),
            "daterange": ("start", "end"), "timerange": ("start", "end"), "datetimerange": ("start", "end")}
    if kind not in keys or any(k not in v or v[k] in ("", "not resolved") for k in keys[kind]):
        return None
    vals = tuple(str(v[k]) for k in keys[kind])
    return (kind, vals) if _well_formed(kind, vals) else None


def _rt_parser_alts(r: dict) -> list[tuple[str, tuple[str, ...]]]:
    kind = r.get("Type", "").removeprefix("datetimeV2.")
    names = {"date": ("date",), "time": ("time",), "datetime": ("dateTime",), "duration": ("duration",),
             "daterange": ("startDate", "endDate"), "timerange": ("startTime", "endTime"),
             "datetimerange": ("startDateTime", "endDateTime")}
    out = []
    for res in ("FutureResolution", "PastResolution"):
        v = (r.get("Value") or {}).get(res) or {}
        if kind in names and all(v.get(k) for k in names[kind]):
            alt = (kind, tuple(str(v[k]) for k in names[kind]))
            if alt not in out and _well_formed(*alt):
                out.append(alt)
    return out


def load_rt(lang: str, files: Iterable[str], suite: str) -> tuple[list[Case], int]:
    folder = {"en": "English", "zh": "Chinese"}[lang]
    cases, skipped = [], 0
    for name in files:
        path = os.path.join(DATA, "recognizers_text", folder, name + ".json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8-sig") as fh:
            entries = json.load(fh)
        for entry in entries:
            ref = _rt_reference(entry)
            results = entry.get("Results") or []
            if not results:
                cases.append(Case(suite, lang, entry["Input"], ref, (), name))
                continue
            for r in results:
                if "Resolution" in r:
                    alts = [a for v in r["Resolution"].get("values", [])
                            if (a := _rt_alt(v.get("type", ""), v)) is not None]
                else:
                    alts = _rt_parser_alts(r)
                if alts:
                    cases.append(Case(suite, lang, r["Text"], ref, tuple(alts), name))
                else:
                    skipped += 1
    return cases, skipped


def _jio_base(base: dict) -> datetime | None:
    kind, value = base.get("kind"), base.get("value")
    if kind in ("timestamp", "float", "int") and value is not None:
        return datetime.fromtimestamp(float(value), SHANGHAI)
    if kind == "list" and value:
        y, mo, d, h, mi, s = (list(value) + [1, 1, 0, 0, 0][len(value) - 1:])[:6]
        return datetime(y, mo, d, h, mi, s, tzinfo=SHANGHAI)
    if kind == "datetime" and isinstance(value, str):
        return _naive(value).replace(tzinfo=SHANGHAI)
    return None


def load_jionlp() -> tuple[list[Case], int]:
    cases, skipped = [], 0
    with open(os.path.join(DATA, "jionlp", "jionlp_time_parser_cases.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            exp, ref = row["expected"], _jio_base(row["base_time"])
            if ref is None or not isinstance(exp, dict):
                skipped += 1
                continue
            t = exp.get("time")
            if exp["type"] in ("time_point", "time_span") and isinstance(t, list) and "inf" not in t \
                    and "-inf" not in t and exp.get("definition") == "accurate":
                cases.append(Case("zh-jionlp", "zh", row["input"], ref, (("jio", (t[0], t[1])),), "jionlp"))
            elif exp["type"] == "time_delta" and isinstance(t, dict) and len(t) == 1:
                unit, n = next(iter(t.items()))
                secs = {"year": 365 * 86400, "month": 30 * 86400, "day": 86400, "hour": 3600,
                        "minute": 60, "second": 1}.get(unit)
                if secs is None:
                    skipped += 1
                    continue
                cases.append(Case("zh-jionlp", "zh", row["input"], ref,
                                  (("duration", (str(float(n) * secs),)),), "jionlp"))
            else:
                skipped += 1
    return cases, skipped


EXTRA_FILES = {"en": ("DateTimeModelCalendarMode", "DateTimeModelComplexCalendar", "DateTimeModelExperimentalMode",
                      "DateTimeModelExtendedTypes", "DateTimeModelSplitDateAndTime", "DateTimeModelTasksMode"),
               "zh": ("DateTimeModelExperimentalMode",)}


def load(suite: str) -> tuple[list[Case], int]:
    if suite == "zh-jionlp":
        return load_jionlp()
    lang, kind = suite.split("-")
    files = {"model": ("DateTimeModel",), "parser": PARSER_FILES, "extra": EXTRA_FILES[lang]}[kind]
    return load_rt(lang, files, suite)


# ---------------------------------------------------------------- matching

def _expand(p: Point) -> Interval | None:
    if p.grain in GRAIN_STEP:
        return Interval(p.at, p.at + GRAIN_STEP[p.grain])
    if p.grain == "month":
        y, m = (p.at.year + 1, 1) if p.at.month == 12 else (p.at.year, p.at.month + 1)
        return Interval(p.at, p.at.replace(year=y, month=m))
    if p.grain == "year":
        return Interval(p.at, p.at.replace(year=p.at.year + 1))
    return None


def matches(reading: Reading, case: Case) -> bool:
    if not case.alternatives:
        return reading is None
    if reading is None:
        return False
    return any(_match_one(reading, kind, vals) for kind, vals in case.alternatives)


def _wall(d: datetime) -> datetime:
    return d.replace(tzinfo=None, microsecond=0)


def _inclusive_ends(e: date) -> tuple[date, ...]:
    """Recognizers-Text ends "from March to May" at May 1 (the start of the last unit); an exclusive end
    after the last day, week, month or year of the range names the same stretch."""
    month = date(e.year + (e.month == 12), e.month % 12 + 1, 1) if e.day == 1 else None
    year = date(e.year + 1, 1, 1) if (e.month, e.day) == (1, 1) else None
    return tuple(d for d in (e, e + timedelta(days=1), e + timedelta(days=7), month, year) if d is not None)


def _jio_end(end: datetime, e: datetime) -> bool:
    """JioNLP writes an end inclusively to the second, or as the instant itself, or as the last second
    of the end's minute ("1点到3点十分" ends 15:10:59); all three name the same exclusive end."""
    if end - timedelta(seconds=1) == e or end == e:
        return True
    return e.second == 59 and end == e.replace(second=0)


def _match_one(r: Reading, kind: str, vals: tuple[str, ...]) -> bool:
    if kind == "duration":
        return isinstance(r, Duration) and abs(r.seconds - float(vals[0])) < 0.5
    if kind == "jio":
        s, e = _naive(vals[0]), _naive(vals[1])
        if isinstance(r, Point):
            if r.grain is None:
                return _wall(r.at) == s
            ex = _expand(r)
            return ex is not None and _wall(ex.start) == s and _jio_end(_wall(ex.end), e)
        return isinstance(r, Interval) and _wall(r.start) == s and _jio_end(_wall(r.end), e)
    if kind == "date":
        d = date.fromisoformat(vals[0])
        if isinstance(r, Point):
            return r.at.date() == d and r.grain in (None, "day")
        return isinstance(r, Interval) and _wall(r.start) == datetime.combine(d, datetime.min.time()) \
            and r.end - r.start == timedelta(days=1)
    if kind == "datetime":
        return isinstance(r, Point) and _wall(r.at) == _naive(vals[0])
    if kind == "time":
        return isinstance(r, Point) and _wall(r.at).time() == _naive("2000-01-01 " + vals[0]).time()
    if isinstance(r, Point):
        ex = _expand(r)
        if ex is None:
            return False
        r = ex
    if not isinstance(r, Interval):
        return False
    if kind == "daterange":
        first, last = date.fromisoformat(vals[0]), date.fromisoformat(vals[1])
        return r.start.date() == first and r.end.date() in _inclusive_ends(last)
    if kind == "timerange":
        t0, t1 = (_naive("2000-01-01 " + v) for v in vals)
        end = _wall(r.end)
        return _wall(r.start).time() == t0.time() and t1.time() in (end.time(), (end - timedelta(seconds=1)).time())
    if kind == "datetimerange":
        end = _wall(r.end)
        return _wall(r.start) == _naive(vals[0]) and _naive(vals[1]) in (end, end - timedelta(seconds=1))
    return False


# ---------------------------------------------------------------- systems

def ours(case: Case) -> Reading:
    w = resolve_when(case.text, reference=case.reference, lang=case.lang)
    return reading_of(w)


def reading_of(w: When | None) -> Reading:
    if w is None:
        return None
    if w.kind == "duration" and w.duration is not None:
        return Duration(w.duration.total_seconds())
    if w.end is not None:
        return Interval(w.start, w.end)
    return Point(w.start, w.grain)


def _dateparser() -> Callable[[Case], Reading]:
    import dateparser

    def run(case: Case) -> Reading:
        settings = {"RELATIVE_BASE": case.reference.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
                    "RETURN_AS_TIMEZONE_AWARE": False}
        try:
            d = dateparser.parse(case.text, languages=[case.lang], settings=settings)
        except Exception:  # a competitor's crash counts as a miss, not as a bench failure
            return None
        return None if d is None else Point(d.replace(tzinfo=case.reference.tzinfo), None)
    return run


def _jionlp() -> Callable[[Case], Reading]:
    import jionlp

    def run(case: Case) -> Reading:
        try:
            # jionlp reads a timestamp in the machine's zone: hand it the reference's wall time
            res = jionlp.parse_time(case.text, time_base=case.reference.replace(tzinfo=None).timestamp())
        except Exception:  # jionlp raises on text it cannot read
            return None
        t = res.get("time")
        if res.get("type") == "time_delta" and isinstance(t, dict) and len(t) == 1:
            unit, n = next(iter(t.items()))
            secs = {"year": 365 * 86400, "month": 30 * 86400, "day": 86400, "hour": 3600, "minute": 60,
                    "second": 1}.get(unit, 0)
            return Duration(float(n) * secs)
        if isinstance(t, list) and len(t) == 2 and "inf" not in t and "-inf" not in t:
            try:
                s, e = _naive(t[0]), _naive(t[1]) + timedelta(seconds=1)
            except ValueError:  # jionlp sometimes returns years it cannot format
                return None
            tz = case.reference.tzinfo
            if e - s == timedelta(days=1) and s.hour == 0 and s.minute == 0:
                return Point(s.replace(tzinfo=tz), "day")
            if e - s in (timedelta(minutes=1), timedelta(seconds=1)):
                return Point(s.replace(tzinfo=tz), "minute")
            return Interval(s.replace(tzinfo=tz), e.replace(tzinfo=tz))
        return None
    return run


def run_suite(cases: list[Case], system: Callable[[Case], Reading]) -> Score:
    score = Score()
    t0 = time.perf_counter()
    for case in cases:
        r = system(case)
        score.total += 1
        if matches(r, case):
            score.exact += 1
        else:
            score.failures.append((case, r))
    score.seconds = time.perf_counter() - t0
    return score


SUITES = ("en-model", "en-parser", "zh-model", "zh-parser", "zh-jionlp")
HELD_OUT = ("en-extra", "zh-extra")  # the other Recognizers-Text modes: never looked at while writing the rules


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", choices=SUITES + HELD_OUT, action="append",
                    help="default: the five main suites; en-extra / zh-extra are held-out checks")
    ap.add_argument("--failures", type=int, default=0, help="print this many of our failures per suite")
    ap.add_argument("--only-ours", action="store_true", help="skip the other libraries (fast iteration)")
    ap.add_argument("--markdown", action="store_true", help="also print a summary table in Markdown")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    systems: dict[str, Callable[[Case], Reading]] = {"fieldsync": ours}
    if not args.only_ours:
        systems["dateparser"] = _dateparser()
    header = f"{'suite':<10} {'system':<11} {'exact':>6} {'cases':>6} {'rate':>7} {'cases/s':>9}"
    print(header)
    print("-" * len(header))
    rows: list[tuple[str, str, Score, int]] = []
    for suite in args.suite or SUITES:
        cases, skipped = load(suite)
        names = dict(systems)
        if suite.startswith("zh") and not args.only_ours:
            names["jionlp"] = _jionlp()
        for name, system in names.items():
            s = run_suite(cases, system)
            rows.append((suite, name, s, skipped))
            rate = 100.0 * s.exact / max(1, s.total)
            print(f"{suite:<10} {name:<11} {s.exact:>6} {s.total:>6} {rate:>6.1f}% {s.total / s.seconds:>9.0f}")
            if name == "fieldsync" and args.failures:
                for case, r in s.failures[: args.failures]:
                    print(f"    FAIL {case.text!r} ref={case.reference:%Y-%m-%d %H:%M %a} "
                          f"want={case.alternatives} got={r}")
        print(f"{suite:<10} (not scored: {skipped})")
    if args.markdown:
        print()
        print("| suite | language | cases (not scored) | " + " | ".join(systems) + (" | jionlp |" if not args.only_ours
                                                                                 else " |"))
        print("|---|---|---|" + "---|" * (len(systems) + (0 if args.only_ours else 1)))
        for suite in args.suite or SUITES:
            mine = [r for r in rows if r[0] == suite]
            cells = []
            for name in list(systems) + ([] if args.only_ours else ["jionlp"]):
                hit = [r for r in mine if r[1] == name]
                if hit:
                    s = hit[0][2]
                    cells.append(f"{100.0 * s.exact / max(1, s.total):.1f} % ({s.total / s.seconds:.0f}/s)")
                else:
                    cells.append("—")
            lang = "English" if suite.startswith("en") else "Chinese"
            print(f"| {suite} | {lang} | {mine[0][2].total} ({mine[0][3]}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
