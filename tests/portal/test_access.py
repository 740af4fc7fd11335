"""Access rules: who may manage which account, the chooser, and `portico access`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.portal.access import (
    AccessRules,
    InvalidRule,
    NoSuchRule,
    OverlappingRule,
    UnknownAccount,
)
from app.portal.addresses import domain_matches
from tests.helpers.app import app_settings
from tests.helpers.clock import Clock
from tests.helpers.mail import Mailbox
from tests.helpers.orders import stored
from tests.helpers.portal import ask_for_link, confirm, csrf_token, drain, sign_in_by_mail, sign_up


@pytest.fixture
def rules(app: Flask) -> AccessRules:
    return app.extensions["portico"].portal.access


@pytest.fixture
def corp(app: Flask, client: FlaskClient) -> dict[str, str]:
    """Two acme accounts: Anna's own (C-000001) and the Corp account (C-000002)."""
    return {
        "anna": sign_up(client, "acme", "anna@corp.example"),
        "corp": sign_up(client, "acme", "billing@other.example"),
    }


def emails(rules: AccessRules, email: str) -> list[str]:
    return [account.number for account in rules.accounts_for("acme", email)]


# --- matching ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "matches"),
    [
        ("a@example.com", True),
        ("A@EXAMPLE.COM", True),
        ("a@example.com.", False),
        ("a@evil-example.com", False),
        ("a@example.com.evil.io", False),
        ("a@sub.example.com", False),  # subdomains need their own rule
        ("a@xn--exmple-4nf.com", False),  # example.com with a Cyrillic "a"
        ("a@exаmple.com", False),  # the look-alike itself, Cyrillic "a"
        ("a@example.co", False),
        ("example.com", False),
        ("a@b@example.com", False),
    ],
)
def test_a_domain_rule_matches_exactly_its_domain(email: str, matches: bool) -> None:
    assert domain_matches(email, "example.com") is matches


def test_own_address_and_rules_grant_access(rules: AccessRules, corp: dict[str, str]) -> None:
    assert emails(rules, "ANNA@corp.example") == ["C-000001"]
    assert emails(rules, "bob@corp.example") == []
    rules.add("acme", "C-000002", domain="Corp.Example")
    assert emails(rules, "anna@corp.example") == ["C-000001", "C-000002"]
    assert emails(rules, "Bob@CORP.example") == ["C-000002"]
    assert emails(rules, "bob@evil-corp.example") == []
    assert emails(rules, "bob@corp.example.evil.io") == []
    assert emails(rules, "bob@it.corp.example") == []
    rules.add("acme", "c-000001", email="Boss@Partner.Example")
    assert emails(rules, "boss@partner.example") == ["C-000001"]


def test_changes_are_audited(app: Flask, rules: AccessRules, corp: dict[str, str]) -> None:
    rules.add("acme", "C-000002", domain="corp.example")
    rules.remove("acme", "C-000002", domain="corp.example")
    audit = [
        (e["action"], e["actor"], e["before"], e["after"]) for e in stored(app, "acme", "audit")
    ]
    assert audit == [
        ("access.add", "cli", None, {"kind": "domain", "value": "corp.example"}),
        ("access.remove", "cli", {"kind": "domain", "value": "corp.example"}, None),
    ]


@pytest.mark.parametrize(
    ("first", "second", "error", "message"),
    [
        (
            {"domain": "corp.example"},
            {"email": "Bob@Corp.Example"},
            OverlappingRule,
            "bob@corp.example is already covered by the rule --domain corp.example of C-000002",
        ),
        (
            {"email": "bob@corp.example"},
            {"domain": "corp.example"},
            OverlappingRule,
            "--domain corp.example would overlap the rule(s) --email bob@corp.example of"
            " C-000002; remove them first",
        ),
        (
            {"domain": "corp.example"},
            {"domain": "CORP.example."},
            OverlappingRule,
            "C-000002 already has the rule --domain corp.example",
        ),
        (
            {"email": "bob@corp.example"},
            {"email": "BOB@corp.example"},
            OverlappingRule,
            "C-000002 already has the rule --email bob@corp.example",
        ),
        (
            None,
            {"email": "Billing@Other.example"},
            OverlappingRule,
            "billing@other.example is the own address of C-000002: it has access already",
        ),
        (None, {"domain": "gmail.com"}, InvalidRule, "gmail.com is a public mail provider"),
        (None, {"domain": "@corp.example"}, InvalidRule, "give the part after the @"),
        (None, {"domain": "*.corp.example"}, InvalidRule, "wildcards are not supported"),
        (None, {"domain": "localhost"}, InvalidRule, "is not a valid domain"),
        (None, {"email": "bob@"}, InvalidRule, "is not a valid email address"),
        (None, {}, InvalidRule, "give exactly one of --domain or --email"),
        (
            None,
            {"domain": "corp.example", "email": "a@corp.example"},
            InvalidRule,
            "give exactly one of --domain or --email",
        ),
    ],
)
def test_refused_rules_say_why(
    rules: AccessRules,
    corp: dict[str, str],
    first: dict | None,
    second: dict,
    error: type,
    message: str,
) -> None:
    if first:
        rules.add("acme", "C-000002", **first)
    with pytest.raises(error) as raised:
        rules.add("acme", "C-000002", **second)
    assert message in str(raised.value)
    assert len(rules.list("acme", "C-000002").rules) == (1 if first else 0)


def test_a_domain_over_the_own_address_is_allowed(rules: AccessRules, corp: dict[str, str]) -> None:
    """Granting Anna's colleagues is what a domain rule on her account is for."""
    rule = rules.add("acme", "C-000001", domain="corp.example")
    assert rule.value == "corp.example"


def test_rules_of_different_accounts_are_independent(
    rules: AccessRules, corp: dict[str, str]
) -> None:
    rules.add("acme", "C-000001", email="bob@partner.example")
    rules.add("acme", "C-000002", domain="partner.example")
    assert emails(rules, "bob@partner.example") == ["C-000001", "C-000002"]


@pytest.mark.parametrize(
    ("account", "message"),
    [("C-999999", "acme has no customer C-999999"), ("42", "expected one like C-000123")],
)
def test_unknown_accounts(
    rules: AccessRules, corp: dict[str, str], account: str, message: str
) -> None:
    with pytest.raises(UnknownAccount, match=message):
        rules.add("acme", account, domain="corp.example")


def test_removing_a_rule_that_is_not_there(rules: AccessRules, corp: dict[str, str]) -> None:
    rules.add("acme", "C-000002", domain="corp.example")
    with pytest.raises(
        NoSuchRule, match=r"has no rule --email x@corp.example \(its rules: --domain corp.example\)"
    ):
        rules.remove("acme", "C-000002", email="x@corp.example")


# --- in the portal ----------------------------------------------------------


def test_several_accounts_choose_one_after_sign_in(
    app: Flask, client: FlaskClient, mailbox: Mailbox, rules: AccessRules, corp: dict[str, str]
) -> None:
    rules.add("acme", "C-000002", domain="corp.example")
    response = sign_in_by_mail(client, mailbox, "acme", "anna@corp.example")
    assert response.headers["Location"] == "/acme/portal/accounts?lang=en"
    assert (
        client.get("/acme/portal?lang=en").headers["Location"].startswith("/acme/portal/accounts")
    )
    chooser = client.get("/acme/portal/accounts?lang=en")
    html = chooser.get_data(as_text=True)
    assert "C-000001" in html and "C-000002" in html
    before = client.get_cookie("portico-acme").value
    chosen = client.post(
        "/acme/portal/accounts?lang=en",
        data={"account": "C-000002", "csrf_token": csrf_token(html)},
    )
    assert chosen.status_code == 303
    assert chosen.headers["Location"] == "/acme/portal?lang=en"
    assert client.get_cookie("portico-acme").value != before  # a new id for the new privilege
    overview = client.get("/acme/portal?lang=en").get_data(as_text=True)
    assert "C-000002" in overview and "Switch account" in overview

    token = csrf_token(overview)
    refused = client.post(
        "/acme/portal/accounts", data={"account": "C-000003", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert client.post("/acme/portal/accounts", data={"account": "C-000001"}).status_code == 400
    assert "C-000002" in client.get("/acme/portal").get_data(as_text=True)


def test_a_colleague_without_an_own_account_goes_straight_in(
    app: Flask, client: FlaskClient, mailbox: Mailbox, rules: AccessRules, corp: dict[str, str]
) -> None:
    rules.add("acme", "C-000002", domain="corp.example")
    response = sign_in_by_mail(client, mailbox, "acme", "bob@corp.example")
    assert response.headers["Location"] == "/acme/portal?lang=en"
    overview = client.get("/acme/portal?lang=en").get_data(as_text=True)
    assert "C-000002" in overview and "billing@other.example" in overview
    assert "Switch account" not in overview


@pytest.mark.parametrize(
    "email", ["bob@evil-corp.example", "bob@corp.example.evil.io", "bob@it.corp.example"]
)
def test_look_alike_addresses_get_no_mail(
    app: Flask, client: FlaskClient, mailbox: Mailbox, rules: AccessRules, corp, email: str
) -> None:
    rules.add("acme", "C-000002", domain="corp.example")
    assert ask_for_link(client, "acme", email).status_code == 200
    drain(app)
    assert mailbox.signin_mails() == []


def test_removing_access_ends_it_at_the_next_request(
    app: Flask, client: FlaskClient, mailbox: Mailbox, rules: AccessRules, corp: dict[str, str]
) -> None:
    rules.add("acme", "C-000002", domain="corp.example")
    sign_in_by_mail(client, mailbox, "acme", "bob@corp.example")
    assert "C-000002" in client.get("/acme/portal").get_data(as_text=True)
    rules.remove("acme", "C-000002", domain="corp.example")
    response = client.get("/acme/portal?lang=en")
    assert response.status_code == 303  # no account left: to the chooser, which signs out
    final = client.get(response.headers["Location"])
    assert final.status_code == 303 and "expired=1" in final.headers["Location"]
    assert "C-000002" not in client.get(final.headers["Location"]).get_data(as_text=True)
    assert stored(app, "acme", "sessions") == []


def test_a_rule_can_grant_access_to_a_second_account_later(
    app: Flask, client: FlaskClient, mailbox: Mailbox, rules: AccessRules, corp: dict[str, str]
) -> None:
    sign_in_by_mail(client, mailbox, "acme", "anna@corp.example")
    overview = client.get("/acme/portal?lang=en").get_data(as_text=True)
    assert "Switch account" not in overview
    rules.add("acme", "C-000002", email="anna@corp.example")
    assert "Switch account" in client.get("/acme/portal?lang=en").get_data(as_text=True)


# --- the commands -----------------------------------------------------------


@pytest.fixture
def cli_env(instance_dir: Path) -> dict[str, str]:
    """The app's instance and secret, as the operator's shell has them."""
    return app_settings(
        instance_dir, PORTICO_BASE_URL="https://portal.acme.example", PORTICO_ENV="development"
    )


def run(cli_env: dict[str, str], *args: str):
    return CliRunner().invoke(main, list(args), env=cli_env)


def test_access_commands(cli_env: dict[str, str], corp: dict[str, str]) -> None:
    added = run(cli_env, "access", "add", "acme", "C-000002", "--domain", "Corp.Example")
    assert added.exit_code == 0, added.output
    assert (
        added.output == "acme C-000002: every address at corp.example may now manage this account\n"
    )
    added = run(cli_env, "access", "add", "acme", "c-000001", "--email", "Boss@Partner.example")
    assert added.output == "acme C-000001: boss@partner.example may now manage this account\n"
    listed = run(cli_env, "access", "list", "acme", "C-000002")
    assert listed.exit_code == 0
    assert listed.output.splitlines()[:3] == [
        "acme C-000002",
        "  own address  billing@other.example",
        listed.output.splitlines()[2],
    ]
    assert "--domain" in listed.output and "corp.example" in listed.output
    overlap = run(cli_env, "access", "add", "acme", "C-000002", "--email", "x@corp.example")
    assert overlap.exit_code == 1
    assert "x@corp.example is already covered by the rule --domain corp.example of C-000002" in (
        overlap.output
    )
    removed = run(cli_env, "access", "remove", "acme", "C-000002", "--domain", "corp.example")
    assert removed.exit_code == 0
    assert removed.output == "acme C-000002: removed the rule --domain corp.example\n"
    assert "no further rules" in run(cli_env, "access", "list", "acme", "C-000002").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("access", "add", "nobody", "C-000001", "--domain", "x.example"),
            "unknown merchant 'nobody'",
        ),
        (
            ("access", "add", "acme", "C-000009", "--domain", "x.example"),
            "acme has no customer C-000009",
        ),
        (("access", "add", "acme", "C-000001"), "give exactly one of --domain or --email"),
        (
            ("access", "remove", "acme", "C-000001", "--email", "a@b.example"),
            "has no rule --email a@b.example",
        ),
        (("access", "list", "acme", "nobody"), "expected one like C-000123"),
        (("portal-link", "acme", "stranger@example.com"), "stranger@example.com may not sign in"),
        (("portal-link", "nobody", "anna@corp.example"), "unknown merchant 'nobody'"),
        (
            ("portal-link", "acme", "anna@corp.example", "--lang", "sv"),
            "--lang sv: acme offers de, en",
        ),
    ],
)
def test_commands_refuse_with_a_clear_message(
    cli_env: dict[str, str], corp: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run(cli_env, *args)
    assert result.exit_code == 1
    assert message in result.output


def test_portal_link_prints_a_working_link(
    app: Flask, client: FlaskClient, cli_env: dict[str, str], corp: dict[str, str], clock: Clock
) -> None:
    result = CliRunner().invoke(main, ["portal-link", "acme", "ANNA@corp.example"], env=cli_env)
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("https://portal.acme.example/acme/portal/verify/")
    assert link.endswith("?lang=en")  # the language Anna ordered in
    assert "works once, for 15 minutes" in result.stderr
    path = link.removeprefix("https://portal.acme.example")
    response = confirm(client, path)
    assert response.status_code == 303
    assert "C-000001" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get(path).status_code == 410


def test_a_portal_link_has_no_code_and_is_not_throttled(
    cli_env: dict[str, str], corp: dict[str, str], app: Flask
) -> None:
    for _ in range(2):
        assert run(cli_env, "portal-link", "acme", "anna@corp.example").exit_code == 0
    tokens = stored(app, "acme", "signin_tokens")
    assert len(tokens) == 2 and all(t["code_hash"] is None for t in tokens)
