"""Render deploy/asterisk/ for one Asterisk: a pure function of settings + instance params.

The files in deploy/asterisk/ are real, commented Asterisk configuration. The parts that
depend on config.yaml or on the instance (ports, secret, directories, queues, numbers)
sit between marker lines::

    ; >>> hotline:NAME
    ...generated...
    ; <<< hotline:NAME

`render_config` replaces each marked block with the output of the generator of the same
NAME below, keeping the markers, so rendering is repeatable. The committed files are the
rendering for the repository's config.yaml and `RenderParams()` defaults (a unit test
keeps them in sync). Context names and the holding-queue prefix follow
`settings.pbx.dialplan` (kernel/config/pbx.py DialplanContract).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from kernel.config import Settings
from kernel.config.pbx import INTERNODE_ENDPOINT_PREFIX, DialplanContract, browser_endpoint

DEPLOY_DIR = Path(__file__).resolve().parents[1] / "deploy" / "asterisk"
TEST_CONTEXTS_FILE = "extensions_test.conf"
_BEGIN = re.compile(r"^; >>> hotline:([a-z0-9-]+)\s*$")
# The names the templates are written with; renamed to settings.pbx.dialplan on render.
_TEMPLATE_CONTRACT = DialplanContract()


class RenderError(ValueError):
    """The templates or the parameters cannot produce a valid configuration."""


@dataclass(frozen=True)
class Directories:
    """asterisk.conf [directories], as Asterisk sees them (inside its chroot, if any)."""

    etc: str = "/etc/asterisk"
    varlib: str = "/var/lib/asterisk"
    spool: str = "/var/spool/asterisk"
    run: str = "/var/run/asterisk"
    log: str = "/var/log/asterisk"
    agi: str = "/usr/share/asterisk/agi-bin"

    @classmethod
    def under(cls, base: str) -> Directories:
        """One private directory tree per sandbox instance."""
        return cls(
            etc=f"{base}/etc",
            varlib=f"{base}/lib",
            spool=f"{base}/spool",
            run=f"{base}/run",
            log=f"{base}/log",
            agi=f"{base}/agi-bin",
        )


@dataclass(frozen=True)
class RenderParams:
    """Everything about one Asterisk that config.yaml does not say."""

    ami_bind: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "hotline"
    ami_secret: str = "change-me"
    ami_permit: tuple[str, ...] = ("127.0.0.1/255.255.255.255",)
    sip_bind: str = "127.0.0.1"
    sip_port: int = 5060
    sip_password: str = "change-me"
    # Asterisk's HTTP server (http.conf): SIP over WebSocket for the browser softphone.
    http_bind: str = "127.0.0.1"
    http_port: int = 8088
    agent_extensions: tuple[str, ...] = tuple(str(n) for n in range(1001, 1021))
    fastagi_host: str = "127.0.0.1"
    fastagi_port: int = 4573
    agent_endpoint: str = "PJSIP/{extension}"
    directories: Directories = field(default_factory=Directories)
    run_as: str | None = "asterisk"
    sounds_dir: str = "/var/lib/asterisk/sounds/hotline"
    monitor_dir: str = "/var/spool/asterisk/monitor"
    outbound_prefix: str = "PJSIP/"
    outbound_suffix: str = "@trunk"
    overflow_wait_seconds: int = 60
    include_test_contexts: bool = False
    # Several Asterisk nodes (pbx.nodes): this node's name (asterisk.conf systemname) and
    # the other nodes' SIP addresses (name, host, port) for the inter-node trunk.
    node: str = ""
    peers: tuple[tuple[str, str, int], ...] = ()
    trunk_secret: str = "change-me"


# app_queue's sound options (queues.conf) -> the hold prompt (ivr/prompts.py HOLD_PROMPTS)
# played instead of Asterisk's stock English file, in the caller's language.
# "queue-thereare" <position> "queue-callswaiting" is one sentence; SayNumber speaks the
# position and extensions.conf the estimated minutes in the channel's language (zh: the
# number words of ivr/prompts.py ZH_SAY_FILES).
QUEUE_SOUNDS: dict[str, str] = {
    "queue-youarenext": "hold_next",
    "queue-thereare": "hold_position",
    "queue-callswaiting": "hold_position_end",
    "queue-holdtime": "hold_estimate",
    "queue-minute": "hold_minute",
    "queue-minutes": "hold_minutes",
    "queue-seconds": "hold_seconds",
    "queue-thankyou": "hold_thanks",
}


def params_from_settings(settings: Settings, **overrides: object) -> RenderParams:
    """Defaults taken from config.yaml (AMI port/user, FastAGI address, agent endpoint)."""
    base = RenderParams(
        ami_port=settings.pbx.ami.port,
        ami_username=settings.pbx.ami.username,
        fastagi_host=settings.pbx.fastagi.advertised_host,
        fastagi_port=settings.pbx.fastagi.port,
        agent_endpoint=settings.pbx.dialplan.agent_endpoint,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def node_overrides(settings: Settings, name: str) -> dict[str, object]:
    """RenderParams of node `name` of pbx.nodes: its AMI and SIP ports, its systemname,
    its trunk to every other node."""
    nodes = {n.name: n for n in settings.pbx.node_list()}
    node = nodes[name]
    return {
        "node": name,
        "ami_port": node.ami.port,
        "sip_bind": node.sip.host,
        "sip_port": node.sip.port,
        "peers": tuple((n.name, n.sip.host, n.sip.port) for n in nodes.values() if n.name != name),
    }


def load_templates(directory: Path = DEPLOY_DIR) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.conf"))}


def render_config(
    settings: Settings, params: RenderParams, templates: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{file name: text} for an Asterisk etc directory."""
    _check_params(params)
    sources = dict(load_templates() if templates is None else templates)
    if not params.include_test_contexts:
        sources.pop(TEST_CONTEXTS_FILE, None)
    contract = settings.pbx.dialplan
    out: dict[str, str] = {}
    for name, text in sorted(sources.items()):
        rendered = _render_blocks(name, text, settings, params)
        out[name] = _rename_contract(rendered, contract)
    return out


def _render_blocks(filename: str, text: str, settings: Settings, params: RenderParams) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        match = _BEGIN.match(line)
        if not match:
            continue
        name = match.group(1)
        end = f"; <<< hotline:{name}"
        try:
            j = next(k for k in range(i, len(lines)) if lines[k].strip() == end)
        except StopIteration:
            raise RenderError(f"{filename}: block {name!r} has no end line {end!r}") from None
        generator = _BLOCKS.get(name)
        if generator is None:
            raise RenderError(f"{filename}: unknown generated block {name!r}")
        out.extend(generator(settings, params))
        out.append(lines[j])
        i = j + 1
    return "\n".join(out) + "\n"


def _rename_contract(text: str, contract: DialplanContract) -> str:
    """Apply config.yaml's context names / queue prefix to text written with the defaults."""
    pairs = [
        (_TEMPLATE_CONTRACT.inbound_context, contract.inbound_context),
        (_TEMPLATE_CONTRACT.connect_context, contract.connect_context),
        (_TEMPLATE_CONTRACT.callback_context, contract.callback_context),
        (_TEMPLATE_CONTRACT.spy_context, contract.spy_context),
        (_TEMPLATE_CONTRACT.followup_context, contract.followup_context),
    ]
    for old, new in pairs:
        if old != new:
            text = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", new, text)
    old_prefix = _TEMPLATE_CONTRACT.holding_queue_prefix
    if contract.holding_queue_prefix != old_prefix:
        text = re.sub(rf"(?<![\w-]){re.escape(old_prefix)}", contract.holding_queue_prefix, text)
    return text


def _check_params(params: RenderParams) -> None:
    # A ';' starts a comment in Asterisk config files and a newline ends the value.
    for label, value in (
        ("ami_secret", params.ami_secret),
        ("sip_password", params.sip_password),
        ("ami_username", params.ami_username),
        ("trunk_secret", params.trunk_secret),
    ):
        if not value or any(c in value for c in ";\r\n[]") or value != value.strip():
            raise RenderError(f"{label} must be non-empty without ';', '[', ']' or spaces")
    if "{extension}" not in params.agent_endpoint:
        raise RenderError(
            f"agent endpoint {params.agent_endpoint!r} must contain '{{extension}}', "
            "e.g. PJSIP/{extension}"
        )
    for ext in params.agent_extensions:
        if not ext.isdigit():
            raise RenderError(f"agent extension {ext!r} must be digits")


def _endpoint(params: RenderParams, exten: str = "${EXTEN}") -> str:
    return params.agent_endpoint.replace("{extension}", exten)


# --- Generated blocks (one generator per marker name) ------------------------------------


def _directories(_: Settings, p: RenderParams) -> Iterator[str]:
    d = p.directories
    yield f"astetcdir => {d.etc}"
    yield f"astvarlibdir => {d.varlib}"
    yield f"astdbdir => {d.varlib}"
    yield f"astspooldir => {d.spool}"
    yield f"astrundir => {d.run}"
    yield f"astlogdir => {d.log}"
    yield f"astagidir => {d.agi}"


def _run_as(_: Settings, p: RenderParams) -> Iterator[str]:
    if p.run_as is None:
        yield "; runs as the user that starts it"
    else:
        yield f"runuser = {p.run_as}"
        yield f"rungroup = {p.run_as}"


def _manager_bind(_: Settings, p: RenderParams) -> Iterator[str]:
    yield f"bindaddr = {p.ami_bind}"
    yield f"port = {p.ami_port}"


def _manager_user(_: Settings, p: RenderParams) -> Iterator[str]:
    yield f"[{p.ami_username}]"
    yield f"secret = {p.ami_secret}"


def _manager_permit(_: Settings, p: RenderParams) -> Iterator[str]:
    for net in p.ami_permit:
        yield f"permit = {net}"


def default_queue(settings: Settings) -> str:
    """Where callers go when the IVR cannot say: the operator skill's queue."""
    queue = settings.queue_for_skill(settings.ivr.operator_skill)
    if queue is not None:
        return queue.name
    names = [q.name for q in settings.queues]
    return "general" if "general" in names else names[0]


def _globals(s: Settings, p: RenderParams) -> Iterator[str]:
    yield "; FastAGI address of Hotline's IVR (pbx.fastagi.advertised_host and port)."
    yield f"HOTLINE_AGI = agi://{p.fastagi_host}:{p.fastagi_port}"
    yield "; Queue for callers the IVR could not serve (backend away or slow): ivr.operator_skill."
    yield f"HOTLINE_DEFAULT_QUEUE = {default_queue(s)}"
    yield (
        "; Seconds an agent's phone rings before the caller goes back to its queue "
        "(routing.offer_timeout_seconds)."
    )
    yield f"HOTLINE_OFFER_TIMEOUT = {s.routing.offer_timeout_seconds}"
    yield "; Longest wait per holding queue before hotline-fallback (queues[].max_wait_seconds)."
    for q in s.queues:
        yield f"HOTLINE_MAXWAIT_{q.name} = {q.max_wait_seconds}"
    yield "; Seconds in the static overflow queue before a callback is offered."
    yield f"HOTLINE_OVERFLOW_WAIT = {p.overflow_wait_seconds}"
    yield "; Hotline's rendered prompts and MixMonitor recordings, as Asterisk sees them."
    yield f"HOTLINE_SOUNDS_DIR = {p.sounds_dir}"
    yield f"HOTLINE_MONITOR_DIR = {p.monitor_dir}"
    yield "; Outbound calls (callbacks, follow-ups): Dial(<prefix><number><suffix>)."
    yield f"HOTLINE_OUTBOUND_PREFIX = {p.outbound_prefix}"
    yield f"HOTLINE_OUTBOUND_SUFFIX = {p.outbound_suffix}"


def _numbers(s: Settings, _: RenderParams) -> Iterator[str]:
    for number in s.center.hotline_numbers:
        yield f"exten => {number},1,Set(HOTLINE_DIALED=${{EXTEN}})"
        yield " same => n,Goto(hotline-ivr,s,1)"


def _connect_endpoint(_: Settings, p: RenderParams) -> Iterator[str]:
    yield f"exten => _X.,1,Set(HOTLINE_DIAL={_endpoint(p)})"


def _spy_target(_: Settings, p: RenderParams) -> Iterator[str]:
    # ChanSpy matches a channel-name prefix; channel names are "<endpoint>-<sequence>".
    yield (
        ' same => n,ExecIf($["${HOTLINE_SPY_TARGET}" = ""]'
        f"?Set(HOTLINE_SPY_TARGET={_endpoint(p)}-))"
    )


def _system_name(_: Settings, p: RenderParams) -> Iterator[str]:
    if p.node:
        yield f"systemname = {p.node}"


def _internode(_: Settings, p: RenderParams) -> Iterator[str]:
    own = f"{INTERNODE_ENDPOINT_PREFIX}{p.node}"
    for n, (name, host, port) in enumerate(p.peers):
        peer = f"{INTERNODE_ENDPOINT_PREFIX}{name}"
        if n:
            yield ""
        yield f"[{peer}](internode-endpoint)"
        yield f"aors = {peer}"
        yield f"auth = {peer}-in"
        yield f"outbound_auth = {peer}-out"
        yield f"from_user = {own}"  # how the peer identifies this node (by username)
        yield f"[{peer}]"
        yield "type = aor"
        yield f"contact = sip:{host}:{port}"
        yield f"[{peer}-in]"  # the peer proves it is the peer
        yield "type = auth"
        yield "auth_type = digest"
        yield f"username = {peer}"
        yield f"password = {p.trunk_secret}"
        yield f"[{peer}-out]"  # this node proves it is itself
        yield "type = auth"
        yield "auth_type = digest"
        yield f"username = {own}"
        yield f"password = {p.trunk_secret}"


def _internode_dial(_: Settings, p: RenderParams) -> Iterator[str]:
    yield f"exten => _X.,1,Dial({_endpoint(p)})"


def _agent_extensions(_: Settings, p: RenderParams) -> Iterator[str]:
    for ext in p.agent_extensions:
        yield f"exten => {ext},1,Dial(PJSIP/${{EXTEN}},30)"


def _sandbox_includes(_: Settings, p: RenderParams) -> Iterator[str]:
    if p.include_test_contexts:
        yield f'#include "{TEST_CONTEXTS_FILE}"'


def _sandbox_manager_users(_: Settings, p: RenderParams) -> Iterator[str]:
    # Sandbox only: a listen-only account that sees everything (VarSet, Newexten, ...), to
    # record realistic AMI traces for tests and benchmarks (scripts/record_ami_traces.py).
    if p.include_test_contexts:
        yield "[hotline-trace]"
        yield f"secret = {p.ami_secret}"
        yield "deny = 0.0.0.0/0.0.0.0"
        yield "permit = 127.0.0.1/255.255.255.255"
        yield "read = all"
        yield "write = system"


def _hold_sounds(_: Settings, p: RenderParams) -> Iterator[str]:
    # Language-free absolute names: Asterisk plays <sounds_dir>/<channel language>/<name>
    # (ivr/prompts.py HOLD_PROMPTS, rendered by `hotline prompts render`).

    sounds = p.sounds_dir.rstrip("/")
    for option, prompt in QUEUE_SOUNDS.items():
        yield f"{option} = {sounds}/{prompt}"


def _holding_queues(s: Settings, _: RenderParams) -> Iterator[str]:
    for n, q in enumerate(s.queues):
        if n:
            yield ""
        yield f"[hold-{q.name}](hold-template)"
        yield f"announce-position = {'yes' if q.announce_position else 'no'}"


def _transport(_: Settings, p: RenderParams) -> Iterator[str]:
    yield "[transport-udp]"
    yield "type = transport"
    yield "protocol = udp"
    yield f"bind = {p.sip_bind}:{p.sip_port}"


def _http_bind(_: Settings, p: RenderParams) -> Iterator[str]:
    yield f"bindaddr = {p.http_bind}"
    yield f"bindport = {p.http_port}"


def _agents(_: Settings, p: RenderParams) -> Iterator[str]:
    for n, ext in enumerate(p.agent_extensions):
        if n:
            yield ""
        # A desk phone (plain RTP) and the desk's browser phone (WebRTC), one identity.
        for name, template in ((ext, "agent"), (browser_endpoint(ext), "agent-web")):
            yield f"[{name}]({template}-endpoint)"
            yield f"auth = {name}"
            yield f"aors = {name}"
            yield f'callerid = "Agent {ext}" <{ext}>'
            yield f"[{name}](agent-auth)"
            yield f"username = {name}"
            yield f"password = {p.sip_password}"
            yield f"[{name}](agent-aor)"


_BLOCKS: dict[str, Callable[[Settings, RenderParams], Iterator[str]]] = {
    "directories": _directories,
    "run-as": _run_as,
    "manager-bind": _manager_bind,
    "manager-user": _manager_user,
    "manager-permit": _manager_permit,
    "globals": _globals,
    "numbers": _numbers,
    "connect-endpoint": _connect_endpoint,
    "spy-target": _spy_target,
    "agent-extensions": _agent_extensions,
    "sandbox-includes": _sandbox_includes,
    "sandbox-manager-users": _sandbox_manager_users,
    "hold-sounds": _hold_sounds,
    "holding-queues": _holding_queues,
    "transport": _transport,
    "http-bind": _http_bind,
    "agents": _agents,
    "system-name": _system_name,
    "internode": _internode,
    "internode-dial": _internode_dial,
}


def write_rendered(settings: Settings, out: Path, overrides: Mapping[str, object]) -> list[Path]:
    """`hotline pbx-config --out DIR`: the configuration for a user's own Asterisk."""
    params = params_from_settings(settings, **overrides)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render_config(settings, params).items():
        path = out / filename
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
