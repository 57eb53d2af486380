import { label, reasonLabel, translator } from "/common/i18n.js";

// The supervisor page's words in the center's two languages (skill labels come from
// the board, i.e. config.yaml).
export const WORDS = {
  zh: {
    skip: "跳到主要内容", title: "班长台", link_on: "已连接", link_off: "未连接",
    link_retry: "重新连接中…", logout: "退出登录", signin_title: "班长登录", username: "用户名",
    password: "密码", signin: "登录", agents_title: "座席", my_ext: "我的分机", reason: "示忙原因",
    h_agent: "座席", h_state: "状态", h_time: "时长", h_caller: "当前来电", h_skills: "技能",
    h_actions: "操作", h_call: "来电", h_queue: "队列", h_waited: "等待", h_priority: "优先级",
    spy_title: "监听会话", spy_empty: "没有进行中的监听。", calls_title: "排队来电",
    calls_empty: "没有排队的来电。", listen: "监听", whisper: "耳语", barge: "强插",
    hangup: "挂断", force_not_ready: "强制示忙", force_sign_out: "强制签出", edit_skills: "技能",
    set_priority: "设置", raise: "提前", skills_hint: "级别 1–10，0 为不具备此技能。下一次分配即生效。",
    languages: "语言", save: "保存", cancel: "取消", skills_of: "{name} 的技能",
    st_logged_out: "未签入", st_available: "就绪", st_reserved: "预占", st_on_call: "通话中",
    st_wrap_up: "话后处理", st_not_ready: "示忙",
    m_listen: "监听中", m_whisper: "耳语中", m_barge: "强插中", ringing: "振铃中（请接听话机）",
    done_spy: "正在呼叫您的分机 {ext}…", done_not_ready: "{name} 已示忙", done_sign_out: "{name} 已签出",
    done_skills: "{name} 的技能已更新", done_priority: "来电 {call} 的优先级为 {p}",
    done_mode: "已切换为{mode}", done_hangup: "监听已结束", not_staff: "需要班长或管理员账号",
    expired: "登录已过期，请重新登录", pending: "（通话后示忙：{r}）", seconds: "{n} 秒",
    minutes: "{m} 分 {s} 秒",
  },
  en: {
    skip: "Skip to main content", title: "Supervisor", link_on: "Connected",
    link_off: "Not connected", link_retry: "Reconnecting…", logout: "Sign out",
    signin_title: "Supervisor sign-in", username: "Username", password: "Password",
    signin: "Sign in", agents_title: "Agents", my_ext: "My extension", reason: "Reason",
    h_agent: "Agent", h_state: "State", h_time: "Time", h_caller: "Caller", h_skills: "Skills",
    h_actions: "Actions", h_call: "Caller", h_queue: "Queue", h_waited: "Waited", h_priority: "Priority",
    spy_title: "Listening", spy_empty: "No listening session.", calls_title: "Waiting calls",
    calls_empty: "No caller is waiting.", listen: "Listen", whisper: "Whisper", barge: "Barge",
    hangup: "Hang up", force_not_ready: "Not ready", force_sign_out: "Sign out",
    edit_skills: "Skills", set_priority: "Set", raise: "Raise",
    skills_hint: "Levels 1–10; 0 removes the skill. Used from the next decision.",
    languages: "Languages", save: "Save", cancel: "Cancel", skills_of: "Skills of {name}",
    st_logged_out: "Signed out", st_available: "Ready", st_reserved: "Reserved",
    st_on_call: "On a call", st_wrap_up: "Wrap-up", st_not_ready: "Not ready",
    m_listen: "listening", m_whisper: "whispering", m_barge: "barged in",
    ringing: "ringing (answer your phone)", done_spy: "Calling your extension {ext}…",
    done_not_ready: "{name} is not ready", done_sign_out: "{name} is signed out",
    done_skills: "Skills of {name} updated", done_priority: "Call {call} now has priority {p}",
    done_mode: "Now {mode}", done_hangup: "Listening ended",
    not_staff: "This page needs a supervisor or administrator account",
    expired: "Your session expired: sign in again", pending: " (not ready after the call: {r})",
    seconds: "{n} s", minutes: "{m} min {s} s",
  },
};

export const { t, applyWords } = translator(WORDS);
export { label, reasonLabel };
