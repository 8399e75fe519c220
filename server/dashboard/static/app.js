// The dashboard page: sign-in, filters, the live visit log, the day map, review and summary panels.
import { ApiError, LiveFeed, Session } from "./api.js";
import { drawMap } from "./map.js";
import { getLang, setLang, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const state = { session: null, feed: null, me: null, tab: "log", offset: 0, limit: 100, total: 0, enrolToken: null, pending: new Set(), timer: null };

// --- formatting -------------------------------------------------------------------------------------------------
const pad = (n) => String(n).padStart(2, "0");
function localDate(d) { return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; }
function fmtTime(iso) {
  if (!iso) return t("notCheckedIn");
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fmtDateTime(iso) {
  if (!iso) return t("notCheckedIn");
  const d = new Date(iso);
  return `${localDate(d)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fmtWindow(v) {
  if (!v.planned_start) return t("notCheckedIn");
  const oneDay = $("f-from").value === $("f-to").value;  // a day's log shows times only
  return `${oneDay ? fmtTime(v.planned_start) : fmtDateTime(v.planned_start)}${v.planned_end ? "\u2013" + fmtTime(v.planned_end) : ""}`;
}
const fmtDwell = (s) => (s === null || s === undefined ? t("notCheckedIn") : t("minutes", { n: Math.round(s / 60) }));
const fmtDist = (m) => (m === null || m === undefined ? t("notCheckedIn") : t("metres", { n: Math.round(m) }));
const reasonText = (r) => { const k = `r_${r.code}`; const s = t(k); return s === k ? r.code : s; };
const verdictText = (v) => (v ? t(`v_${v}`) : t("v_none"));

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function errorText(err) {
  if (err instanceof ApiError) {
    if (err.code === "FS-3007") return t("errLogin");
    if (err.code === "FS-3008") return t("errLocked");
    if (err.code === "FS-3009") return t("errTotp");
    return t("errGeneric", { code: err.code });
  }
  return t("errGeneric", { code: String(err && err.message) });
}

// --- filters ------------------------------------------------------------------------------------------------------
function range() {
  const from = $("f-from").value, to = $("f-to").value || from;
  const start = new Date(`${from}T00:00:00`);
  const end = new Date(`${to}T00:00:00`);
  end.setDate(end.getDate() + 1);
  return { start: start.toISOString(), end: end.toISOString() };
}

function filters() {
  const { start, end } = range();
  return { rep: $("f-rep").value, start, end, verdict: $("f-verdict").value, account: $("f-account").value.trim() };
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const today = localDate(new Date());
  $("f-from").value = params.get("from") || today;
  $("f-to").value = params.get("to") || params.get("from") || today;
  if (params.get("verdict")) $("f-verdict").value = params.get("verdict");
  if (params.get("account")) $("f-account").value = params.get("account");
  return params;
}

// --- the visit log -----------------------------------------------------------------------------------------------
function visitRow(v) {
  const tr = document.createElement("tr");
  tr.dataset.visitId = v.id;
  tr.dataset.verdict = v.verdict || "";
  if (state.flash && state.flash.has(v.id)) tr.classList.add("flash");
  const th = document.createElement("th");
  th.scope = "row";
  th.textContent = v.rep_name || v.rep_id || "";
  tr.append(th);
  tr.append(cell(v.account ? v.account.name : t("notCheckedIn"), "account"));
  tr.append(cell(fmtWindow(v), "planned"));
  tr.append(cell(fmtTime(v.checkin_at), "checkin"));
  tr.append(cell(fmtTime(v.checkout_at), "checkout"));
  tr.append(cell(fmtDwell(v.dwell_s), "dwell"));
  tr.append(cell(fmtDist(v.distance_m), "distance"));
  const verdict = cell("", "verdict");
  const badge = document.createElement("span");
  badge.className = `badge ${v.verdict || "none"}`;
  badge.textContent = verdictText(v.verdict);
  verdict.append(badge);
  if (v.verdict_reasons && v.verdict_reasons.length) {
    const small = document.createElement("small");
    small.textContent = " " + v.verdict_reasons.map(reasonText).join(", ");
    verdict.append(small);
  }
  tr.append(verdict);
  tr.append(cell(v.outcome, "outcome"));
  tr.append(cell(v.notes, "notes"));
  const c = cell("", "conflicts");
  if (v.conflicts > 0) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "ghost small";
    b.textContent = t("historyButton", { n: v.conflicts });
    b.addEventListener("click", () => openHistory("visits", v.id, b));
    c.append(b);
  }
  tr.append(c);
  return tr;
}

async function loadLog() {
  const page = await state.session.get("/v1/dashboard/visits", { ...filters(), limit: state.limit, offset: state.offset });
  state.total = page.total;
  const body = $("log-body");
  body.replaceChildren(...page.items.map(visitRow));
  if (!page.items.length) {
    const tr = document.createElement("tr");
    const td = cell(t("noVisits"));
    td.colSpan = 11;
    tr.append(td);
    body.append(tr);
  }
  const from = page.total ? page.offset + 1 : 0;
  $("page-info").textContent = t("pageInfo", { from, to: page.offset + page.items.length, total: page.total });
  $("prev").disabled = page.offset === 0;
  $("next").disabled = page.offset + page.items.length >= page.total;
}

// Live: re-fetch the changed visits; replace rows in place, or reload the page when rows enter or leave it.
async function refreshVisits(ids) {
  if (state.tab !== "log" || ids.length > 200) return refreshPanel();
  const found = await state.session.get("/v1/dashboard/visits", { ...filters(), ids: ids.join(","), limit: 500 });
  const shown = new Map([...$("log-body").querySelectorAll("tr[data-visit-id]")].map((tr) => [tr.dataset.visitId, tr]));
  const all = found.items.every((v) => shown.has(v.id)) && ids.every((id) => !shown.has(id) || found.items.some((v) => v.id === id));
  if (!all) {
    state.flash = new Set(ids);
    return loadLog().finally(() => { state.flash = null; });
  }
  for (const v of found.items) {
    const fresh = visitRow(v);
    fresh.classList.add("flash");
    shown.get(v.id).replaceWith(fresh);
  }
}

function queueVisits(ids) {
  for (const id of ids) state.pending.add(id);
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    const batch = [...state.pending];
    state.pending.clear();
    refreshVisits(batch).catch(console.error);
  }, 80);
}

// --- day map ---------------------------------------------------------------------------------------------------------
async function loadDay() {
  const rep = $("f-rep").value || (state.me.team ? "" : state.me.user);
  const list = $("stops");
  const svg = $("map");
  if (!rep) {
    drawMap(svg, [], { title: t("tabDay"), empty: t("chooseRep") });
    list.replaceChildren();
    return;
  }
  const from = $("f-from").value;
  const start = new Date(`${from}T00:00:00`), end = new Date(`${from}T00:00:00`);
  end.setDate(end.getDate() + 1);
  const day = await state.session.get("/v1/dashboard/day", { rep, start: start.toISOString(), end: end.toISOString() });
  const person = (state.me.people.find((p) => p.id === rep) || {}).name || rep;
  const stops = day.stops.map((s) => ({ n: s.n, planned: s.planned, actual: s.actual, verdict: s.visit.verdict,
                                        at: s.visit.checkin_at, label: s.visit.account ? s.visit.account.name : "" }));
  drawMap(svg, stops, { tileUrl: day.tile_url, title: t("mapTitle", { name: person }), empty: t("mapEmpty") });
  $("map-desc").textContent = day.stops.map((s) => stopText(s)).join("; ");
  list.replaceChildren(...day.stops.map((s) => {
    const li = document.createElement("li");
    li.dataset.visitId = s.visit.id;
    li.textContent = stopText(s).replace(/^\d+\. /, "") + (s.visit.verdict ? ` \u2014 ${verdictText(s.visit.verdict)}` : "");
    return li;
  }));
}

function stopText(s) {
  return t("stopLine", { n: s.n, account: s.visit.account ? s.visit.account.name : "?", planned: fmtTime(s.visit.planned_start),
                          checkin: fmtTime(s.visit.checkin_at) });
}

// --- review: suspicious check-ins and open conflicts ----------------------------------------------------------------
const CONFLICT_TABLES = "visits,accounts,contacts,leads,opportunities,tasks";

function reviewCell(v) {
  const td = cell("", "review");
  const r = v.review;
  if (r) {
    const span = document.createElement("span");
    span.className = r.current ? "reviewed-mark" : "muted";
    span.textContent = t(r.current ? "reviewedBy" : "reviewedBefore", { name: r.by_name || r.by, at: fmtDateTime(r.at) });
    td.append(span);
    if (r.note) {
      const note = document.createElement("small");
      note.className = "review-note";
      note.textContent = r.note;
      td.append(note);
    }
  }
  if (state.me.team && v.rep_id !== state.me.user) {
    const b = document.createElement("button");
    b.type = "button";
    if (r && r.current) {
      b.className = "ghost small withdraw-review";
      b.textContent = t("withdrawReview");
      b.addEventListener("click", () => withdrawReview(v, b).catch(report));
    } else {
      b.className = "ghost small mark-reviewed";
      b.textContent = t("markReviewed");
      b.addEventListener("click", () => openReview(v, b));
    }
    td.append(b);
  }
  return td;
}

// Withdrawing a mark (any manager who could make it may) puts the check-in back on the to-review list.
async function withdrawReview(v, button) {
  button.disabled = true;
  try {
    await state.session.delete(`/v1/dashboard/visits/${v.id}/review`);
  } finally {
    button.disabled = false;
  }
  await refreshPanel();
  const again = $("suspicious-body").querySelector(`[data-visit-id="${v.id}"] button.mark-reviewed`);
  (again || $("show-reviewed")).focus();
}

async function loadReview() {
  const f = { ...filters(), verdict: "suspicious" };
  if (state.me.team && !$("show-reviewed").checked) f.reviewed = "false";
  $("show-reviewed").closest("label").hidden = !state.me.team;
  const [page, open] = await Promise.all([
    state.session.get("/v1/dashboard/visits", { ...f, limit: 500 }),
    state.session.get("/v1/dashboard/conflicts", { table: CONFLICT_TABLES }),
  ]);
  const body = $("suspicious-body");
  body.replaceChildren(...page.items.map((v) => {
    const tr = document.createElement("tr");
    tr.dataset.visitId = v.id;
    tr.dataset.reviewed = String(Boolean(v.review && v.review.current));
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = v.rep_name || v.rep_id;
    tr.append(th, cell(v.account ? v.account.name : ""), cell(fmtDateTime(v.checkin_at)), cell(fmtDist(v.distance_m)),
              cell(verdictText(v.verdict)), cell((v.verdict_reasons || []).map(reasonText).join(", ")), reviewCell(v));
    const go = cell("");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "ghost small show-day";
    b.textContent = t("showOnMap");
    b.addEventListener("click", () => {
      if (state.me.team && v.rep_id) $("f-rep").value = v.rep_id;
      const when = v.planned_start || v.checkin_at;
      if (when) $("f-from").value = $("f-to").value = localDate(new Date(when));
      selectTab("day", true);
    });
    go.append(b);
    tr.append(go);
    return tr;
  }));
  if (!page.items.length) {
    const tr = document.createElement("tr");
    const td = cell(t(f.reviewed === "false" ? "noToReview" : "noSuspicious"));
    td.colSpan = 8;
    tr.append(td);
    body.append(tr);
  }
  const list = $("open-conflicts");
  list.replaceChildren(...open.conflicts.map((c) => {
    const li = document.createElement("li");
    li.dataset.conflictId = c.id;
    li.dataset.kind = c.kind;
    li.append(`${conflictRecord(c)} \u00b7 ${conflictText(c)} `);
    const b = document.createElement("button");
    b.type = "button";
    b.className = "ghost small";
    b.textContent = t("historyTitle");
    b.addEventListener("click", () => openHistory(c.table, c.row_id, b));
    li.append(b);
    return li;
  }));
  if (!open.conflicts.length) {
    const li = document.createElement("li");
    li.textContent = t("noConflicts");
    list.append(li);
  }
}

function conflictRecord(c) {
  if (c.visit) return `${c.visit.rep_name || ""} \u00b7 ${c.visit.account || ""} \u00b7 ${fmtDateTime(c.visit.planned_start)}`;
  const r = c.record;
  const name = r && r.label ? `\u201c${r.label}\u201d` : t("record", { id: c.row_id.slice(0, 8) });
  const kind = c.table === "visits" ? "" : `${t(`tbl_${c.table}`)} `;
  return `${kind}${name}${r && r.deleted ? ` (${t("deletedNow")})` : ""}`;
}

// One conflict as a sentence: the value kept and the value lost, or an edit that lost to a deletion.
function conflictText(c, withWho = false) {
  const by = (side) => (withWho ? ` (${who(side)})` : "");
  if (c.kind === "deleted") {
    return c.merged ? `${c.field}: ${t("editLostToDelete")}${by(c.loser)}`
                    : `${c.field}: ${t("lostToDelete")} \u201c${show(c.loser.value)}\u201d${by(c.loser)}`;
  }
  return `${c.field}: ${t("kept")} \u201c${show(c.winner.value)}\u201d${by(c.winner)}; ${t("lost")} \u201c${show(c.loser.value)}\u201d${by(c.loser)}`;
}

function openReview(v, opener) {
  const dialog = $("review-dialog");
  dialog.visit = v;
  dialog.returnFocusTo = opener;
  dialog.returnRow = opener.closest("tr");
  $("review-visit").textContent = [v.rep_name || v.rep_id, v.account ? v.account.name : "", fmtDateTime(v.checkin_at),
                                    (v.verdict_reasons || []).map(reasonText).join(", ")].filter(Boolean).join(" \u00b7 ");
  $("review-note").value = "";
  $("review-error").textContent = "";
  $("review-submit").disabled = false;
  dialog.showModal();
  $("review-note").focus();
}

async function onReviewSubmit(event) {
  event.preventDefault();
  const dialog = $("review-dialog");
  const v = dialog.visit;
  $("review-submit").disabled = true;
  try {
    await state.session.post(`/v1/dashboard/visits/${v.id}/review`, { note: $("review-note").value.trim() || null });
  } catch (err) {
    $("review-error").textContent = errorText(err);
    $("review-submit").disabled = false;
    return;
  }
  dialog.returnFocusTo = null;
  dialog.close();
  const next = dialog.returnRow && dialog.returnRow.nextElementSibling;
  await refreshPanel();
  // the marked row left the list: focus the next one's button, or the "show reviewed" switch
  const again = next && next.dataset.visitId && $("suspicious-body").querySelector(`[data-visit-id="${next.dataset.visitId}"] button.mark-reviewed`);
  (again || $("show-reviewed")).focus();
}

// An HLC is (unix ms << 16) | counter, as a decimal string: its wall-clock part dates the write.
const hlcTime = (hlc) => { try { return fmtDateTime(new Date(Number(BigInt(hlc) >> 16n)).toISOString()); } catch { return ""; } };
const who = (side) => `${t("byDevice", { site: side.by ? `${side.by}, ${side.site}` : side.site })}${side.hlc ? ", " + hlcTime(side.hlc) : ""}`;
const show = (value) => (value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));

async function openHistory(table, rowId, opener) {
  const dialog = $("history");
  $("history-record").textContent = t("record", { id: rowId });
  $("history-status").textContent = "";
  const render = async () => {
    const { conflicts } = await state.session.get(`/v1/dashboard/records/${table}/${rowId}/conflicts`);
    $("history-list").replaceChildren(...conflicts.map((c) => {
      const li = document.createElement("li");
      li.dataset.conflictId = c.id;
      li.dataset.kind = c.kind;
      li.append(`${conflictText(c, true)} `);
      if (c.restorable) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "restore";
        b.textContent = t(c.kind === "deleted" ? "restoreDeleted" : "restore");
        b.addEventListener("click", async () => {
          b.disabled = true;
          try {
            const done = await state.session.post(`/v1/dashboard/conflicts/${c.id}/restore`);
            const key = done.row_restored ? (c.merged ? "restoredRecord" : "restoredDeleted") : "restored";
            $("history-status").textContent = t(key, { field: done.field, value: show(done.value) });
            await render();
          } catch (err) {
            $("history-status").textContent = errorText(err);
            b.disabled = false;
          }
        });
        li.append(b);
      } else {
        const span = document.createElement("span");
        span.className = "muted";
        span.textContent = c.resolved ? t("resolved") : t("notRestorable");
        li.append(span);
      }
      return li;
    }));
  };
  await render();
  dialog.returnFocusTo = opener;
  dialog.showModal();
}

// --- summary ---------------------------------------------------------------------------------------------------------
async function loadSummary() {
  const { rep, start, end, account } = filters();
  const data = await state.session.get("/v1/dashboard/funnel", { rep, start, end, account });
  const row = (label, r, isTotal) => {
    const tr = document.createElement("tr");
    if (!isTotal) tr.dataset.repId = r.rep_id;
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    tr.append(th);
    const planned = r.visits || 0;
    for (const key of ["planned", "checked_in", "verified", "done"]) {
      const td = cell("");
      td.className = "num";
      const pct = planned ? Math.round((100 * r[key]) / planned) : 0;
      td.innerHTML = "";
      const bar = document.createElement("span");
      bar.className = "bar";
      bar.style.setProperty("--pct", `${pct}%`);
      td.append(r[key] === null ? t("notCheckedIn") : String(r[key]), bar);
      tr.append(td);
    }
    tr.append(cell(r.suspicious === null ? t("notCheckedIn") : String(r.suspicious), "num"), cell(fmtDwell(r.dwell_s), "num"),
              cell(isTotal ? "" : fmtDist(r.mean_distance_m), "num"));
    return tr;
  };
  $("funnel-body").replaceChildren(...data.reps.map((r) => row(r.rep_name || r.rep_id, r, false)));
  $("funnel-foot").replaceChildren(row(t("total"), data.totals, true));
}

// --- tabs and panels -------------------------------------------------------------------------------------------------
const TABS = ["log", "day", "review", "summary"];
const LOADERS = { log: loadLog, day: loadDay, review: loadReview, summary: loadSummary };

function selectTab(name, focus = false) {
  state.tab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const on = tab === name;
    button.setAttribute("aria-selected", String(on));
    button.tabIndex = on ? 0 : -1;
    $(`panel-${tab}`).hidden = !on;
    if (on && focus) button.focus();
  }
  return refreshPanel();
}

function refreshPanel() { return LOADERS[state.tab]().then(() => { $("app-error").textContent = ""; }).catch(report); }

function report(err) {
  console.error(err);
  $("app-error").textContent = errorText(err);
  if (err instanceof ApiError && (err.code === "FS-3001" || err.code === "FS-3005")) return signOut();
}

// --- sign-in ----------------------------------------------------------------------------------------------------------
async function enter(session) {
  state.session = session;
  session.onExpired = signOut;
  state.me = await session.get("/v1/dashboard/me");
  $("signin").hidden = true;
  $("enrol").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  $("whoami").textContent = t("signedInAs", { name: state.me.name });
  const select = $("f-rep");
  const first = select.options[0];
  select.replaceChildren(first, ...state.me.people.map((p) => new Option(p.name, p.id)));
  const params = readHash();
  $("rep-field").hidden = !state.me.team;
  if (!state.me.team) {
    select.value = state.me.user;
  } else if (params.get("rep")) {
    select.value = params.get("rep");
  }
  state.feed = new LiveFeed(session, {
    onVisits: queueVisits,
    onEvict: () => refreshPanel(),
    onState: (online) => { state.online = online; renderLive(); },
    onPurge: signOut,
  });
  await state.feed.start();
  await selectTab(params.get("tab") && TABS.includes(params.get("tab")) ? params.get("tab") : state.me.team ? "log" : "day");
  // Land keyboard users in the content, unless they already moved into the app while it loaded.
  if (!$("app").contains(document.activeElement)) $("main").focus();
}

function renderLive() {
  const live = $("live");
  live.hidden = !state.feed;
  live.textContent = state.online ? t("live") : t("offline");
  live.dataset.online = String(Boolean(state.online));
}

function signOut() {
  if (state.feed) state.feed.stop();
  if (state.session) state.session.signOut();
  state.feed = state.session = state.me = null;
  state.online = false;
  $("app").hidden = true;
  $("signout").hidden = true;
  $("live").hidden = true;
  $("whoami").textContent = "";
  $("app-error").textContent = "";
  $("signin").hidden = false;
  $("login").focus();
}

async function onSignIn(event) {
  event.preventDefault();
  const error = $("signin-error");
  error.textContent = "";
  const session = new Session();
  try {
    const answer = await session.signIn($("login").value.trim(), $("password").value, $("code").value.trim());
    $("password").value = "";
    $("code").value = "";
    if (answer.totp_enrolment_required) return startEnrolment(answer.enrol_token);
    await enter(session);
  } catch (err) {
    error.textContent = errorText(err);
  }
}

async function startEnrolment(token) {
  state.enrolToken = token;
  const headers = { Authorization: `Bearer ${token}` };
  const resp = await fetch("/v1/auth/totp/enroll", { method: "POST", headers });
  const data = await resp.json();
  if (!resp.ok) throw new ApiError(resp.status, data);
  $("enrol-qr").src = `data:image/png;base64,${data.qr_png}`;
  $("enrol-secret").textContent = data.secret;
  $("signin").hidden = true;
  $("enrol").hidden = false;
  $("enrol-done").hidden = true;
  $("enrol-form").hidden = false;
  $("enrol-code").focus();
}

async function onEnrolConfirm(event) {
  event.preventDefault();
  const resp = await fetch("/v1/auth/totp/confirm", {
    method: "POST", headers: { Authorization: `Bearer ${state.enrolToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({ code: $("enrol-code").value.trim() }),
  });
  const data = await resp.json();
  if (!resp.ok) { $("enrol-error").textContent = errorText(new ApiError(resp.status, data)); return; }
  $("recovery-codes").replaceChildren(...data.recovery_codes.map((c) => { const li = document.createElement("li"); li.textContent = c; return li; }));
  $("enrol-form").hidden = true;
  $("enrol-done").hidden = false;
  $("enrol-back").focus();
}

// --- wiring --------------------------------------------------------------------------------------------------------------
function init() {
  setLang(localStorage.getItem("fieldsync.lang") || (navigator.language.startsWith("zh") ? "zh" : "en"));
  $("lang").textContent = getLang() === "zh" ? "English" : "中文";
  $("lang").addEventListener("click", () => {
    const next = setLang(getLang() === "zh" ? "en" : "zh");
    localStorage.setItem("fieldsync.lang", next);
    $("lang").textContent = next === "zh" ? "English" : "中文";
    if (state.me) {
      $("whoami").textContent = t("signedInAs", { name: state.me.name });
      renderLive();
      refreshPanel();
    }
  });
  $("signin-form").addEventListener("submit", onSignIn);
  $("enrol-form").addEventListener("submit", (e) => onEnrolConfirm(e).catch((err) => { $("enrol-error").textContent = errorText(err); }));
  $("enrol-back").addEventListener("click", () => { $("enrol").hidden = true; $("signin").hidden = false; $("login").focus(); });
  $("signout").addEventListener("click", signOut);
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); state.offset = 0; refreshPanel(); });
  $("export").addEventListener("click", () => {
    const { rep, start, end, verdict, account } = filters();
    state.session.download("/v1/dashboard/visits.csv", { rep, start, end, verdict, account }, `visits-${$("f-from").value}.csv`).catch(report);
  });
  $("prev").addEventListener("click", () => { state.offset = Math.max(0, state.offset - state.limit); loadLog().catch(report); });
  $("next").addEventListener("click", () => { state.offset += state.limit; loadLog().catch(report); });
  for (const tab of TABS) $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
  document.querySelector(".tabs").addEventListener("keydown", (e) => {
    const i = TABS.indexOf(state.tab);
    if (e.key === "ArrowRight") selectTab(TABS[(i + 1) % TABS.length], true);
    else if (e.key === "ArrowLeft") selectTab(TABS[(i + TABS.length - 1) % TABS.length], true);
    else return;
    e.preventDefault();
  });
  $("show-reviewed").addEventListener("change", () => refreshPanel());
  $("review-form").addEventListener("submit", (e) => onReviewSubmit(e).catch(report));
  $("review-cancel").addEventListener("click", () => $("review-dialog").close());
  $("review-dialog").addEventListener("close", () => {
    const opener = $("review-dialog").returnFocusTo;
    if (opener && opener.isConnected) opener.focus();
  });
  $("history").addEventListener("close", async () => {
    const opener = $("history").returnFocusTo;
    const panel = $(`panel-${state.tab}`);
    const rowId = opener && opener.closest("[data-visit-id],[data-conflict-id]");
    const key = rowId ? (rowId.dataset.visitId ? `[data-visit-id="${rowId.dataset.visitId}"]` : null) : null;
    if (opener && opener.isConnected) opener.focus();
    await refreshPanel();
    // the panel was redrawn: put focus back on the same row's button, or on the active tab
    if (!document.activeElement || document.activeElement === document.body) {
      const again = key && panel.querySelector(`${key} button`);
      (again || $(`tab-${state.tab}`)).focus();
    }
  });
  const saved = Session.restore();
  if (saved) {
    saved.refresh().then(() => enter(saved)).catch(() => { saved.signOut(); $("login").focus(); });
  }
  document.body.dataset.ready = "true";
}

init();
