"""privacy/redact.py: a customer's numbers masked wherever the desk's payloads carry
them, and nothing else touched (ticket and account numbers stay)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel.config.backoffice import PrivacySettings
from privacy import logs
from privacy.redact import NumberPolicy, has_numbers, redact

FULL = "13912345678"


def pop() -> dict[str, Any]:
    return {
        "type": "pop",
        "caller": {"number": FULL, "name": "", "known": True},
        "customer": {
            "id": 7,
            "account_number": "1000000018",
            "phones": [{"number": FULL, "kind": "mobile", "is_primary": True}],
        },
        "candidates": [{"id": 8, "phones": ["02161234567"], "account_number": "1000000026"}],
        "open_tickets": [{"number": "GD20261122-000123", "subject": "燃气表漏气"}],
        "recent_calls": [
            {"direction": "in", "caller_number": FULL, "dialed_number": "95777"},
            {"direction": "out", "caller_number": FULL, "dialed_number": FULL},
        ],
        "ivr": {"facts": [{"key": "callback", "value": FULL, "text": {"zh": f"回电号码 {FULL}"}}]},
        "call": {"caller_number": FULL, "contact_number": FULL, "id_number": "110101199003071234"},
    }


def test_given_a_pop_then_no_full_number_is_left_and_other_numbers_stay() -> None:
    masked = redact(pop())
    text = json.dumps(masked, ensure_ascii=False)
    assert FULL not in text
    assert "02161234567" not in text
    assert "110101199003071234" not in text
    assert masked["caller"]["number"] == "139****5678"
    assert masked["customer"]["phones"][0]["number"] == "139****5678"
    assert masked["candidates"][0]["phones"] == ["021****4567"]
    assert masked["customer"]["account_number"] == "1000000018"
    assert masked["open_tickets"][0]["number"] == "GD20261122-000123"
    assert masked["recent_calls"][0]["dialed_number"] == "95777"  # the center's own number
    assert masked["ivr"]["facts"][0]["text"]["zh"] == "回电号码 139****5678"


def test_has_numbers_tells_whether_there_is_anything_to_mask() -> None:
    assert has_numbers(pop())
    assert not has_numbers({"open_tickets": [{"number": "GD20261122-000123"}]})


@pytest.mark.parametrize(
    ("roles", "mask", "role", "full"),
    [
        (["supervisor", "admin"], True, "agent", False),
        (["supervisor", "admin"], True, "qa", False),
        (["supervisor", "admin"], True, "supervisor", True),
        (["admin"], True, "supervisor", False),
        ([], False, "agent", True),  # masking off: everyone
    ],
)
def test_the_policy_by_role(roles: list[Any], mask: bool, role: str, full: bool) -> None:
    policy = NumberPolicy(PrivacySettings(full_number_roles=roles, mask_numbers=mask))
    assert policy.full_for(role) is full


def test_the_default_shows_full_numbers_to_supervisors_and_admins_only() -> None:
    policy = NumberPolicy(PrivacySettings())
    assert [r for r in ("agent", "supervisor", "qa", "admin") if policy.full_for(r)] == [
        "supervisor",
        "admin",
    ]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["caller_number", "phones", "caller", "number", "facts", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(JSON)
def test_redact_never_fails_and_is_idempotent(value: Any) -> None:
    once = redact(value)
    assert redact(once) == once


async def test_given_log_masking_running_then_a_record_carries_no_full_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    masking = logs.LogMasking(PrivacySettings())
    log = logging.getLogger("hotline.test.privacy")
    await masking.start()
    try:
        with caplog.at_level(logging.INFO, logger="hotline.test.privacy"):
            log.info("call from %s queued", FULL)
            log.info(f"callback to {FULL}")
    finally:
        await masking.stop()
    assert not logs.installed()
    assert [r.getMessage() for r in caplog.records] == [
        "call from 139****5678 queued",
        "callback to 139****5678",
    ]
    assert FULL not in caplog.text


async def test_given_mask_logs_off_then_records_are_left_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    masking = logs.LogMasking(PrivacySettings(mask_logs=False))
    await masking.start()
    with caplog.at_level(logging.INFO, logger="hotline.test.privacy"):
        logging.getLogger("hotline.test.privacy").info("call from %s", FULL)
    await masking.stop()
    assert FULL in caplog.text
