"""The AMI wire edge: bytes in, frames out, whatever the TCP reads look like."""

from __future__ import annotations

import pytest

from cti.ami.frames import (
    MAX_FRAME_BYTES,
    FrameParser,
    chan_variables,
    encode_action,
    multi,
)

GREETING = b"Asterisk Call Manager/11.0.0\r\n"
NEWCHANNEL = (
    "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: Local/95777@hotline-inbound-0001;1\r\n"
    "CallerIDNum: 13800138000\r\nCallerIDName: 张伟（燃气用户）\r\nUniqueid: 1700000000.1\r\n"
    "Linkedid: 1700000000.1\r\n\r\n"
).encode()


def test_given_greeting_and_events_in_one_read_then_all_parsed_in_order() -> None:
    p = FrameParser()
    data = GREETING + NEWCHANNEL + b"Event: Hangup\r\nUniqueid: 1700000000.1\r\nCause: 16\r\n\r\n"
    frames = p.feed(data)
    assert p.version == "11.0.0"
    assert [f["Event"] for f in frames] == ["Newchannel", "Hangup"]
    assert frames[0]["CallerIDName"] == "张伟（燃气用户）"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_given_chinese_name_split_at_every_byte_then_it_survives(size: int) -> None:
    p = FrameParser()
    data = GREETING + NEWCHANNEL * 3
    frames = []
    for i in range(0, len(data), size):
        frames += p.feed(data[i : i + size])
    assert [f["CallerIDName"] for f in frames] == ["张伟（燃气用户）"] * 3
    assert p.garbage == 0


def test_given_invalid_utf8_then_only_that_frame_gets_replacement_chars() -> None:
    p = FrameParser()
    bad = b"Event: Newchannel\r\nCallerIDName: \xff\xfe\xe5\xbc\r\nUniqueid: 9.1\r\n\r\n"
    frames = p.feed(GREETING + bad + NEWCHANNEL)
    assert "\ufffd" in frames[0]["CallerIDName"]
    assert frames[0]["Uniqueid"] == "9.1"
    assert frames[1]["CallerIDName"] == "张伟（燃气用户）"


def test_given_garbage_and_giant_frames_then_they_are_dropped_and_parsing_resumes() -> None:
    p = FrameParser()
    p.feed(GREETING)
    assert p.feed(b"no colon here\r\njust noise\r\n\r\n") == []
    giant = b"Event: VarSet\r\nValue: " + b"x" * (MAX_FRAME_BYTES + 10)
    assert p.feed(giant) == []
    frames = p.feed(b"\r\n\r\n" + NEWCHANNEL)
    assert [f["Event"] for f in frames] == ["Newchannel"]
    assert p.garbage >= 2


def test_given_wanted_events_then_others_skipped_but_action_replies_kept() -> None:
    p = FrameParser(wanted_events={"Newchannel"})
    data = (
        GREETING
        + b"Event: VarSet\r\nVariable: X\r\n\r\n"
        + b"Event: CoreShowChannel\r\nActionID: hl-3\r\nChannel: SIP/1\r\n\r\n"
        + NEWCHANNEL
        + b"Response: Success\r\nActionID: hl-4\r\nPing: Pong\r\n\r\n"
    )
    assert [f.get("Event", f.get("Response")) for f in p.feed(data)] == [
        "CoreShowChannel",
        "Newchannel",
        "Success",
    ]


def test_repeated_headers_are_kept() -> None:
    p = FrameParser()
    (f,) = p.feed(GREETING + b"Event: Newstate\r\nChanVariable: A=1\r\nChanVariable: B=x=y\r\n\r\n")
    assert multi(f, "ChanVariable") == ["A=1", "B=x=y"]
    assert chan_variables(f) == {"A": "1", "B": "x=y"}
    (g,) = p.feed(b"Event: Newstate\r\nChanVariable: ONLY=1\r\n\r\n")
    assert chan_variables(g) == {"ONLY": "1"}


def test_encode_action_refuses_header_injection() -> None:
    assert encode_action({"Action": "Ping", "ActionID": "1"}) == (
        b"Action: Ping\r\nActionID: 1\r\n\r\n"
    )
    with pytest.raises(ValueError, match="line break"):
        encode_action({"Action": "Originate", "CallerID": "x\r\nAction: Logoff"})
    assert "CallerID: 张伟 <1380>".encode() in encode_action({"CallerID": "张伟 <1380>"})
