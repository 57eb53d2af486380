import { label, reasonLabel, translator } from "/common/i18n.js";

// The wallboard's words in the center's two languages (queue labels come from the
// snapshot, i.e. config.yaml).
export const WORDS = {
  zh: {
    skip: "跳到主要内容", title: "实时看板", link_on: "实时", link_off: "未连接",
    link_retry: "重新连接中…", logout: "退出登录", signin_title: "班长登录", username: "用户名",
    password: "密码", signin: "登录", not_staff: "需要班长或管理员账号",
    expired: "登录已过期，请重新登录", center: "全中心", waiting: "排队", longest: "最长等待",
    sl: "服务水平", sl_offered: "服务水平（含放弃）", target: "目标 {p}% / {s} 秒", asa: "平均应答",
    aht: "平均处理", offered: "呼入", answered: "接通", abandoned: "放弃", short_abandoned: "短放弃",
    callbacks: "回拨", callbacks_pending: "待回拨", tickets: "今日工单", occupancy: "占用率", ready: "就绪", on_call: "通话", wrap_up: "话后",
    not_ready: "示忙", reserved: "预占", chart_sl: "各队列服务水平", chart_waiting: "排队来电（近 10 分钟）",
    alerts: "告警", alerts_empty: "暂无告警。", agents: "座席", h_agent: "座席", h_state: "状态",
    h_time: "时长", h_handled: "已接", h_caller: "当前来电",
    st_logged_out: "未签入", st_available: "就绪", st_reserved: "预占", st_on_call: "通话中",
    st_wrap_up: "话后处理", st_not_ready: "示忙",
    a_service_level: "{queue} 服务水平 {sl}，低于目标 {target}%",
    a_long_wait: "{queue} 来电 {caller} 已等待 {wait}",
    "a_sla.breach": "工单 {number}「{subject}」超出 SLA（{clock}）",
    "a_sla.warning": "工单 {number}「{subject}」即将超出 SLA（{clock}）",
    "a_customer.read_volume": "座席 {agent} 在 {m} 分钟内查阅了 {n} 份客户档案，已限制继续查阅",
    "a_sms.failed": "发给 {number} 的短信发送失败（{n} 次）：{error}",
    clock_response: "响应", clock_resolution: "解决", escalated: "，已升级 {level} 级",
    seconds: "{n} 秒", minutes: "{m} 分 {s} 秒", none: "—", updated: "更新于 {time}",
  },
  en: {
    skip: "Skip to main content", title: "Wallboard", link_on: "Live", link_off: "Not connected",
    link_retry: "Reconnecting…", logout: "Sign out", signin_title: "Supervisor sign-in",
    username: "Username", password: "Password", signin: "Sign in",
    not_staff: "This page needs a supervisor or administrator account",
    expired: "Your session expired: sign in again", center: "Whole center", waiting: "Waiting",
    longest: "Longest wait", sl: "Service level", sl_offered: "SL incl. abandons",
    target: "target {p}% / {s} s", asa: "ASA", aht: "AHT", offered: "Offered", answered: "Answered",
    abandoned: "Abandoned", short_abandoned: "Short abandons", callbacks: "Callbacks",
    callbacks_pending: "Callbacks to make", tickets: "Tickets today",
    occupancy: "Occupancy", ready: "Ready", on_call: "On call", wrap_up: "Wrap-up",
    not_ready: "Not ready", reserved: "Reserved", chart_sl: "Service level by queue",
    chart_waiting: "Waiting calls (last 10 min)", alerts: "Alerts", alerts_empty: "No alerts.",
    agents: "Agents", h_agent: "Agent", h_state: "State", h_time: "Time", h_handled: "Handled",
    h_caller: "Caller", st_logged_out: "Signed out", st_available: "Ready",
    st_reserved: "Reserved", st_on_call: "On a call", st_wrap_up: "Wrap-up",
    st_not_ready: "Not ready",
    a_service_level: "{queue}: service level {sl}, under the {target}% target",
    a_long_wait: "{queue}: caller {caller} has waited {wait}",
    "a_sla.breach": "Ticket {number} “{subject}” breached its {clock} SLA",
    "a_sla.warning": "Ticket {number} “{subject}” is close to its {clock} SLA",
    "a_customer.read_volume": "Agent {agent} read {n} customer files in {m} minutes: further reads refused",
    "a_sms.failed": "Text message to {number} failed ({n} attempts): {error}",
    clock_response: "response", clock_resolution: "resolution", escalated: ", escalated to level {level}",
    seconds: "{n} s", minutes: "{m} min {s} s", none: "—", updated: "Updated {time}",
  },
};

export const { t, applyWords } = translator(WORDS);
export { label, reasonLabel };
