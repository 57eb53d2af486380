"""bench/capacity.py's additions to its own sandbox instance's configuration (nothing
else is touched): the load generator's SIP endpoint, the SIPp agents' endpoints, and the
plain dialplan that does the same menu as Hotline's IVR with Read()/Playback() and a
Queue() whose static members are the same SIPp agents: the ceiling Asterisk alone sets.

The menu, both sides (prompts are Asterisk's stock `beep`: Hotline's IVR plays it for a
prompt that was never rendered, and the plain dialplan plays the same file): welcome;
main menu, 1 = balance (the balance said as a number), then 1 = an agent (billing);
a short "transferring you"; the holding queue; an agent.
"""

from __future__ import annotations

from bench.sandbox_pbx import static_queue

HOTLINE_NUMBER = "95777"  # center.hotline_numbers[0]: [hotline-inbound] -> Hotline's IVR
PLAIN_NUMBER = "95000"  # [bench-plain]: the same menu in plain dialplan
CALLER_ENDPOINT = "bench-callers"
PLAIN_QUEUE = "bench-plain"


def pjsip(agents: list[str], password: str) -> str:
    """The callers' endpoint (identified by a header SIPp sends, since the agents' phones
    come from 127.0.0.1 too) and one agent endpoint per SIPp agent, from pjsip.conf's own
    agent templates."""
    out = [
        "",
        "; bench/capacity.py only: the load generator's callers.",
        f"[{CALLER_ENDPOINT}]",
        "type = endpoint",
        "context = bench-entry",
        "disallow = all",
        "allow = alaw,ulaw",
        "direct_media = no",
        "rtp_symmetric = yes",
        "dtmf_mode = rfc4733",
        "language = en",
        f"[{CALLER_ENDPOINT}-identify]",
        "type = identify",
        f"endpoint = {CALLER_ENDPOINT}",
        "match_header = X-Bench-Caller: yes",
        "",
        "; bench/capacity.py only: its SIPp agents.",
    ]
    for ext in agents:
        out += [
            f"[{ext}](agent-endpoint)",
            f"auth = {ext}",
            f"aors = {ext}",
            f'callerid = "Agent {ext}" <{ext}>',
            f"[{ext}](agent-auth)",
            f"username = {ext}",
            f"password = {password}",
            f"[{ext}](agent-aor)",
            "qualify_frequency = 0",
        ]
    return "\n".join(out) + "\n"


def queues(agents: list[str]) -> str:
    return static_queue(
        PLAIN_QUEUE,
        "bench/capacity.py only: the plain dialplan's queue, the SIPp agents as static members.",
        "rrmemory",
        [(f"PJSIP/{ext}", f"Agent {ext}") for ext in agents],
    )


EXTENSIONS = f"""
[bench-entry]
; bench/capacity.py only: where the load generator's calls start.
exten => {PLAIN_NUMBER},1,Goto(bench-plain,s,1)
include => hotline-inbound

[bench-plain]
; The same menu as Hotline's IVR (config.yaml ivr: welcome, main menu 1 = balance, then
; 1 = an agent, a transfer prompt), in plain dialplan, then app_queue.
exten => s,1,Answer()
 same => n,Set(TRIES=0)
 same => n,Playback(beep)
 same => n(main),Read(KEY,beep,1,,1,5)
 same => n,Set(TRIES=$[${{TRIES}} + 1])
 same => n,GotoIf($["${{KEY}}" = "1"]?balance)
 same => n,GotoIf($[${{TRIES}} < 3]?main:bye)
 same => n(balance),Playback(beep)
 same => n,SayNumber(25)
 same => n,Playback(beep)
 same => n,Set(TRIES=0)
 same => n(after),Read(KEY,beep,1,,1,5)
 same => n,Set(TRIES=$[${{TRIES}} + 1])
 same => n,GotoIf($["${{KEY}}" = "1"]?agent)
 same => n,GotoIf($[${{TRIES}} < 3]?after:bye)
 same => n(agent),Playback(beep)
 same => n,Queue({PLAIN_QUEUE},,,,600)
 same => n(bye),Hangup()
"""
