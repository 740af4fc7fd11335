"""The portal's domain services on each real store (TinyDB, PostgreSQL), without Flask."""

from __future__ import annotations

import pytest

from app.portal import PortalServices
from app.portal.sessions import ABSOLUTE_LIFETIME, IDLE_TIMEOUT
from app.portal.tokens import (
    DIRECT,
    MAX_CODE_FAILURES,
    SignInRefused,
    TokenState,
    format_code,
    normalize_code,
    signin_link,
)
from app.store import Store
from tests.helpers.clock import Clock

SECRET = "unit-test-secret"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(any_store: Store, clock: Clock) -> PortalServices:
    """The portal's services over each store in turn."""
    return PortalServices(any_store, SECRET, clock)


def tokens_of(services: PortalServices) -> list[dict]:
    with services.tokens.store.read("acme") as tx:
        return list(tx.collection("signin_tokens").all())


def test_a_token_is_256_random_bits_with_an_8_digit_code(services: PortalServices) -> None:
    issued = services.tokens.issue("acme", "Jana@Example.com", language="de")
    assert issued is not None and issued.code is not None
    assert len(issued.token) == 43 and len(issued.code) == 8 and issued.code.isdigit()
    stored = tokens_of(services)[0]
    assert stored["email_key"] == "jana@example.com"
    assert issued.token not in str(stored) and issued.code not in str(stored)


def test_the_same_secret_hashes_differently_per_merchant(services: PortalServices) -> None:
    issued = services.tokens.issue("acme", "jana@example.com")
    assert issued is not None
    assert services.tokens.peek("stromma", issued.token) is TokenState.UNKNOWN


def test_peek_changes_nothing_and_redeem_works_once(services: PortalServices) -> None:
    issued = services.tokens.issue("acme", "jana@example.com", next="/acme/portal/x")
    assert issued is not None
    before = tokens_of(services)
    assert services.tokens.peek("acme", issued.token) is TokenState.VALID
    assert tokens_of(services) == before
    grant = services.tokens.redeem("acme", issued.token)
    assert (grant.email_key, grant.next, grant.method) == (
        "jana@example.com",
        "/acme/portal/x",
        "link",
    )
    with pytest.raises(SignInRefused) as refused:
        services.tokens.redeem("acme", issued.token)
    assert refused.value.state is TokenState.USED


def test_tokens_expire_after_15_minutes(services: PortalServices, clock: Clock) -> None:
    issued = services.tokens.issue("acme", "jana@example.com")
    assert issued is not None
    clock.advance(minutes=14, seconds=59)
    assert services.tokens.peek("acme", issued.token) is TokenState.VALID
    clock.advance(seconds=1)
    assert services.tokens.peek("acme", issued.token) is TokenState.EXPIRED
    with pytest.raises(SignInRefused):
        services.tokens.redeem_code("acme", "jana@example.com", issued.code or "")


def test_ended_tokens_are_purged_after_a_day(services: PortalServices, clock: Clock) -> None:
    services.tokens.issue("acme", "jana@example.com")
    clock.advance(days=1, minutes=16)
    services.tokens.issue("acme", "other@example.com")
    assert [t["email_key"] for t in tokens_of(services)] == ["other@example.com"]


def test_one_mail_a_minute_per_address(services: PortalServices, clock: Clock) -> None:
    assert services.tokens.issue("acme", "jana@example.com") is not None
    assert services.tokens.issue("acme", "JANA@example.com") is None
    assert services.tokens.issue("acme", "jana@example.com", channel=DIRECT) is not None
    clock.advance(seconds=60)
    assert services.tokens.issue("acme", "jana@example.com") is not None


def test_codes_burn_after_five_wrong_tries(services: PortalServices) -> None:
    issued = services.tokens.issue("acme", "jana@example.com")
    assert issued is not None and issued.code is not None
    wrong = f"{(int(issued.code) + 1) % 10**8:08d}"
    for _ in range(MAX_CODE_FAILURES):
        with pytest.raises(SignInRefused) as refused:
            services.tokens.redeem_code("acme", "jana@example.com", wrong)
        assert refused.value.state is TokenState.UNKNOWN
    with pytest.raises(SignInRefused):
        services.tokens.redeem_code("acme", "jana@example.com", issued.code)
    assert services.tokens.peek("acme", issued.token) is TokenState.VALID  # the link lives


def test_a_code_is_one_use_and_ends_the_link_too(services: PortalServices) -> None:
    issued = services.tokens.issue("acme", "jana@example.com")
    assert issued is not None and issued.code is not None
    grant = services.tokens.redeem_code("acme", " Jana@Example.com ", format_code(issued.code))
    assert grant.method == "code"
    assert services.tokens.peek("acme", issued.token) is TokenState.USED
    with pytest.raises(SignInRefused):
        services.tokens.redeem_code("acme", "jana@example.com", issued.code)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12345678", "12345678"),
        ("1234 5678", "12345678"),
        (" 1234-5678 ", "12345678"),
        ("1234567", None),
        ("123456789", None),
        ("1234567a", None),
        ("١٢٣٤٥٦٧٨", None),  # Arabic-Indic digits are no ASCII digits
        ("", None),
    ],
)
def test_codes_as_typed(typed: str, expected: str | None) -> None:
    assert normalize_code(typed) == expected


def test_the_link_is_built_from_the_base_url() -> None:
    assert (
        signin_link("https://portal.example", "acme", "abc_-", "sv")
        == "https://portal.example/acme/portal/verify/abc_-?lang=sv"
    )


def test_sessions_idle_and_absolute_lifetimes(services: PortalServices, clock: Clock) -> None:
    sessions = services.sessions
    session_id, session = sessions.create("acme", "jana@example.com", "cus_1", method="link")
    assert sessions.lookup("acme", session_id) == session
    assert sessions.lookup("stromma", session_id) is None
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() - 1)
    alive = sessions.lookup("acme", session_id)
    assert alive is not None
    sessions.touch("acme", alive)
    clock.advance(seconds=IDLE_TIMEOUT.total_seconds() - 1)
    assert sessions.lookup("acme", session_id) is not None
    clock.advance(seconds=2)
    assert sessions.lookup("acme", session_id) is None

    session_id, _ = sessions.create("acme", "jana@example.com", "cus_1", method="link")
    elapsed = 0.0
    while elapsed < ABSOLUTE_LIFETIME.total_seconds() - 20 * 60:
        clock.advance(minutes=20)
        elapsed += 20 * 60
        current = sessions.lookup("acme", session_id)
        assert current is not None
        sessions.touch("acme", current)
    clock.advance(minutes=20)
    assert sessions.lookup("acme", session_id) is None


def test_choosing_an_account_rotates_the_session_id(services: PortalServices) -> None:
    sessions = services.sessions
    old, first = sessions.create("acme", "jana@example.com", None, method="code")
    new = sessions.choose_account("acme", old, "cus_2")
    assert new is not None and new != old
    assert sessions.lookup("acme", old) is None
    moved = sessions.lookup("acme", new)
    assert moved is not None
    assert moved.customer_id == "cus_2" and moved.created_at == first.created_at
    assert sessions.csrf_token("acme", new) != sessions.csrf_token("acme", old)
    assert sessions.check_csrf("acme", new, sessions.csrf_token("acme", new))
    assert not sessions.check_csrf("acme", new, None)


def test_revoke_and_revoke_all(services: PortalServices) -> None:
    sessions = services.sessions
    one, _ = sessions.create("acme", "jana@example.com", "cus_1", method="link")
    two, _ = sessions.create("acme", "jana@example.com", "cus_1", method="link")
    other, _ = sessions.create("acme", "other@example.com", "cus_2", method="link")
    assert sessions.revoke("acme", one) is True
    assert sessions.revoke("acme", one) is False
    assert sessions.revoke_all("acme", "jana@example.com") == 1
    assert sessions.lookup("acme", two) is None
    assert sessions.lookup("acme", other) is not None
    for malformed in ("", "x", "A" * 44, "../../etc"):
        assert sessions.lookup("acme", malformed) is None
