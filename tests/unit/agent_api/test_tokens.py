"""Access tokens: signed, short-lived by the injected clock, bound to their purpose."""

from __future__ import annotations

import pytest

from agent_api.tokens import MemoryRevocations, TokenError, TokenIssuer, signing_secret
from kernel.clock import FakeClock

SECRET = "k" * 16 + "0123456789abcdef"


def issue(issuer: TokenIssuer, **kw: object) -> str:
    token, _ = issuer.issue(
        user_id=7,
        username="agent07",
        display_name="王芳",
        role="agent",
        extension="1007",
        **kw,  # type: ignore[arg-type]
    )
    return token


def test_given_a_fresh_token_when_decoded_then_the_claims_come_back() -> None:
    clock = FakeClock(1_800_000_000)
    issuer = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=clock)
    claims = issuer.decode(issue(issuer))
    assert (claims.user_id, claims.username, claims.display_name) == (7, "agent07", "王芳")
    assert (claims.role, claims.extension) == ("agent", "1007")
    assert claims.expires_at == 1_800_000_000 + 15 * 60


def test_given_a_token_when_its_lifetime_passes_then_it_is_refused_as_expired() -> None:
    clock = FakeClock(1_800_000_000)
    issuer = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=clock)
    token = issue(issuer)
    clock.advance(15 * 60 - 1)
    issuer.decode(token)
    clock.advance(1)
    with pytest.raises(TokenError) as err:
        issuer.decode(token)
    assert err.value.reason == "expired"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],  # signature
        lambda t: t.split(".")[0] + ".e30." + t.split(".")[2],  # payload swapped
        lambda t: "garbage",
    ],
)
def test_given_a_tampered_token_when_decoded_then_it_is_invalid(mangle: object) -> None:
    issuer = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=FakeClock())
    with pytest.raises(TokenError) as err:
        issuer.decode(mangle(issue(issuer)))  # type: ignore[operator]
    assert err.value.reason == "invalid"


def test_given_another_secret_when_decoded_then_invalid() -> None:
    clock = FakeClock()
    token = issue(TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=clock))
    other = TokenIssuer("x" * 40, minutes=15, ws_seconds=30, clock=clock)
    with pytest.raises(TokenError):
        other.decode(token)


def test_given_a_websocket_ticket_when_used_as_an_access_token_then_refused() -> None:
    issuer = TokenIssuer(SECRET, minutes=15, ws_seconds=30, clock=FakeClock())
    access, parent = issuer.issue(
        user_id=1, username="a", display_name="a", role="agent", extension=None
    )
    ticket = issue(issuer, purpose="ws", parent=parent)
    with pytest.raises(TokenError):
        issuer.decode(ticket)  # an access token is expected
    with pytest.raises(TokenError):
        issuer.decode(access, "ws")
    claims = issuer.decode(ticket, "ws")
    assert claims.parent_jti == parent.jti
    assert claims.expires_at - claims.issued_at == 30


def test_given_no_secret_when_not_in_dev_mode_then_refused_naming_the_key() -> None:
    with pytest.raises(RuntimeError, match="HOTLINE_AUTH__SECRET_KEY"):
        signing_secret(None, dev_mode=False)
    assert len(signing_secret(None, dev_mode=True)) == 64
    assert signing_secret("given", dev_mode=False) == "given"


async def test_given_revoked_ids_when_checked_then_only_those_are_revoked() -> None:
    revocations = MemoryRevocations(FakeClock())
    await revocations.revoke("a", 10**10)
    assert await revocations.is_revoked("a")
    assert not await revocations.is_revoked("b")
