"""Where the PBX is and how Hotline talks to it."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from kernel.config.common import Strict


class AmiSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "hotline"
    # Only from the environment (HOTLINE_PBX__AMI__SECRET): the loader refuses it in the file.
    secret: SecretStr | None = None
    action_timeout_seconds: float = Field(5.0, gt=0)
    ping_interval_seconds: float = Field(5.0, gt=0)
    ping_timeout_seconds: float = Field(3.0, gt=0)
    reconnect_min_seconds: float = Field(0.5, gt=0)
    reconnect_max_seconds: float = Field(30.0, gt=0)


class FastAgiSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(4573, ge=1, le=65535)
    # The host Asterisk uses to reach us (dialplan: AGI(agi://<advertised>:<port>/ivr)).
    advertised_host: str = "127.0.0.1"
    # Several `pbx` processes on one machine serve the IVR on the same port (SO_REUSEPORT:
    # the kernel spreads Asterisk's connections over them, and a process that dies
    # leaves the others listening). Off by default: a second server on the port by
    # mistake should fail to start, not take half the calls.
    shared_port: bool = False
    # IVR worker processes behind this one port (ivr/workers.py): the Runtime starts
    # workers-1 children next to its own IVR server, all with SO_REUSEPORT. More than 1
    # needs redis.url (the workers' events must reach the other processes).
    workers: int = Field(1, ge=1, le=32)


class DialplanContract(Strict):
    """Names both Hotline and deploy/asterisk/extensions.conf must agree on."""

    inbound_context: str = "hotline-inbound"
    connect_context: str = "hotline-connect"
    callback_context: str = "hotline-callback"
    spy_context: str = "hotline-spy"
    followup_context: str = "hotline-followup"
    holding_queue_prefix: str = "hold-"
    # How an agent's phone is dialled; {extension} is the agent's extension.
    agent_endpoint: str = "PJSIP/{extension}"


class CelSettings(Strict):
    """Asterisk's own call history (CEL), read on every resync to recover the calls that
    began and ended while the bridge was away (cti/cel/, deploy/asterisk/cel.conf)."""

    # sqlite:////var/log/asterisk/hotline-cel.db (cel_sqlite3_custom, bridge on the
    # Asterisk machine) or postgresql://user@host/db (cel_pgsql). None: no CEL; calls the
    # bridge did not see end are still closed on resync, as ended_unobserved.
    # A password belongs in the environment: HOTLINE_PBX__CEL__URL.
    url: str | None = None
    table: str = Field("cel", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    timeout_seconds: float = Field(10.0, gt=0)


class WebrtcSettings(Strict):
    """The desk's browser softphone (desk/static/phone.js, JsSIP): where the browser
    reaches Asterisk's SIP over WebSocket (deploy/asterisk/http.conf, pjsip.conf
    transport-ws) and the password the agents' endpoints take (pjsip.conf, rendered with
    `hotline pbx-config --sip-password`). The desk gives both to the signed-in agent only
    (GET /api/phone/config)."""

    enabled: bool = True
    # ws:// only for a browser on the Asterisk machine (the sandbox); an https desk needs
    # wss:// (deploy/asterisk/http.conf).
    ws_url: str = Field("ws://127.0.0.1:8088/ws", pattern=r"^wss?://[^\s]+$")
    # The SIP domain of the browser phones' URIs (sip:<extension>-web@<domain>).
    sip_domain: str = Field("127.0.0.1", pattern=r"^[A-Za-z0-9.:\[\]-]+$")
    # Only from the environment (HOTLINE_PBX__WEBRTC__PASSWORD): the loader refuses it in
    # the file. The sandbox sets it to its agents' password (AsteriskInstance.settings_env).
    password: SecretStr | None = None


# Each agent has two PJSIP endpoints (pjsip.conf): <extension> for a desk phone or a
# softphone of its own (plain RTP over UDP), and <extension>-web for the desk's browser
# phone (WebRTC: DTLS-SRTP, ICE). Its channels are PJSIP/<extension>-web-<n>, so the
# agent's extension reads the same from both.
WEBRTC_ENDPOINT_SUFFIX = "-web"


def browser_endpoint(extension: str) -> str:
    """The browser phone's endpoint (and device) name of an agent's extension."""
    return f"{extension}{WEBRTC_ENDPOINT_SUFFIX}"


# The endpoint (pjsip.conf) through which one Asterisk reaches another: `PJSIP/<agent
# extension>@hotline-node-<name>` dials an agent registered on node <name>
# (deploy/asterisk/README.md "Several Asterisk nodes").
INTERNODE_ENDPOINT_PREFIX = "hotline-node-"
DEFAULT_NODE = "default"


class SipAddress(Strict):
    """Where a node takes SIP from the other nodes (its pjsip.conf transport)."""

    host: str = "127.0.0.1"
    port: int = Field(5060, ge=1, le=65535)


class PbxNode(Strict):
    """One Asterisk of the center. Every call record carries its node (calls.pbx_node);
    each node has its own AMI bridge, all feed one router."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]{0,19}$")
    ami: AmiSettings = AmiSettings()
    # The environment variable holding this node's AMI secret (never in the file);
    # unset: HOTLINE_PBX__AMI__SECRET, the secret of pbx.ami.
    secret_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    sip: SipAddress = SipAddress()
    # This node's CEL store (pbx.cel.url's meaning); None: no CEL recovery for it.
    cel_url: str | None = None
    # Extensions of agents whose phones register on this node ("1001", "1001-1010"):
    # where the router looks for an agent until the node reports the phone's state.
    agents: tuple[str, ...] = ()

    def serves(self, extension: str) -> bool:
        for item in self.agents:
            low, _, high = item.partition("-")
            if extension == low or (
                high
                and extension.isdigit()
                and low.isdigit()
                and high.isdigit()
                and len(extension) == len(low)
                and int(low) <= int(extension) <= int(high)
            ):
                return True
        return False


class PbxSettings(Strict):
    kind: str = Field("asterisk", pattern="^(asterisk|twilio)$")
    ami: AmiSettings = AmiSettings()
    fastagi: FastAgiSettings = FastAgiSettings()
    dialplan: DialplanContract = DialplanContract()
    cel: CelSettings = CelSettings()
    webrtc: WebrtcSettings = WebrtcSettings()
    # Several Asterisks (deploy/asterisk/README.md "Several Asterisk nodes"). Empty: one
    # node named "default" at pbx.ami, with pbx.cel.
    nodes: tuple[PbxNode, ...] = ()

    @model_validator(mode="after")
    def _distinct_nodes(self) -> PbxSettings:
        names = [n.name for n in self.nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"pbx.nodes: names must differ ({names})")
        links = [(n.ami.host, n.ami.port) for n in self.nodes]
        if len(set(links)) != len(links):
            raise ValueError("pbx.nodes: two nodes with one AMI address")
        return self

    def node_list(self) -> tuple[PbxNode, ...]:
        """The nodes, or the one implied by pbx.ami and pbx.cel."""
        if self.nodes:
            return self.nodes
        return (PbxNode(name=DEFAULT_NODE, ami=self.ami, cel_url=self.cel.url),)

    @property
    def several(self) -> bool:
        return len(self.nodes) > 1


class TwilioSettings(Strict):
    enabled: bool = False
    account_sid: str = ""
    # Only from the environment (HOTLINE_TWILIO__AUTH_TOKEN).
    auth_token: SecretStr | None = None
    # Signatures are computed over the public URL Twilio called, not the one a proxy forwards.
    public_base_url: str = "http://127.0.0.1:8080"
    # TaskRouter workflow for <Enqueue workflowSid> (the task carries the IVR's priority);
    # empty: a plain <Enqueue> into the Twilio queue named like the skill's queue.
    workflow_sid: str = ""
    # How Twilio reaches an agent's phone, {extension} the agent's extension (e.g.
    # "sip:{extension}@agents.example.sip.twilio.com"). Set: Hotline's router picks the
    # agent for Twilio callers too and Twilio rings that phone (ivr/twilio/agents.py).
    # Empty: Twilio callers are never offered to Hotline's agents (Asterisk cannot reach
    # them); they wait in Twilio's queue for Twilio-side agents or the workflow.
    agent_sip_uri: str = ""
    # Twilio's REST API (calls to agents); tests point it at a local fake.
    api_base_url: str = "https://api.twilio.com"

    @model_validator(mode="after")
    def _agent_routing(self) -> TwilioSettings:
        if self.agent_sip_uri:
            if "{extension}" not in self.agent_sip_uri:
                raise ValueError("agent_sip_uri must contain {extension}")
            if not self.agent_sip_uri.startswith(("sip:", "sips:")):
                raise ValueError("agent_sip_uri must be a sip: or sips: URI")
            if self.workflow_sid:
                raise ValueError(
                    "agent_sip_uri and workflow_sid exclude each other: either Hotline's "
                    "router or Twilio's TaskRouter picks the agent"
                )
        return self
