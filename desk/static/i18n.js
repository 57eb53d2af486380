// The desktop's words in the center's two languages. Labels that come from config.yaml
// (skills, tiers, ticket categories, wrap-up codes) arrive from /api/desk/config instead.
export const WORDS = {
  zh: {
    skip: "跳到主要内容", link_on: "已连接", link_off: "未连接", link_retry: "重新连接中…",
    logout: "退出登录", signin_title: "座席登录", username: "用户名", password: "密码",
    signin: "登录", state_title: "座席状态", phone_in: "签入话机", ready: "就绪",
    reason: "示忙原因", not_ready: "示忙", phone_out: "签出话机", wrap_code: "话后小结",
    wrap_done: "完成话后处理",
    shortcuts: "快捷键：Alt+I 签入，Alt+R 就绪，Alt+N 示忙，Alt+W 完成话后处理，Alt+T 建工单，Alt+K 知识库",
    pop_title: "来电信息", pop_empty: "暂无来电。就绪后，来电客户资料会在话机振铃前显示在这里。",
    self_service: "自助服务", open_tickets: "未结工单", recent_calls: "近期来电",
    ticket_title: "从来电建工单", category: "类别", priority: "优先级", p_low: "低",
    p_normal: "普通", p_high: "高", p_urgent: "紧急", subject: "标题", description: "描述",
    contact: "联系电话", create_ticket: "创建工单", kb_title: "知识库", kb_search: "搜索知识库",
    kb_placeholder: "如：燃气泄漏", kb_suggested: "为此来电推荐", search: "搜索", cust_title: "客户与来电记录",
    cust_search: "搜索客户", cust_placeholder: "电话、户号或姓名", history: "来电记录",
    h_time: "时间", h_skill: "业务", h_result: "结果", h_wrap: "小结",
    unknown_caller: "未知来电", caller: "来电号码", account: "户号", address: "地址",
    district: "区域", tier: "客户等级", balance: "余额", arrears: "欠费", meter: "表号",
    phones: "电话", waited: "已等待 {s} 秒", none: "无", partial: "客户资料加载超时，请手动搜索",
    st_logged_out: "未签入", st_available: "就绪", st_reserved: "预占", st_on_call: "通话中",
    st_wrap_up: "话后处理", st_not_ready: "示忙",
    call_ringing: "振铃中", call_answered: "通话中", call_ended: "已挂断", call_no_answer: "未接",
    r_break: "小休", r_lunch: "用餐", r_training: "培训", r_meeting: "会议",
    r_after_call_work: "事后处理", r_no_answer: "未接来电",
    ticket_created: "已创建工单 {n}", ticket_linked: "已关联到未结工单 {n}",
    candidates: "此号码对应多位客户：", search_hint: "可搜索客户查看资料",
    no_results: "没有找到", expired: "登录已过期，请重新登录",
    d_in_progress: "进行中", d_answered: "已接听", d_abandoned_ivr: "自助中挂机",
    d_abandoned_queue: "排队中挂机", d_self_service: "自助完成", d_callback_requested: "请求回电",
    d_overflowed: "溢出", d_failed: "失败", d_ended_unobserved: "结束情况未知",
  },
  en: {
    skip: "Skip to main content", link_on: "Connected", link_off: "Not connected",
    link_retry: "Reconnecting…", logout: "Sign out", signin_title: "Agent sign-in",
    username: "Username", password: "Password", signin: "Sign in", state_title: "My state",
    phone_in: "Sign in to phone", ready: "Ready", reason: "Reason", not_ready: "Not ready",
    phone_out: "Sign out of phone", wrap_code: "Wrap-up code", wrap_done: "Wrap-up done",
    shortcuts: "Keys: Alt+I phone in, Alt+R ready, Alt+N not ready, Alt+W wrap-up done, Alt+T ticket, Alt+K knowledge base",
    pop_title: "Caller", pop_empty: "No call. Once you are ready, the caller's file shows here before your phone rings.",
    self_service: "Self-service", open_tickets: "Open tickets", recent_calls: "Recent calls",
    ticket_title: "Ticket from this call", category: "Category", priority: "Priority",
    p_low: "Low", p_normal: "Normal", p_high: "High", p_urgent: "Urgent", subject: "Subject",
    description: "Description", contact: "Contact number", create_ticket: "Create ticket",
    kb_title: "Knowledge base", kb_search: "Search the knowledge base",
    kb_placeholder: "e.g. gas leak", kb_suggested: "Suggested for this call", search: "Search", cust_title: "Customers and call history",
    cust_search: "Search customers", cust_placeholder: "Phone, account or name",
    history: "Call history", h_time: "Time", h_skill: "Line", h_result: "Result", h_wrap: "Wrap-up",
    unknown_caller: "Unknown caller", caller: "Number", account: "Account", address: "Address",
    district: "District", tier: "Tier", balance: "Balance", arrears: "Arrears", meter: "Meter",
    phones: "Phones", waited: "waited {s} s", none: "none", partial: "The file did not load in time: search the customer",
    st_logged_out: "Signed out", st_available: "Ready", st_reserved: "Reserved",
    st_on_call: "On a call", st_wrap_up: "Wrap-up", st_not_ready: "Not ready",
    call_ringing: "Ringing", call_answered: "On the call", call_ended: "Ended",
    call_no_answer: "Not answered",
    r_break: "Break", r_lunch: "Lunch", r_training: "Training", r_meeting: "Meeting",
    r_after_call_work: "After-call work", r_no_answer: "Missed call",
    ticket_created: "Ticket {n} created", ticket_linked: "Linked to open ticket {n}",
    candidates: "Several customers share this number:", search_hint: "Search to open a file",
    no_results: "Nothing found", expired: "Your session expired: sign in again",
    d_in_progress: "in progress", d_answered: "answered", d_abandoned_ivr: "hung up in IVR",
    d_abandoned_queue: "hung up waiting", d_self_service: "self-service",
    d_callback_requested: "callback requested", d_overflowed: "overflowed", d_failed: "failed",
    d_ended_unobserved: "ended while unobserved",
  },
};

export function t(lang, key, vars = {}) {
  const text = (WORDS[lang] && WORDS[lang][key]) || WORDS.en[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
}

export function label(lang, pair, fallback = "") {
  // A {zh, en} label from config.yaml.
  if (!pair) return fallback;
  return pair[lang] || pair.en || pair.zh || fallback;
}

export function applyWords(lang, root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(lang, el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(lang, el.dataset.i18nPlaceholder);
  }
}
