"""Demo knowledge-base articles (Chinese and English) and outage notices. Pure."""

from __future__ import annotations

import datetime as dt
import random

from devtools.seed.customers import Row
from devtools.seed.places import DISTRICTS

# (slug, category, tags, zh title, zh body, en title, en body)
ARTICLES: tuple[tuple[str, str, tuple[str, ...], str, str, str, str], ...] = (
    (
        "gas-leak",
        "safety",
        ("燃气泄漏", "紧急", "gas leak", "emergency"),
        "闻到燃气味怎么办",
        "1. 立即关闭燃气表前阀门。2. 打开门窗通风，不要开关任何电器，不要使用明火，"
        "不要在室内拨打电话。3. 迅速离开现场，到室外安全地点拨打燃气抢险热线。"
        "4. 等待抢修人员到达，未经确认安全前不要返回室内。坐席提示：燃气泄漏按最高优先级受理，"
        "立即生成紧急抢修工单并转抢修科。",
        "What to do if you smell gas",
        "1. Close the valve in front of the gas meter at once. 2. Open doors and windows; do "
        "not switch any electrical device on or off, no open flames, do not phone from inside. "
        "3. Leave and call the gas emergency line from a safe place outdoors. 4. Wait for the "
        "repair crew; do not go back in until they say it is safe. Agent note: a gas leak is "
        "accepted at the highest priority; create an urgent repair ticket for the repair crew.",
    ),
    (
        "gas-safety-home",
        "safety",
        ("安全用气", "燃气安全", "gas safety"),
        "家庭安全用气常识",
        "使用燃气时人不离火；用气完毕关闭灶前阀门，长时间外出关闭表前阀门。定期用肥皂水检查"
        "胶管和接口是否漏气，胶管应每18个月更换一次，不得穿墙使用。厨房保持通风，不得在安装"
        "燃气设施的房间睡人。建议安装燃气泄漏报警器。",
        "Gas safety at home",
        "Never leave a lit burner unattended; close the stove valve after use and the meter "
        "valve when away for long. Check hoses and joints with soapy water; replace rubber "
        "hoses every 18 months and never run them through walls. Keep the kitchen ventilated "
        "and install a gas alarm.",
    ),
    (
        "how-to-pay",
        "billing",
        ("缴费", "账单", "payment", "bill"),
        "如何缴纳燃气费、水费",
        "可通过以下方式缴费：1. 营业厅现金或银行卡缴费；2. 银行代扣（携带身份证和户号到营业厅"
        "或银行签约）；3. 手机银行、微信、支付宝“生活缴费”，输入10位户号；4. 拨打客服热线按1"
        "查询账单金额。缴费后一般在2小时内到账。",
        "How to pay your bill",
        "Pay at a business office (cash or bank card), by direct debit (sign up with your ID "
        "and 10-digit account number), or online through mobile banking, WeChat or Alipay "
        "utility payments. Call the hotline and press 1 to hear your balance. Payments "
        "usually arrive within two hours.",
    ),
    (
        "arrears-reconnection",
        "billing",
        ("欠费", "停气", "复通", "arrears", "reconnection"),
        "欠费停供与恢复供应",
        "账户欠费超过60天将发出催缴通知，仍未缴费的可能暂停供应。结清欠费及滞纳金后，"
        "系统自动生成复通工单，一般在24小时内恢复供应。大客户可联系客户经理办理分期。",
        "Arrears, suspension and reconnection",
        "Accounts more than 60 days overdue receive a reminder; supply may then be suspended. "
        "Once arrears and late fees are paid a reconnection ticket is created automatically "
        "and supply resumes within 24 hours. Key accounts may ask their account manager for "
        "an instalment plan.",
    ),
    (
        "new-connection",
        "business",
        ("报装", "开户", "新装", "new connection"),
        "新装燃气（报装）办理流程",
        "1. 申请：携带身份证、房产证或购房合同到营业厅或通过热线预约；2. 勘察：3个工作日内"
        "上门勘察；3. 缴费：确认安装方案后缴纳安装费；4. 施工：10个工作日内完成安装；"
        "5. 通气：验收合格后预约点火通气，并进行安全用气宣传。",
        "New connection procedure",
        "1. Apply at a business office or through the hotline with your ID and proof of "
        "ownership. 2. Site survey within three working days. 3. Pay the installation fee. "
        "4. Installation within ten working days. 5. Inspection, first ignition and a safety "
        "briefing.",
    ),
    (
        "transfer-ownership",
        "business",
        ("过户", "更名", "transfer"),
        "用户过户（更名）办理",
        "买卖或继承房屋后应办理过户：新旧户主身份证、房产证明，结清原户欠费，到营业厅办理，"
        "当场生效。",
        "Transferring an account to a new owner",
        "After buying or inheriting a home, bring both owners' IDs and proof of ownership to a "
        "business office, settle any arrears, and the transfer takes effect on the spot.",
    ),
    (
        "meter-fault",
        "repair",
        ("燃气表", "故障", "报修", "meter"),
        "燃气表故障报修",
        "燃气表不走字、显示异常、IC卡表无法读卡时，请记录表号和故障现象，通过热线按3报修。"
        "维修人员将在24小时内联系上门；更换表具免费（人为损坏除外）。",
        "Reporting a faulty meter",
        "If the meter stops, shows errors, or a prepaid card is not read, note the meter "
        "number and report it through the hotline (press 3). A technician calls within 24 "
        "hours; replacement is free unless the meter was damaged.",
    ),
    (
        "low-pressure",
        "repair",
        ("气压低", "火小", "low pressure"),
        "燃气火焰小、气压低怎么办",
        "先确认是否只有自家如此：如邻居正常，检查灶前阀门是否全开、胶管是否弯折；如整栋楼"
        "都低，可能是管网维护或冬季用气高峰，可查询停气公告或报修。",
        "Weak flame or low gas pressure",
        "Check whether neighbours are affected. If only you: open the stove valve fully and "
        "check the hose for kinks. If the whole building: it may be network maintenance or "
        "winter peak demand; check outage notices or report a fault.",
    ),
    (
        "complaint-process",
        "service",
        ("投诉", "建议", "complaint"),
        "投诉受理与处理时限",
        "投诉受理后生成工单转责任部门，一般投诉24小时内答复，紧急投诉8小时内答复；处理完毕后"
        "客服中心将回访客户，请对处理结果进行满意度评价。",
        "How complaints are handled",
        "A complaint becomes a ticket for the responsible department; we answer within 24 "
        "hours (8 hours when urgent). When it is resolved we call you back and ask you to "
        "rate the result.",
    ),
    (
        "water-outage",
        "service",
        ("停水", "计划停水", "water outage"),
        "计划停水、停气信息查询",
        "计划停水停气会提前24小时通过公告、短信和热线语音发布。拨打热线后系统会自动播报"
        "您所在区域的停供公告。",
        "Planned water and gas outages",
        "Planned outages are announced 24 hours ahead by notice, SMS and on the hotline, which "
        "plays the notices for your district automatically.",
    ),
)


def kb_articles(now: dt.datetime) -> list[Row]:
    """Every article in Chinese and English (same slug), ready for kb_articles."""
    rows: list[Row] = []
    for slug, category, tags, zh_title, zh_body, en_title, en_body in ARTICLES:
        zh_tags = [t for t in tags if not t.isascii()]
        en_tags = [t for t in tags if t.isascii()]
        for language, title, body, tag_list in (
            ("zh", zh_title, zh_body, zh_tags),
            ("en", en_title, en_body, en_tags),
        ):
            rows.append(
                {
                    "title": title,
                    "body": body,
                    "category": category,
                    "tags": tag_list,
                    "language": language,
                    "slug": slug,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return rows


def notices(seed: int, now: dt.datetime) -> list[Row]:
    """Outage and maintenance notices for a few districts, valid around `now`: two in
    force, one upcoming, one expired, and a city-wide announcement."""
    rng = random.Random(seed * 31 + 5)
    picked = rng.sample(DISTRICTS, 4)
    hour = dt.timedelta(hours=1)
    start = now.replace(minute=0, second=0, microsecond=0)
    roads = ("人民路", "建设路", "长江路", "学府路")
    specs = [
        # (district, kind, valid_from, valid_to, zh title, en title)
        (
            picked[0],
            "outage",
            start - 2 * hour,
            start + 6 * hour,
            "燃气管道抢修停气",
            "Gas outage for pipe repair",
        ),
        (
            picked[1],
            "outage",
            start - 1 * hour,
            start + 10 * hour,
            "供水管网维修停水",
            "Water outage for mains repair",
        ),
        (
            picked[2],
            "maintenance",
            start + 24 * hour,
            start + 32 * hour,
            "计划检修停气",
            "Planned maintenance gas outage",
        ),
        (
            picked[3],
            "outage",
            start - 72 * hour,
            start - 60 * hour,
            "临时停气（已恢复）",
            "Temporary outage (restored)",
        ),
    ]
    rows: list[Row] = []
    for (district, kind, valid_from, valid_to, title_zh, title_en), road in zip(
        specs, roads, strict=True
    ):
        local_from = valid_from + 8 * hour  # the bodies quote Beijing time
        local_to = valid_to + 8 * hour
        rows.append(
            {
                "district": district.zh,
                "kind": kind,
                "title_zh": f"{district.zh}{road}一带{title_zh}",
                "title_en": f"{title_en}: {district.en}",
                "body_zh": (
                    f"因{title_zh.removesuffix('（已恢复）')}，{district.zh}{road}一带将于"
                    f"{local_from:%m月%d日%H:%M}至{local_to:%m月%d日%H:%M}暂停供应，"
                    "请提前做好准备，恢复供应后请检查阀门。给您带来不便，敬请谅解。"
                ),
                "body_en": (
                    f"Supply around {road} in {district.en} is suspended from "
                    f"{local_from:%d %b %H:%M} to {local_to:%d %b %H:%M} (Beijing time). "
                    "Please check your valves when supply returns. "
                    "We apologise for the inconvenience."
                ),
                "valid_from": valid_from,
                "valid_to": valid_to,
                "created_at": now,
            }
        )
    rows.append(
        {
            "district": None,
            "kind": "announcement",
            "title_zh": "冬季安全用气提示",
            "title_en": "Winter gas safety reminder",
            "body_zh": "冬季用气高峰，请注意室内通风，发现燃气泄漏请立即拨打抢险热线。",
            "body_en": (
                "Winter is peak season: keep rooms ventilated and report any gas smell at once."
            ),
            "valid_from": start - 24 * 7 * hour,
            "valid_to": start + 24 * 60 * hour,
            "created_at": now,
        }
    )
    return rows
