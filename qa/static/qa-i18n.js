import { label, translator } from "/common/i18n.js";

// The quality-inspection page's words in the center's two languages (the scoring forms'
// criteria and fatal errors come from config.yaml, via GET /api/qa/forms, as {zh, en}).
// The evaluation's angles follow seed 003: 客户评价 (customers), 质检 (inspection),
// 主管评价 (the supervisor's view).
export const WORDS = {
  zh: {
    skip: "跳到主要内容", title: "质检", logout: "退出登录", signin_title: "登录",
    username: "用户名", password: "密码", signin: "登录", queue_title: "待检队列", week: "周",
    state: "状态", st_pending: "待检", st_done: "已检", st_all: "全部", refresh: "刷新",
    draw: "抽取本周样本", queue_empty: "队列为空：点击“抽取本周样本”。", h_agent: "座席",
    h_time: "来电时间", h_talk: "通话时长", h_queue: "队列", h_state: "状态", h_actions: "操作",
    open_call: "按通话编号评分", open: "打开", recording: "录音", form: "评分表",
    h_criterion: "评分项", h_weight: "权重", h_points: "得分", fatal: "致命错误（任一项总分为 0）",
    comment: "评语", total: "总分", submit: "提交评分", call_scores: "本通话的评分",
    agent_title: "座席评价", agent: "座席", rate_title: "主管评价", period: "期间（月或周）",
    rating: "评分（1–5）", rate: "保存主管评价", agent_scores: "质检记录",
    my_eval_title: "我的综合评价", my_scores_title: "我的质检评分", my_empty: "还没有质检评分。",
    h_inspector: "质检员", h_details: "评分明细", score: "评分", scoring_title: "通话 {id} 评分",
    call_agent: "座席", call_time: "来电时间", call_queue: "队列", no_recording: "此通话没有可播放的录音。",
    loading_audio: "正在载入录音…", audio_ready: "录音可播放（{s} 秒）", audio_failed: "录音无法播放：{m}",
    drawn: "已抽取 {n} 通（每名座席 {k} 通，{w}）", scored: "已提交：总分 {t}",
    rated: "已保存主管评价", not_allowed: "此页面需要座席、质检员、班长或管理员账号",
    expired: "登录已过期，请重新登录", seconds: "{n} 秒",
    a_survey: "客户评价", a_qa: "质检评分", a_supervisor: "主管评价", a_overall: "综合评分",
    a_count: "{n} 条", a_none: "暂无数据", superseded: "（已被更正）", fatal_hit: "致命错误：{f}",
    eval_window: "最近 {d} 天", choose_agent: "选择座席…", points_of: "{k} 得分",
  },
  en: {
    skip: "Skip to main content", title: "Quality inspection", logout: "Sign out",
    signin_title: "Sign in", username: "Username", password: "Password", signin: "Sign in",
    queue_title: "Inspection queue", week: "Week", state: "State", st_pending: "Pending",
    st_done: "Done", st_all: "All", refresh: "Refresh", draw: "Draw this week's samples",
    queue_empty: "The queue is empty: press “Draw this week's samples”.", h_agent: "Agent",
    h_time: "Call time", h_talk: "Talk time", h_queue: "Queue", h_state: "State",
    h_actions: "Actions", open_call: "Score a call by id", open: "Open", recording: "Recording",
    form: "Scoring form", h_criterion: "Criterion", h_weight: "Weight", h_points: "Points",
    fatal: "Fatal errors (any one makes the total 0)", comment: "Comment", total: "Total",
    submit: "Submit score", call_scores: "Scores of this call", agent_title: "Agent evaluation",
    agent: "Agent", rate_title: "Supervisor rating", period: "Period (month or week)",
    rating: "Rating (1–5)", rate: "Save rating", agent_scores: "Inspection scores",
    my_eval_title: "My evaluation", my_scores_title: "My quality scores",
    my_empty: "No quality score yet.", h_inspector: "Inspector", h_details: "Details",
    score: "Score", scoring_title: "Score call {id}", call_agent: "Agent", call_time: "Call time",
    call_queue: "Queue", no_recording: "This call has no recording to play.",
    loading_audio: "Loading the recording…", audio_ready: "Recording ready ({s} s)",
    audio_failed: "The recording cannot be played: {m}",
    drawn: "Drew {n} calls ({k} per agent, {w})", scored: "Submitted: total {t}",
    rated: "Supervisor rating saved",
    not_allowed: "This page needs an agent, QA, supervisor or admin account",
    expired: "Your session expired: sign in again", seconds: "{n} s",
    a_survey: "Customer surveys", a_qa: "QA scores", a_supervisor: "Supervisor ratings",
    a_overall: "Overall", a_count: "{n} rated", a_none: "No data yet",
    superseded: " (corrected)", fatal_hit: "Fatal: {f}", eval_window: "Last {d} days",
    choose_agent: "Choose an agent…", points_of: "{k} points",
  },
};

export const { t, applyWords } = translator(WORDS);
export { label };
