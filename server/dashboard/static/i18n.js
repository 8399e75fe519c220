// Every UI string in English and Chinese. Static markup carries data-i18n="key"; code calls t(key, vars).

const STRINGS = {
  en: {
    skip: "Skip to content", title: "FieldSync visits", signOut: "Sign out", signIn: "Sign in", login: "User name",
    password: "Password", code: "One-time code (managers)", codeHelp: "The 6-digit code from your authenticator app, or a recovery code.",
    signInButton: "Sign in", enrolTitle: "Set up your second factor",
    enrolHelp: "Managers must sign in with a one-time code. Scan this code with an authenticator app, then enter the code it shows.",
    secret: "Secret", confirm: "Confirm", recoveryHelp: "Keep these recovery codes somewhere safe; each works once. Then sign in again with a code.",
    backToSignIn: "Back to sign in", tabLog: "Visit log", tabDay: "Day map", tabReview: "Review", tabSummary: "Summary",
    filters: "Filters", rep: "Rep", allReps: "All reps", from: "From", to: "To", verdict: "Verdict", anyVerdict: "Any",
    v_verified: "Verified", v_out_of_range: "Out of range", v_suspect: "Suspect", v_none: "Not checked in",
    suspicious: "Out of range or suspect", account: "Account", apply: "Apply", exportCsv: "Export CSV", logCaption: "Visits",
    planned: "Planned", checkIn: "Check-in", checkOut: "Check-out", dwell: "Dwell", distance: "Distance", outcome: "Outcome",
    notes: "Notes", conflicts: "Conflicts", prev: "Previous", next: "Next", dayTitle: "Planned route and check-ins",
    dayHelp: "Uses the rep and the \u201cFrom\u201d date of the filters.", legendPlanned: "planned stop (account)",
    legendActual: "actual check-in", legendPath: "actual path (check-in order)", showOnMap: "Show on map", suspiciousTitle: "Suspicious check-ins", reasons: "Reasons", conflictsTitle: "Open conflicts",
    funnelTitle: "Funnel and activity per rep", fPlanned: "Planned", fCheckedIn: "Checked in", fVerified: "Verified", fDone: "Done",
    suspiciousShort: "Suspicious", meanDistance: "Mean distance", historyTitle: "Conflict history", close: "Close",
    pageInfo: "{from}\u2013{to} of {total}", noVisits: "No visits match.", live: "Live", offline: "Reconnecting\u2026",
    signedInAs: "Signed in as {name}", historyButton: "History ({n})", restore: "Restore this value", restored: "Restored: {field} = {value}",
    kept: "kept", lost: "lost", byDevice: "by {site}", notRestorable: "cannot be restored", resolved: "restored",
    noConflicts: "No open conflicts.", noSuspicious: "No suspicious check-ins.", total: "Total", mapTitle: "Map of {name}'s day",
    mapEmpty: "No locations to draw for this day.", chooseRep: "Choose a rep in the filters to see their day.",
    stopLine: "{n}. {account} \u2014 planned {planned}; check-in {checkin}", minutes: "{n} min", metres: "{n} m",
    errLogin: "Wrong user name, password or code.", errLocked: "Too many attempts; try again later.",
    errTotp: "Enter the one-time code from your authenticator app.", errGeneric: "Something went wrong ({code}).",
    notCheckedIn: "\u2014", record: "Record {id}", field: "Field", status_planned: "planned", status_checked_in: "checked in",
    status_done: "done", status_skipped: "skipped",
    r_too_far: "too far from the account", r_poor_accuracy: "poor GPS accuracy", r_mock_location: "mock location",
    r_clock_skew: "phone clock off", r_impossible_travel: "impossible travel", r_short_dwell: "left too soon", r_no_photo: "no photo",
    showReviewed: "Show reviewed ones too", reviewColumn: "Review", markReviewed: "Mark reviewed", withdrawReview: "Withdraw mark", reviewTitle: "Mark the check-in reviewed",
    reviewNote: "Note (optional)", reviewHelp: "Other managers of this visit see who marked it, when, and the note. The rep does not.",
    cancel: "Cancel", reviewedBy: "Reviewed by {name}, {at}", reviewedBefore: "Reviewed by {name}, {at}, before the verdict changed",
    noToReview: "No suspicious check-ins left to review.", lostToDelete: "edit lost to a deletion:",
    editLostToDelete: "an edit lost to a deletion (it is kept in the record)", restoreDeleted: "Restore the record with this value",
    restoredDeleted: "Record restored: {field} = {value}", restoredRecord: "Record restored with the edit to {field}",
    deletedNow: "deleted", tbl_visits: "Visit", tbl_accounts: "Account", tbl_contacts: "Contact", tbl_leads: "Lead",
    tbl_opportunities: "Opportunity", tbl_tasks: "Task",
  },
  zh: {
    skip: "跳到正文", title: "FieldSync 拜访记录", signOut: "退出登录", signIn: "登录", login: "用户名", password: "密码",
    code: "动态验证码（经理必填）", codeHelp: "身份验证器中的 6 位验证码，或一个恢复码。", signInButton: "登录",
    enrolTitle: "设置双重验证", enrolHelp: "经理登录需要动态验证码。请用身份验证器扫描此二维码，然后输入显示的验证码。",
    secret: "密钥", confirm: "确认", recoveryHelp: "请妥善保存这些恢复码，每个只能用一次。然后用验证码重新登录。",
    backToSignIn: "返回登录", tabLog: "拜访日志", tabDay: "当日地图", tabReview: "待审核", tabSummary: "汇总",
    filters: "筛选", rep: "销售代表", allReps: "全部代表", from: "开始日期", to: "结束日期", verdict: "签到判定", anyVerdict: "全部",
    v_verified: "已核实", v_out_of_range: "超出范围", v_suspect: "可疑", v_none: "未签到", suspicious: "超出范围或可疑",
    account: "客户", apply: "应用", exportCsv: "导出 CSV", logCaption: "拜访", planned: "计划时间", checkIn: "签到",
    checkOut: "签退", dwell: "停留时长", distance: "距离", outcome: "结果", notes: "备注", conflicts: "冲突",
    prev: "上一页", next: "下一页", dayTitle: "计划路线与实际签到", dayHelp: "使用筛选中的销售代表和开始日期。",
    legendPlanned: "计划站点（客户位置）", legendActual: "实际签到", legendPath: "实际路径（按签到顺序）", showOnMap: "在地图上查看", suspiciousTitle: "可疑签到", reasons: "原因",
    conflictsTitle: "未处理的冲突", funnelTitle: "各代表的漏斗与活动", fPlanned: "计划", fCheckedIn: "已签到", fVerified: "已核实",
    fDone: "已完成", suspiciousShort: "可疑", meanDistance: "平均距离", historyTitle: "冲突历史", close: "关闭",
    pageInfo: "第 {from}\u2013{to} 条，共 {total} 条", noVisits: "没有符合条件的拜访。", live: "实时", offline: "正在重新连接\u2026",
    signedInAs: "当前用户：{name}", historyButton: "历史（{n}）", restore: "恢复此值", restored: "已恢复：{field} = {value}",
    kept: "保留", lost: "被覆盖", byDevice: "来自 {site}", notRestorable: "不可恢复", resolved: "已恢复",
    noConflicts: "没有未处理的冲突。", noSuspicious: "没有可疑签到。", total: "合计", mapTitle: "{name} 的当日地图",
    mapEmpty: "这一天没有可绘制的位置。", chooseRep: "请在筛选中选择一位销售代表查看其当日路线。",
    stopLine: "{n}. {account} \u2014 计划 {planned}；签到 {checkin}", minutes: "{n} 分钟", metres: "{n} 米",
    errLogin: "用户名、密码或验证码错误。", errLocked: "尝试次数过多，请稍后再试。", errTotp: "请输入身份验证器中的动态验证码。",
    errGeneric: "出现错误（{code}）。", notCheckedIn: "\u2014", record: "记录 {id}", field: "字段",
    status_planned: "已计划", status_checked_in: "已签到", status_done: "已完成", status_skipped: "已跳过",
    r_too_far: "距客户太远", r_poor_accuracy: "定位精度差", r_mock_location: "模拟定位", r_clock_skew: "手机时间不准",
    r_impossible_travel: "不可能的行程", r_short_dwell: "停留过短", r_no_photo: "缺少照片",
    showReviewed: "同时显示已审核的", reviewColumn: "审核", markReviewed: "标记为已审核", withdrawReview: "撤销审核", reviewTitle: "将签到标记为已审核",
    reviewNote: "备注（可选）", reviewHelp: "负责此拜访的其他经理可以看到审核人、时间和备注；销售代表看不到。",
    cancel: "取消", reviewedBy: "{name} 已于 {at} 审核", reviewedBefore: "{name} 曾于 {at} 审核，之后判定有变",
    noToReview: "没有待审核的可疑签到。", lostToDelete: "因记录被删除而未生效的修改：",
    editLostToDelete: "一处修改因记录被删除而未生效（仍保存在记录中）", restoreDeleted: "恢复记录并写回此值",
    restoredDeleted: "记录已恢复：{field} = {value}", restoredRecord: "记录已恢复，{field} 的修改随之恢复",
    deletedNow: "已删除", tbl_visits: "拜访", tbl_accounts: "客户", tbl_contacts: "联系人", tbl_leads: "线索",
    tbl_opportunities: "商机", tbl_tasks: "任务",
  },
};

export const LANGS = Object.keys(STRINGS);
let lang = "en";

export function setLang(next) {
  lang = STRINGS[next] ? next : "en";
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  return lang;
}

export function getLang() { return lang; }

export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? ""));
}

export function keys(which) { return Object.keys(STRINGS[which]); }
