"""The dashboard page in headless Chromium against the real server: sign-in, live rows, filters, map, review, languages."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from fieldsync.sdk import Replica, SyncClient
from fieldsync.sdk.visits import check_in

from .conftest import DAY, PASSWORD, PLAN, Team

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
LIVE_TIMEOUT_MS = 2000  # how long the page may take to show a change after the rep's sync returned


def sign_in(page: Any, team: Team, name: str, *, code: str | None = None, hash_: str = "") -> None:
    """Open the page on the test day and sign in through the form; wait until the live feed is connected."""
    page.goto(f"{team.url}/dashboard#from={DAY}&to={DAY}{hash_}")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#login", name)
    page.fill("#password", PASSWORD)
    if code:
        page.fill("#code", code)
    page.click("#signin-submit")
    page.wait_for_selector("#app:not([hidden])")
    page.wait_for_selector("#live[data-online=true]")


def manager_page(page: Any, team: Team, name: str = "mgr_east", **kw: Any) -> None:
    totp = team.enrol_totp(name)
    sign_in(page, team, name, code=totp.now(), **kw)


class Phone:
    """A rep's SDK replica and client; syncs on a worker thread (Playwright's sync API owns this thread's event loop)."""

    def __init__(self, team: Team, tmp: Path, rep: str) -> None:
        self.replica = Replica.open(tmp / f"{rep}-{time.monotonic_ns()}.db")
        token = team.server.token(user_id=team.user[rep], site=self.replica.site)
        self.client = SyncClient(team.server.ws_url, replica=self.replica, token=token)
        self.sync()

    def sync(self) -> None:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(self.client.sync_once, timeout=30).result()

    def close(self) -> None:
        self.client.stop()
        self.replica.close()


def row(page: Any, visit_id: str) -> Any:
    return page.locator(f'#log-body tr[data-visit-id="{visit_id}"]')


def test_manager_signs_in_with_totp_and_sees_only_their_team(page: Any, team: Team, artifacts: Path) -> None:
    """A manager enrolled in TOTP signs in through the page and sees the East team's visits, never the West's."""
    totp = team.enrol_totp("mgr_east")
    page.goto(f"{team.url}/dashboard#from={DAY}&to={DAY}")
    page.fill("#login", "mgr_east")
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#signin-error:has-text('one-time code')")
    page.fill("#code", totp.now())
    page.click("#signin-submit")
    page.wait_for_selector("#log-body tr[data-visit-id]")
    ids = set(page.locator("#log-body tr[data-visit-id]").evaluate_all("rows => rows.map(r => r.dataset.visitId)"))
    assert ids == set(team.visits["rep_e1"]) | set(team.visits["rep_e2"])
    assert "West Secret Account" not in page.content()
    assert page.locator("#page-info").inner_text() == "1–5 of 5"
    assert page.evaluate("localStorage.getItem('fieldsync.site.mgr_east')").startswith("web-")
    page.screenshot(path=str(artifacts / "dashboard-log-desktop.png"), full_page=True)


def test_a_reps_check_in_appears_live(page: Any, team: Team, tmp_path: Path) -> None:
    """A rep's SDK pushes a check-in and the row updates on the open page without reloading, verdict included."""
    manager_page(page, team)
    visit = team.visits["rep_e1"][0]
    assert row(page, visit).locator("td.checkin").inner_text() == "—"
    phone = Phone(team, tmp_path, "rep_e1")
    try:
        lat, lon = PLAN["rep_e1"][0][1:3]
        check_in(phone.replica, visit, lat=lat + 0.0002, lon=lon, accuracy_m=8)
        phone.sync()
        page.wait_for_selector(f'#log-body tr[data-visit-id="{visit}"] td.checkin:not(:text("—"))', timeout=LIVE_TIMEOUT_MS)
        page.wait_for_selector(f'#log-body tr[data-visit-id="{visit}"][data-verdict="verified"]', timeout=10_000)
        # a visit created on the phone (not on the page yet) appears too
        new = phone.replica.insert("visits", {"account_id": team.accounts[PLAN["rep_e1"][1][0]], "rep_id": team.user["rep_e1"],
                                        "planned_start": f"{DAY}T16:00:00+08:00", "status": "planned"})
        phone.sync()
        page.wait_for_selector(f'#log-body tr[data-visit-id="{new.id}"]', timeout=LIVE_TIMEOUT_MS)
        assert page.locator("#page-info").inner_text() == "1–6 of 6"
    finally:
        phone.close()


def test_filters_narrow_the_log(page: Any, team: Team) -> None:
    """Verdict, account and rep filters on the page narrow the rows shown."""
    manager_page(page, team)
    page.select_option("#f-verdict", "suspicious")
    page.click("#apply")
    expect(page.locator("#log-body tr[data-visit-id]")).to_have_count(1)
    assert row(page, team.visits["rep_e2"][1]).count() == 1
    page.select_option("#f-verdict", "")
    page.fill("#f-account", "Hongda")
    page.click("#apply")
    expect(row(page, team.visits["rep_e1"][1])).to_have_count(1)
    expect(page.locator("#log-body tr[data-visit-id]")).to_have_count(1)
    page.fill("#f-account", "")
    page.select_option("#f-rep", team.user["rep_e2"])
    page.click("#apply")
    expect(row(page, team.visits["rep_e1"][1])).to_have_count(0)
    expect(page.locator("#log-body tr[data-visit-id]")).to_have_count(2)
    west = [o for o in page.locator("#f-rep option").all_inner_texts() if "Zhao" in o]
    assert not west
    with page.expect_download() as download:
        page.click("#export")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("visit_id,rep,") and len(lines) == 3
    assert download.value.suggested_filename == f"visits-{DAY}.csv"


def test_day_map_draws_route_and_check_ins(page: Any, team: Team, artifacts: Path) -> None:
    """The day view draws the planned route through the accounts and the actual check-ins on an SVG map."""
    manager_page(page, team, hash_=f"&rep={team.user['rep_e2']}&tab=day")
    page.wait_for_selector("#map circle.planned")
    assert page.locator("#map circle.planned").count() == 2
    assert page.locator("#map polyline.route").count() == 1
    assert page.locator("#map rect.actual").count() == 2
    assert page.locator("#map rect.actual[data-verdict=out_of_range]").count() == 1
    assert page.locator("#map image").count() == 0  # no tiles unless configured
    assert page.locator("#stops li").count() == 2
    page.screenshot(path=str(artifacts / "dashboard-day-map.png"), full_page=True)


def test_map_tiles_are_an_optional_layer(page: Any, live_server: Any) -> None:
    """With a tile URL configured the map adds tile images under the drawn points."""
    from .conftest import build_team

    team = build_team(live_server(org_poll_s=0.05, dashboard_tile_url="http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"))
    manager_page(page, team, hash_=f"&rep={team.user['rep_e1']}&tab=day")
    page.wait_for_selector("#map circle.planned")
    hrefs = page.locator("#map image").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert hrefs and all(h.startswith("http://127.0.0.1:9/tiles/") and h.endswith(".png") for h in hrefs)


def test_conflict_restore_reaches_the_reps_device(page: Any, team: Team, tmp_path: Path, artifacts: Path) -> None:
    """Restoring a losing value from the page's conflict history changes the record on the rep's phone."""
    visit = team.visits["rep_e1"][2]
    a, b = Phone(team, tmp_path, "rep_e1"), Phone(team, tmp_path, "rep_e1")
    try:
        a.replica.update("visits", visit, {"outcome": "order signed"})
        b.replica.update("visits", visit, {"outcome": "customer postponed"})
        a.sync()
        b.sync()
        a.sync()
        kept = a.replica.get("visits", visit).values["outcome"]
        lost = "order signed" if kept == "customer postponed" else "customer postponed"
        manager_page(page, team, hash_="&tab=review")
        page.wait_for_selector("#suspicious-body tr[data-visit-id]")
        page.wait_for_selector("#open-conflicts li[data-conflict-id]")
        page.screenshot(path=str(artifacts / "dashboard-review.png"), full_page=True)
        page.locator("#open-conflicts li[data-conflict-id] button").first.click()
        page.wait_for_selector("#history[open] button.restore")
        page.screenshot(path=str(artifacts / "dashboard-conflict-history.png"))
        page.click("#history button.restore")
        page.wait_for_selector(f"#history-status:has-text('{lost}')")
        a.sync()
        b.sync()
        assert a.replica.get("visits", visit).values["outcome"] == lost
        assert b.replica.get("visits", visit).values["outcome"] == lost
        page.keyboard.press("Escape")
        expect(page.locator("#history")).to_be_hidden()
        page.click("#suspicious-body button.show-day")
        expect(page.locator("#map rect.actual[data-verdict=out_of_range]")).to_have_count(1)
        assert page.locator("#f-rep").input_value() == team.user["rep_e2"]
    finally:
        a.close()
        b.close()


def test_a_manager_marks_a_suspicious_check_in_reviewed(page: Any, team: Team, artifacts: Path) -> None:
    """Marking a suspicious check-in reviewed with a note takes it off the list; "show reviewed" brings it back with who and the note."""
    visit = team.visits["rep_e2"][1]
    note = "Called the buyer: they met at the warehouse"
    manager_page(page, team, hash_="&tab=review")
    listed = page.locator(f'#suspicious-body tr[data-visit-id="{visit}"]')
    listed.locator("button.mark-reviewed").click()
    expect(page.locator("#review-dialog")).to_be_visible()
    page.fill("#review-note", note)
    page.click("#review-submit")
    expect(listed).to_have_count(0)
    expect(page.locator("#suspicious-body")).to_contain_text("No suspicious check-ins left to review.")
    assert page.evaluate("document.activeElement.id") == "show-reviewed"
    page.check("#show-reviewed")
    marked = page.locator(f'#suspicious-body tr[data-visit-id="{visit}"][data-reviewed=true] td.review')
    expect(marked).to_contain_text("Reviewed by 李静 Li Jing")
    expect(marked).to_contain_text(note)
    expect(marked.locator("button.mark-reviewed")).to_have_count(0)
    page.screenshot(path=str(artifacts / "dashboard-reviewed.png"), full_page=True)


def test_a_manager_withdraws_a_review_mark_from_the_page(page: Any, team: Team) -> None:
    """*Withdraw mark* on a reviewed check-in puts it back on the to-review list and focuses its *Mark reviewed* button."""
    visit = team.visits["rep_e2"][1]
    manager_page(page, team, hash_="&tab=review")
    row = page.locator(f'#suspicious-body tr[data-visit-id="{visit}"]')
    row.locator("button.mark-reviewed").click()
    page.click("#review-submit")
    expect(page.locator("#suspicious-body")).to_contain_text("No suspicious check-ins left to review.")
    page.check("#show-reviewed")
    row.locator("button.withdraw-review").click()
    again = page.locator(f'#suspicious-body tr[data-visit-id="{visit}"][data-reviewed=false] button.mark-reviewed')
    expect(again).to_be_focused()
    page.uncheck("#show-reviewed")
    expect(row.locator("button.mark-reviewed")).to_have_count(1)


def test_an_edit_lost_to_a_delete_is_restored_from_the_page(page: Any, team: Team, tmp_path: Path, artifacts: Path) -> None:
    """The Review tab lists a task edit that lost to a deletion; restoring it from the history brings the task back on the rep's phone."""
    task = str(uuid.uuid4())
    team.write("tasks", task, {"title": "Call the buyer", "status": "open", "owner_id": team.user["rep_e1"], "department_id": team.dept["east"]})
    a, b = Phone(team, tmp_path, "rep_e1"), Phone(team, tmp_path, "rep_e1")
    try:
        a.replica.delete("tasks", task)
        b.replica.update("tasks", task, {"title": "Call the buyer and send the quote"})
        a.sync()
        b.sync()
        a.sync()
        assert a.replica.get("tasks", task) is None
        manager_page(page, team, hash_="&tab=review")
        entry = page.locator("#open-conflicts li[data-kind=deleted]")
        expect(entry).to_contain_text("Task \u201cCall the buyer and send the quote\u201d (deleted)")
        entry.locator("button").click()
        restore = page.locator("#history[open] li[data-kind=deleted] button.restore")
        expect(restore).to_have_text("Restore the record with this value")
        page.screenshot(path=str(artifacts / "dashboard-restore-deleted.png"))
        restore.click()
        page.wait_for_selector("#history-status:has-text('Record restored: title = Call the buyer and send the quote')")
        a.sync()
        record = a.replica.get("tasks", task)
        assert record is not None and record["title"] == "Call the buyer and send the quote"
        page.keyboard.press("Escape")
        expect(page.locator("#open-conflicts li[data-kind=deleted]")).to_have_count(0)
    finally:
        a.close()
        b.close()


def test_summary_and_chinese_at_tablet_width(page: Any, team: Team, artifacts: Path) -> None:
    """The funnel renders per rep, and the whole UI switches to Chinese and fits a 768-px tablet."""
    page.set_viewport_size({"width": 768, "height": 1024})
    manager_page(page, team, hash_="&tab=summary")
    page.wait_for_selector("#funnel-body tr[data-rep-id]")
    e2 = page.locator(f'#funnel-body tr[data-rep-id="{team.user["rep_e2"]}"] td')
    assert e2.nth(0).inner_text().startswith("2") and e2.nth(2).inner_text().startswith("1")
    page.screenshot(path=str(artifacts / "dashboard-summary-tablet.png"), full_page=True)
    page.click("#lang")
    page.wait_for_selector("html[lang=zh-CN]")
    assert page.locator("#tab-log").inner_text() == "拜访日志"
    assert page.locator("#funnel caption").inner_text() == "各代表的漏斗与活动"
    assert page.locator("#live").inner_text() == "实时"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    page.screenshot(path=str(artifacts / "dashboard-summary-zh-tablet.png"), full_page=True)
    page.click("#tab-log")
    page.wait_for_selector("#log-body tr[data-visit-id]")
    assert "超出范围" in page.locator("#log-body").inner_text()
    page.screenshot(path=str(artifacts / "dashboard-log-zh-tablet.png"), full_page=True)


def test_every_ui_string_has_both_languages(page: Any, team: Team) -> None:
    """The English and Chinese string tables have the same keys, and every data-i18n key exists."""
    page.goto(f"{team.url}/dashboard")
    page.wait_for_selector("body[data-ready=true]")
    result = page.evaluate("""async () => {
        const m = await import('/dashboard/static/i18n.js');
        const used = [...document.querySelectorAll('[data-i18n]')].map(e => e.dataset.i18n);
        return {en: m.keys('en'), zh: m.keys('zh'), used};
    }""")
    assert sorted(result["en"]) == sorted(result["zh"])
    assert set(result["used"]) <= set(result["en"])


def test_a_rep_sees_only_their_own_day(page: Any, team: Team, artifacts: Path) -> None:
    """A rep signing in gets their own day on the map and only their own visits in the log, with no rep filter."""
    sign_in(page, team, "rep_e2")
    page.wait_for_selector("#map circle.planned")
    assert page.locator("#tab-day").get_attribute("aria-selected") == "true"
    assert page.locator("#rep-field").is_hidden()
    assert page.locator("#stops li").count() == 2
    page.screenshot(path=str(artifacts / "dashboard-rep-day.png"), full_page=True)
    page.click("#tab-log")
    page.wait_for_selector("#log-body tr[data-visit-id]")
    ids = set(page.locator("#log-body tr[data-visit-id]").evaluate_all("rows => rows.map(r => r.dataset.visitId)"))
    assert ids == set(team.visits["rep_e2"])
    page.reload()  # the tab keeps its session (refresh token in sessionStorage), not the access token
    page.wait_for_selector("#app:not([hidden]) #map circle.planned")


def test_keyboard_only_sign_in_and_tab_navigation(page: Any, team: Team) -> None:
    """The form is reachable and submittable by keyboard, focus is visible, and arrow keys move between tabs."""
    page.goto(f"{team.url}/dashboard#from={DAY}&to={DAY}")
    page.wait_for_selector("body[data-ready=true]")
    order = []
    for _ in range(7):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert order.index("login") < order.index("password") < order.index("code") < order.index("signin-submit")
    page.focus("#login")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.type("rep_e1")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#app:not([hidden])")
    page.focus("#tab-day")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "tab-review"
    assert page.locator("#panel-review").is_visible()


def test_manager_enrols_totp_in_the_page_then_signs_in(page: Any, team: Team) -> None:
    """A manager without a second factor is walked through TOTP enrolment on the page and then signs in with a code."""
    import pyotp

    page.goto(f"{team.url}/dashboard#from={DAY}&to={DAY}")
    page.wait_for_selector("body[data-ready=true]")
    page.fill("#login", "mgr_west")
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")
    page.wait_for_selector("#enrol:not([hidden]) #enrol-qr[src^='data:image/png;base64,']")
    totp = pyotp.TOTP(page.locator("#enrol-secret").inner_text())
    page.fill("#enrol-code", totp.at(time.time() - 30))
    page.click("#enrol-form button[type=submit]")
    page.wait_for_selector("#recovery-codes li")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("#enrol-back")
    page.fill("#login", "mgr_west")
    page.fill("#password", PASSWORD)
    page.fill("#code", totp.now())
    page.click("#signin-submit")
    page.wait_for_selector(f'#log-body tr[data-visit-id="{team.visits["rep_w1"][0]}"]')
    assert page.locator("#log-body tr[data-visit-id]").count() == 1


def test_expired_access_token_is_refreshed_without_signing_in_again(page: Any, live_server: Any) -> None:
    """When the short-lived access token expires the page trades its refresh token for a new one and keeps working."""
    from .conftest import build_team

    team = build_team(live_server(org_poll_s=0.05, access_token_ttl_s=3))
    sign_in(page, team, "rep_e1", hash_="&tab=log")
    page.wait_for_selector("#log-body tr[data-visit-id]")
    before = page.evaluate("sessionStorage.getItem('fieldsync.session')")
    time.sleep(4.5)
    page.fill("#f-account", "Hongda")
    page.click("#apply")
    expect(page.locator("#log-body tr[data-visit-id]")).to_have_count(1)
    assert page.locator("#app-error").inner_text() == ""
    assert page.evaluate("sessionStorage.getItem('fieldsync.session')") != before  # the refresh token was rotated
