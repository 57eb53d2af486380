"""What the caller did in self-service, as sentences an agent reads at a glance (zh/en).

Input: the call snapshot's ivr_path (node ids), ivr_outcome and ivr_facts ("k=v;k=v",
the IVR's UserEvent HotlineIvrResult `Facts`, see cti/events.py). Facts this module does
not know are still shown, as "key: value". Pure.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from kernel.config import Settings
from kernel.config.ivr_menu import TransferNode

Text = dict[str, str]

_FAULTS: dict[str, Text] = {
    "gas_leak": {"zh": "燃气泄漏", "en": "a gas leak"},
    "gas_smell": {"zh": "闻到燃气味", "en": "a smell of gas"},
    "no_gas": {"zh": "停气/无气", "en": "no gas supply"},
    "low_pressure": {"zh": "气压低", "en": "low gas pressure"},
    "no_water": {"zh": "停水", "en": "no water supply"},
    "pipe_burst": {"zh": "管道爆裂", "en": "a burst pipe"},
    "outage": {"zh": "停电", "en": "a power outage"},
    "meter": {"zh": "表具故障", "en": "a faulty meter"},
}
_OUTCOMES: dict[str, Text] = {
    "queue": {"zh": "转人工", "en": "asked for an agent"},
    "self_service": {"zh": "自助服务完成", "en": "served by self-service"},
    "callback": {"zh": "请求回电", "en": "asked for a callback"},
    "hangup": {"zh": "挂机", "en": "hung up"},
    "backend_away": {"zh": "自助系统不可用，直接转人工", "en": "self-service unavailable"},
}


# How the pop names a step by the kind of IVR node (config.yaml ivr.nodes).
_NODE_KINDS: dict[str, Text] = {
    "identify": {"zh": "身份识别", "en": "identification"},
    "balance": {"zh": "查询余额", "en": "balance"},
    "notices": {"zh": "停气/停水公告", "en": "outage notices"},
    "fault": {"zh": "故障报修", "en": "fault report"},
    "callback": {"zh": "预约回电", "en": "callback request"},
    "language": {"zh": "选择语言", "en": "language"},
    "operator": {"zh": "转人工", "en": "to an agent"},
}


def parse_facts(raw: str | None) -> list[tuple[str, str]]:
    out = []
    for part in (raw or "").split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out.append((key.strip(), value.strip()))
    return out


def _money(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def fact_text(key: str, value: str) -> Text:
    k = key.lower()
    if k in ("balance", "heard_balance"):
        amount = _money(value)
        if amount is not None:
            yuan = f"¥{abs(amount):.2f}"
            if amount < 0:
                return {"zh": f"已收听余额：欠费 {yuan}", "en": f"heard balance: {yuan} overdue"}
            return {"zh": f"已收听余额：{yuan}", "en": f"heard balance: {yuan} credit"}
    if k in ("arrears", "overdue"):
        amount = _money(value)
        if amount is not None:
            yuan = f"¥{amount:.2f}"
            return {"zh": f"已收听欠费：{yuan}", "en": f"heard arrears: {yuan} overdue"}
    if k in ("fault", "report", "emergency", "reported"):
        what = _FAULTS.get(value.lower(), {"zh": value, "en": value.replace("_", " ")})
        return {"zh": f"报告{what['zh']}", "en": f"reported {what['en']}"}
    if k in ("notices", "outage_notices"):
        return {"zh": f"已收听 {value} 条停气/停水通知", "en": f"heard {value} service notice(s)"}
    if k == "ticket":
        return {"zh": f"自助报修已建工单 {value}", "en": f"self-service ticket {value} created"}
    if k in ("identified", "identified_by"):
        return {"zh": f"已通过{value}识别客户", "en": f"identified by {value}"}
    if k == "callback":
        return {"zh": f"回电号码 {value}", "en": f"callback number {value}"}
    if k in ("payment", "last_payment"):
        return {"zh": f"已收听最近缴费：{value}", "en": f"heard last payment: {value}"}
    return {"zh": f"{key}：{value}", "en": f"{key}: {value}"}


def ivr_summary(settings: Settings, call: dict[str, Any]) -> dict[str, Any]:
    """{"path": [...], "steps": [{"node", "label"}], "outcome", "outcome_label", "facts":
    [{"key", "value", "text": {"zh", "en"}}]} for the pop card."""
    skills = {s.name: s.label for s in settings.skills}
    steps = []
    for node_id in call.get("ivr_path") or []:
        node = settings.ivr.nodes.get(str(node_id))
        label: Text = {"zh": str(node_id), "en": str(node_id).replace("_", " ")}
        if isinstance(node, TransferNode) and node.skill in skills:
            skill = skills[node.skill]
            label = {"zh": f"选择：{skill.zh}", "en": f"chose: {skill.en}"}
        elif node_id in ("main", settings.ivr.entry) and node is not None and node.type == "menu":
            label = {"zh": "主菜单", "en": "main menu"}
        elif node_id == "operator" or (node is not None and node.type in _NODE_KINDS):
            label = _NODE_KINDS[node.type if node is not None else "operator"]
        steps.append({"node": node_id, "label": label})
    outcome = call.get("ivr_outcome")
    pairs = parse_facts(call.get("ivr_facts"))
    facts = [{"key": k, "value": v, "text": fact_text(k, v)} for k, v in pairs]
    return {
        "path": list(call.get("ivr_path") or []),
        "steps": steps,
        "outcome": outcome,
        "outcome_label": _OUTCOMES.get(str(outcome)) if outcome else None,
        "facts": facts,
    }
