"""TwiML built for one webhook step (ivr/twilio/twiml.py): Say in the call's language,
Gather per kind of question, Redirect on silence, the three ends."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from ivr.replay import Step
from ivr.script import (
    Ask,
    Date,
    Digits,
    IvrResult,
    Money,
    Number,
    Outcome,
    Prompt,
    Say,
    Text,
)
from ivr.twilio.twiml import Urls, agent_leg, spoken, step_response
from kernel.config import ConfigError, load_settings
from kernel.config.settings import Settings

URLS = Urls(step="https://h.example/twilio/ivr/step", queue_result="https://h.example/q")


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings("config.yaml", env={})


def doc(step: Step, settings: Settings, n: int = 3) -> ET.Element:
    return ET.fromstring(step_response(step, n, settings, URLS))


def result(outcome: Outcome, skill: str = "billing", priority: int = 30) -> IvrResult:
    return IvrResult(outcome, skill, priority, "zh", 1, "A", ("start", "main"), ())


def test_a_menu_question_takes_one_key_including_hash(settings: Settings) -> None:
    step = Step(
        said=[Say((Prompt("welcome"),), "zh")],
        ask=Ask((Prompt("invalid"), Prompt("main_menu")), 1, 5, language="en"),
    )
    root = doc(step, settings)
    assert [e.tag for e in root] == ["Say", "Gather", "Redirect"]
    assert root[0].attrib["language"] == "zh-CN"
    gather = root[1]
    assert gather.attrib == {
        "input": "dtmf",
        "numDigits": "1",
        "finishOnKey": "",
        "timeout": "5",
        "action": "https://h.example/twilio/ivr/step?n=3",
        "method": "POST",
    }
    say = gather.find("Say")
    assert say is not None
    assert say.attrib["language"] == "en-US"
    assert say.text is not None
    assert say.text.startswith("Sorry, that is not a valid choice. For your balance press 1.")
    assert root[2].text == "https://h.example/twilio/ivr/step?n=3&silence=1"


def test_an_account_number_ends_with_hash(settings: Settings) -> None:
    root = doc(Step(ask=Ask((Prompt("enter_account"),), 12, 7.5, "#")), settings, n=5)
    gather = root.find("Gather")
    assert gather is not None
    assert (gather.attrib["numDigits"], gather.attrib["finishOnKey"]) == ("12", "#")
    assert gather.attrib["timeout"] == "8"


def test_ends(settings: Settings) -> None:
    queued = doc(Step(said=[Say((Prompt("transfer"),))], result=result(Outcome.QUEUE)), settings)
    assert [e.tag for e in queued] == ["Say", "Enqueue"]
    assert queued[1].text == "billing"
    assert queued[1].attrib["action"] == URLS.queue_result
    for outcome in (Outcome.SELF_SERVICE, Outcome.CALLBACK):
        assert [e.tag for e in doc(Step(result=result(outcome)), settings)] == ["Hangup"]


def test_taskrouter_workflow_carries_the_priority() -> None:
    s = load_settings("config.yaml", env={"HOTLINE_TWILIO__WORKFLOW_SID": "WW123"})
    root = doc(Step(result=result(Outcome.QUEUE, "emergency", 1000)), s)
    enqueue = root.find("Enqueue")
    assert enqueue is not None
    assert enqueue.attrib["workflowSid"] == "WW123"
    task = enqueue.find("Task")
    assert task is not None
    assert task.attrib["priority"] == "1000"
    assert '"queue": "emergency"' in (task.text or "")


def test_routed_by_hotline_a_caller_waits_in_its_own_queue_which_the_agent_leg_takes() -> None:
    s = load_settings(
        "config.yaml",
        env={"HOTLINE_TWILIO__AGENT_SIP_URI": "sip:{extension}@agents.example.sip.twilio.com"},
    )
    sid = "CA" + "7" * 32
    root = ET.fromstring(step_response(Step(result=result(Outcome.QUEUE)), 3, s, URLS, sid))
    enqueue = root.find("Enqueue")
    assert enqueue is not None
    assert (enqueue.text, enqueue.attrib["action"]) == (f"hotline-{sid}", URLS.queue_result)
    leg = ET.fromstring(agent_leg(sid))
    assert [(e.tag, e.text) for e in leg.iter() if e.tag != "Response"] == [
        ("Dial", None),
        ("Queue", f"hotline-{sid}"),
    ]


def test_agent_routing_and_a_taskrouter_workflow_exclude_each_other() -> None:
    env = {
        "HOTLINE_TWILIO__AGENT_SIP_URI": "sip:{extension}@agents.example.com",
        "HOTLINE_TWILIO__WORKFLOW_SID": "WW123",
    }
    with pytest.raises(ConfigError, match="exclude each other"):
        load_settings("config.yaml", env=env)
    with pytest.raises(ConfigError, match="must contain"):
        load_settings("config.yaml", env={"HOTLINE_TWILIO__AGENT_SIP_URI": "sip:1001@x"})


def test_spoken_values(settings: Settings) -> None:
    prompts = settings.ivr.prompts
    assert spoken(Money(Decimal("-312.4")), "zh", prompts) == "-312.40"
    assert spoken(Digits("2026"), "en", prompts) == "2 0 2 6"
    assert spoken(Number(42), "zh", prompts) == "42"
    assert spoken(Date(dt.date(2026, 10, 8)), "zh", prompts) == "2026年10月8日"
    assert spoken(Date(dt.date(2026, 10, 8)), "en", prompts) == "October 8, 2026"
    assert spoken(Text("停气通知"), "zh", prompts) == "停气通知"
    assert spoken(Prompt("yuan"), "en", prompts) == "yuan"
