"""fieldsync.geo: visit routes, coordinates and check-in evidence.

Pure cores (requests, plans, schedules, datums, verdicts) with one module
touching the routing engine (``solver``) and one the network (``provider``).
"""

from fieldsync.geo.checkin import AccountSite, Evidence, Policy, Verdict, classify_check_in
from fieldsync.geo.datum import Datum, Point, convert, distance_m
from fieldsync.geo.plan import DayPlan, TeamPlan
from fieldsync.geo.planner import plan_day, replan
from fieldsync.geo.request import DayRequest, TeamRequest
from fieldsync.geo.team import plan_team

__all__ = [
    "AccountSite",
    "DayPlan",
    "DayRequest",
    "Datum",
    "Evidence",
    "Point",
    "Policy",
    "TeamPlan",
    "TeamRequest",
    "Verdict",
    "classify_check_in",
    "convert",
    "distance_m",
    "plan_day",
    "plan_team",
    "replan",
]
