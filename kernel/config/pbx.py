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


class PbxSettings(Strict):
    kind: str = Field("asterisk", pattern="^(asterisk|twilio)$")
    ami: AmiSettings = AmiSettings()
    fastagi: FastAgiSettings = FastAgiSettings()
    dialplan: DialplanContract = DialplanContract()
    cel: CelSettings = CelSettings()


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
