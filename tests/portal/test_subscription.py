"""Changing plan, canceling (or staying for the retention offer), undoing, pausing and
resuming in the portal, end to end through the test client; and every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import make_app, stop_background_work
from tests.helpers.mail import Mailbox, link_and_code, text_of
from tests.helpers.orders import stored
from tests.helpers.portal import (
    ask_for_link,
    audits,
    confirm,
    edited_config,
    hidden,
    page,
    post,
    sign_in,
    sign_up,
    signed_in_client,
    subscription_of,
    text,
)

ACME = "jana@example.com"
THISTLE = "ops@example.co.uk"
CHANGE = "/{merchant}/portal/subscription/change?lang=en"
CANCEL = "/{merchant}/portal/subscription/cancel?lang=en"
HOME = "/{merchant}/portal?lang=en"


def url(template: str, merchant: str) -> str:
    return template.format(merchant=merchant)


def changes(app: Flask, merchant: str) -> list[dict]:
    """The audit entries of subscription changes (sign-ins are audited too)."""
    return [a for a in stored(app, merchant, "audit") if a["action"].startswith("subscription.")]


@pytest.fixture
def acme(app: Flask) -> FlaskClient:
    return signed_in_client(app, "acme", ACME)


@pytest.fixture
def thistle(app: Flask) -> FlaskClient:
    return signed_in_client(app, "thistle", THISTLE)


def config_app(
    tmp_path: Path, instance_dir: Path, merchant: str, old: str, new: str, **settings: str
) -> Iterator[Flask]:
    """The app over a copy of the demo config with one merchant's YAML edited."""
    config = edited_config(tmp_path, merchant, old, new)
    app = make_app(instance_dir, config, **settings)
    yield app
    stop_background_work(app)


# --- changing the plan ------------------------------------------------------


def test_upgrade_previews_the_exact_invoice_then_applies_it(
    app: Flask, thistle: FlaskClient
) -> None:
    before = subscription_of(app, "thistle", THISTLE)
    invoices_before = {i["id"] for i in stored(app, "thistle", "invoices")}
    choose = page(thistle, url(CHANGE, "thistle"))
    assert 'value="office-large"' in choose and 'value="office-small"' not in choose

    preview = post(
        thistle,
        url(CHANGE, "thistle"),
        {"subscription": before["id"], "plan": "office-large", "step": "preview"},
        url(CHANGE, "thistle"),
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)
    html = preview.get_data(as_text=True)
    words = text(html)
    assert "Confirm your plan change" in words
    assert "The change takes effect immediately." in words
    assert "Invoice issued now" in words
    # The preview writes nothing.
    assert subscription_of(app, "thistle", THISTLE)["plan_id"] == "office-small"
    assert {i["id"] for i in stored(app, "thistle", "invoices")} == invoices_before
    assert audits(app, "thistle", "subscription.change_plan") == []

    done = thistle.post(
        url(CHANGE, "thistle"),
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "subscription": before["id"],
            "plan": "office-large",
            "at": hidden(html, "at"),
            "step": "confirm",
        },
    )
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/thistle/portal?lang=en&done=plan_change")
    after = subscription_of(app, "thistle", THISTLE)
    assert after["plan_id"] == "office-large"
    issued = [i for i in stored(app, "thistle", "invoices") if i["id"] not in invoices_before]
    assert len(issued) == 1
    invoice = issued[0]
    assert invoice["gross"] > 0
    for line in invoice["lines"]:  # the lines the customer was shown, word for word
        assert line["description"] in words
    entry = audits(app, "thistle", "subscription.change_plan")
    assert len(entry) == 1
    assert entry[0]["actor"] == f"portal:{THISTLE}"
    assert entry[0]["customer_id"] == before["customer_id"]
    assert entry[0]["before"]["plan_id"] == "office-small"
    assert entry[0]["after"]["plan_id"] == "office-large"
    assert entry[0]["before"]["subscription_id"] == before["id"]

    overview = text(page(thistle, done.headers["Location"]))
    assert "Your plan has been changed." in overview
    assert "Subscription: Office large" in overview


def test_downgrade_waits_for_the_period_end(app: Flask, acme: FlaskClient) -> None:
    subscription = subscription_of(app, "acme", ACME)
    preview = post(
        acme,
        url(CHANGE, "acme"),
        {"subscription": subscription["id"], "plan": "starter"},
        url(CHANGE, "acme"),
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "The change takes effect on" in text(html)
    assert "at the end of your current billing period" in text(html)
    done = acme.post(
        url(CHANGE, "acme"),
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "subscription": subscription["id"],
            "plan": "starter",
            "at": hidden(html, "at"),
            "step": "confirm",
        },
    )
    assert done.status_code == 303 and "done=plan_change_scheduled" in done.headers["Location"]
    after = subscription_of(app, "acme", ACME)
    assert after["plan_id"] == "business"
    assert after["scheduled_change"]["plan_id"] == "starter"
    entry = audits(app, "acme", "subscription.schedule_change")
    assert entry[0]["before"]["scheduled_change"] is None
    assert entry[0]["after"]["scheduled_change"]["plan_id"] == "starter"
    overview = text(page(acme, done.headers["Location"]))
    assert "Your plan change is scheduled." in overview
    assert "To Starter on" in overview


@pytest.mark.parametrize("plan", ["legacy", "enterprise-forged", ""])
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_a_plan_not_offered_for_a_change_is_refused(
    app: Flask, acme: FlaskClient, plan: str, step: str
) -> None:
    """``legacy`` is acme's plan but not in ``change_plan.plans``; the others do not exist."""
    subscription = subscription_of(app, "acme", ACME)
    response = post(
        acme,
        url(CHANGE, "acme"),
        {
            "subscription": subscription["id"],
            "plan": plan,
            "step": step,
            "at": "2026-01-01T00:00:00+00:00",
        },
        url(CHANGE, "acme"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Plan: Choose one of the plans listed." in text(html)
    assert 'href="#plan-0"' in html and 'aria-invalid="true"' in html
    assert subscription_of(app, "acme", ACME) == subscription
    assert changes(app, "acme") == []


def test_plan_change_disabled_is_not_found(tmp_path: Path, instance_dir: Path) -> None:
    old = "change_plan: {enabled: true, plans: [office-small"
    for app in config_app(tmp_path, instance_dir, "thistle", old, old.replace("true", "false")):
        client = signed_in_client(app, "thistle", THISTLE)
        assert client.get(url(CHANGE, "thistle")).status_code == 404
        assert "Change plan" not in page(client, url(HOME, "thistle"))


# --- canceling --------------------------------------------------------------


def test_cancel_at_period_end_with_reason_and_comment_then_undo(
    app: Flask, acme: FlaskClient, mailbox: Mailbox
) -> None:
    subscription = subscription_of(app, "acme", ACME)
    form = page(acme, url(CANCEL, "acme"))
    words = text(form)
    assert "Why are you canceling?" in words
    for reason in ("Too expensive", "Missing features", "Switching to another provider"):
        assert reason in words
    assert 'name="comment"' in form

    preview = post(
        acme,
        url(CANCEL, "acme"),
        {"subscription": subscription["id"], "reason": "too_expensive", "comment": "Budget <cut>"},
        url(CANCEL, "acme"),
    )
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "Confirm your cancellation" in text(html)
    assert "at the end of the current billing period" in text(html)
    assert "Budget &lt;cut&gt;" in html and "<cut>" not in html
    assert subscription_of(app, "acme", ACME) == subscription  # nothing yet

    done = acme.post(
        url(CANCEL, "acme"),
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "subscription": subscription["id"],
            "reason": "too_expensive",
            "comment": "Budget <cut>",
            "at": hidden(html, "at"),
            "step": "confirm",
        },
    )
    assert done.status_code == 303 and "done=cancel_scheduled" in done.headers["Location"]
    after = subscription_of(app, "acme", ACME)
    assert after["cancel_at_period_end"] is True
    assert after["status"] == "active"
    assert after["cancel_reason"] == "too_expensive"
    entry = audits(app, "acme", "subscription.schedule_cancel")
    assert len(entry) == 1
    assert entry[0]["actor"] == f"portal:{ACME}"
    assert entry[0]["before"]["cancel_at_period_end"] is False
    assert entry[0]["after"]["cancel_at_period_end"] is True
    assert entry[0]["after"]["cancel_reason"] == "too_expensive"
    assert entry[0]["after"]["cancel_comment"] == "Budget <cut>"

    mail = mailbox.wait_for_subject("Your cancellation at ACME Cloud GmbH is confirmed", timeout=10)
    assert mail["To"].lower() == ACME
    assert "Business" in text_of(mail)
    assert "withdraw the cancellation" in text_of(mail)

    overview = text(page(acme, done.headers["Location"]))
    assert "Your cancellation has been received." in overview
    assert "Canceled, ends on" in overview

    # Canceled once, the cancel page says so instead of canceling again.
    twice = acme.get(f"/acme/portal/subscription/cancel?lang=en&subscription={subscription['id']}")
    assert twice.status_code == 422
    assert "This subscription has been canceled already." in twice.get_data(as_text=True)
    assert len(audits(app, "acme", "subscription.schedule_cancel")) == 1

    undo_page = url(HOME, "acme")
    undone = post(
        acme,
        "/acme/portal/subscription/cancel/undo?lang=en",
        {"subscription": subscription["id"]},
        undo_page,
    )
    assert undone.status_code == 303 and "done=cancel_undone" in undone.headers["Location"]
    assert subscription_of(app, "acme", ACME)["cancel_at_period_end"] is False
    entry = audits(app, "acme", "subscription.undo_cancel")
    assert entry[0]["before"]["cancel_at_period_end"] is True
    assert entry[0]["after"]["cancel_at_period_end"] is False

    again = post(
        acme,
        "/acme/portal/subscription/cancel/undo?lang=en",
        {"subscription": subscription["id"]},
        undo_page,
    )
    assert again.status_code == 422
    assert "This subscription has no cancellation to undo." in again.get_data(as_text=True)
    assert len(audits(app, "acme", "subscription.undo_cancel")) == 1


def test_the_retention_offer_keeps_the_subscription(app: Flask, acme: FlaskClient) -> None:
    subscription = subscription_of(app, "acme", ACME)
    form = text(page(acme, url(CANCEL, "acme")))
    assert "Stay with us and get 20% for three months." in form
    accepted = post(
        acme,
        url(CANCEL, "acme"),
        {"subscription": subscription["id"], "offer": "accept"},
        url(CANCEL, "acme"),
    )
    assert accepted.status_code == 303 and "done=retention" in accepted.headers["Location"]
    after = subscription_of(app, "acme", ACME)
    assert after["coupon_code"] == "STAY20"
    assert after["cancel_at_period_end"] is False and after["status"] == "active"
    entry = audits(app, "acme", "subscription.accept_retention")
    assert entry[0]["before"]["coupon_code"] is None
    assert entry[0]["after"]["coupon_code"] == "STAY20"
    assert "The offer has been applied" in text(page(acme, accepted.headers["Location"]))
    # Offered once: taken, it is gone from the page and cannot be taken twice.
    assert "Stay with us" not in text(page(acme, url(CANCEL, "acme")))
    twice = post(
        acme,
        url(CANCEL, "acme"),
        {"subscription": subscription["id"], "offer": "accept"},
        url(CANCEL, "acme"),
    )
    assert twice.status_code == 422
    assert len(audits(app, "acme", "subscription.accept_retention")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Reason: Choose one of the reasons listed."),
        ({"reason": "forged"}, "Reason: Choose one of the reasons listed."),
        (
            {"reason": "too_expensive", "comment": "x" * 1001},
            "Comment: Please keep your comment under 1000 characters.",
        ),
    ],
)
def test_cancel_form_errors(app: Flask, acme: FlaskClient, data: dict, message: str) -> None:
    subscription = subscription_of(app, "acme", ACME)
    response = post(
        acme,
        url(CANCEL, "acme"),
        {"subscription": subscription["id"], "step": "confirm", **data},
        url(CANCEL, "acme"),
    )
    assert response.status_code == 422
    assert message in text(response.get_data(as_text=True))
    assert subscription_of(app, "acme", ACME) == subscription
    assert changes(app, "acme") == []


def test_immediate_cancellation_credits_the_unused_time(
    tmp_path: Path, instance_dir: Path, mailbox: Mailbox
) -> None:
    old = "  cancel:\n    enabled: true\n    mode: at_period_end\n"
    for app in config_app(
        tmp_path,
        instance_dir,
        "thistle",
        old,
        old.replace("at_period_end", "immediately"),
        PORTICO_SMTP_URL=mailbox.smtp_url,
    ):
        client = signed_in_client(app, "thistle", THISTLE)
        subscription = subscription_of(app, "thistle", THISTLE)
        preview = post(
            client,
            url(CANCEL, "thistle"),
            {"subscription": subscription["id"], "reason": "taste"},
            url(CANCEL, "thistle"),
        )
        html = preview.get_data(as_text=True)
        assert preview.status_code == 200, html
        assert "ends immediately" in text(html)
        assert "Credit note issued now" in text(html)
        done = client.post(
            url(CANCEL, "thistle"),
            data={
                "csrf_token": hidden(html, "csrf_token"),
                "subscription": subscription["id"],
                "reason": "taste",
                "at": hidden(html, "at"),
                "step": "confirm",
            },
        )
        assert done.status_code == 303 and "done=cancel" in done.headers["Location"]
        assert subscription_of(app, "thistle", THISTLE)["status"] == "canceled"
        notes = [i for i in stored(app, "thistle", "invoices") if i["kind"] == "credit_note"]
        assert len(notes) == 1
        assert audits(app, "thistle", "subscription.cancel")[0]["after"]["status"] == "canceled"
        assert mailbox.wait_for_subject(
            "Your subscription at Thistle & Co. Coffee Ltd has ended", timeout=10
        )


def test_cancel_disabled_is_not_found(tmp_path: Path, instance_dir: Path) -> None:
    old = "  cancel:\n    enabled: true\n"
    for app in config_app(tmp_path, instance_dir, "acme", old, old.replace("true", "false")):
        client = signed_in_client(app, "acme", ACME)
        subscription = subscription_of(app, "acme", ACME)
        assert client.get(url(CANCEL, "acme")).status_code == 404
        refused = post(
            client,
            url(CANCEL, "acme"),
            {"subscription": subscription["id"], "reason": "too_expensive"},
            url(HOME, "acme"),
        )
        assert refused.status_code == 404
        assert "Cancel subscription" not in page(client, url(HOME, "acme"))
        assert subscription_of(app, "acme", ACME) == subscription


# --- pausing ----------------------------------------------------------------

PAUSE = "  support: {email: hello@thistle.example"


@pytest.fixture
def pausing_app(tmp_path: Path, instance_dir: Path) -> Iterator[Flask]:
    """thistle with pausing for up to two periods (no demo merchant pauses without a trial)."""
    yield from config_app(
        tmp_path,
        instance_dir,
        "thistle",
        PAUSE,
        "  pause: {enabled: true, max_cycles: 2}\n" + PAUSE,
    )


def test_pause_then_resume(pausing_app: Flask) -> None:
    app = pausing_app
    client = signed_in_client(app, "thistle", THISTLE)
    subscription = subscription_of(app, "thistle", THISTLE)
    overview = page(client, url(HOME, "thistle"))
    assert "Pause for" in overview and '<option value="2">2 billing periods</option>' in overview

    paused = post(
        client,
        "/thistle/portal/subscription/pause?lang=en",
        {"subscription": subscription["id"], "cycles": "2"},
        url(HOME, "thistle"),
    )
    assert paused.status_code == 303 and "done=pause" in paused.headers["Location"]
    after = subscription_of(app, "thistle", THISTLE)
    assert after["pause"]["cycles"] == 2
    assert after["pause"]["starts_at"] == subscription["current_period_end"]
    entry = audits(app, "thistle", "subscription.schedule_pause")
    assert entry[0]["before"]["pause"] is None and entry[0]["after"]["pause"]["cycles"] == 2
    words = text(page(client, paused.headers["Location"]))
    assert "Your pause is scheduled." in words and "Pause From" in words

    resumed = post(
        client,
        "/thistle/portal/subscription/resume?lang=en",
        {"subscription": subscription["id"]},
        url(HOME, "thistle"),
    )
    assert resumed.status_code == 303 and "done=resume" in resumed.headers["Location"]
    assert subscription_of(app, "thistle", THISTLE)["pause"] is None
    assert audits(app, "thistle", "subscription.undo_pause")[0]["after"]["pause"] is None


@pytest.mark.parametrize("cycles", ["3", "0", "-1", "two", ""])
def test_pause_beyond_max_cycles_is_refused(pausing_app: Flask, cycles: str) -> None:
    app = pausing_app
    client = signed_in_client(app, "thistle", THISTLE)
    subscription = subscription_of(app, "thistle", THISTLE)
    refused = post(
        client,
        "/thistle/portal/subscription/pause?lang=en",
        {"subscription": subscription["id"], "cycles": cycles},
        url(HOME, "thistle"),
    )
    assert refused.status_code == 422
    assert "Choose how many billing periods to pause for." in refused.get_data(as_text=True)
    assert subscription_of(app, "thistle", THISTLE) == subscription
    assert changes(app, "thistle") == []


def test_resume_when_not_paused_is_refused(pausing_app: Flask) -> None:
    client = signed_in_client(pausing_app, "thistle", THISTLE)
    subscription = subscription_of(pausing_app, "thistle", THISTLE)
    refused = post(
        client,
        "/thistle/portal/subscription/resume?lang=en",
        {"subscription": subscription["id"]},
        url(HOME, "thistle"),
    )
    assert refused.status_code == 422
    assert "This subscription is not paused." in refused.get_data(as_text=True)


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pause_disabled_is_not_found(app: Flask, acme: FlaskClient, action: str) -> None:
    subscription = subscription_of(app, "acme", ACME)
    response = post(
        acme,
        f"/acme/portal/subscription/{action}?lang=en",
        {"subscription": subscription["id"], "cycles": "1"},
        url(HOME, "acme"),
    )
    assert response.status_code == 404
    assert subscription_of(app, "acme", ACME) == subscription
    assert "Pause for" not in page(acme, url(HOME, "acme"))


# --- refusals common to every action ----------------------------------------

ACTIONS = [
    ("/acme/portal/subscription/change?lang=en", {"plan": "starter", "step": "preview"}),
    ("/acme/portal/subscription/cancel?lang=en", {"reason": "too_expensive"}),
    ("/acme/portal/subscription/cancel?lang=en", {"offer": "accept"}),
    ("/acme/portal/subscription/cancel/undo?lang=en", {}),
]


@pytest.mark.parametrize(("path", "data"), ACTIONS)
def test_a_post_without_the_form_token_changes_nothing(
    app: Flask, acme: FlaskClient, path: str, data: dict
) -> None:
    subscription = subscription_of(app, "acme", ACME)
    response = acme.post(path, data={"subscription": subscription["id"], **data})
    assert response.status_code == 400
    forged = acme.post(
        path, data={"subscription": subscription["id"], "csrf_token": "forged", **data}
    )
    assert forged.status_code == 400
    other_site = acme.post(
        path,
        data={"subscription": subscription["id"], **data},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert other_site.status_code == 403
    assert subscription_of(app, "acme", ACME) == subscription
    assert changes(app, "acme") == []


@pytest.mark.parametrize(("path", "data"), ACTIONS)
def test_another_merchants_subscription_is_not_found(app: Flask, path: str, data: dict) -> None:
    """One browser signed in at both merchants: a thistle subscription id on acme's
    URLs (and the other way round) is unknown there."""
    client = signed_in_client(app, "acme", ACME)
    sign_up(client, "thistle", THISTLE)
    sign_in(app, client, "thistle", THISTLE)
    theirs = subscription_of(app, "thistle", THISTLE)
    response = post(client, path, {"subscription": theirs["id"], **data}, url(HOME, "acme"))
    assert response.status_code == 404
    assert client.get(f"{path}&subscription={theirs['id']}").status_code in (404, 405)
    mine = subscription_of(app, "acme", ACME)
    foreign = client.get(f"/thistle/portal/subscription/cancel?lang=en&subscription={mine['id']}")
    assert foreign.status_code == 404
    assert subscription_of(app, "thistle", THISTLE) == theirs
    assert changes(app, "acme") == [] and changes(app, "thistle") == []


def test_deep_links_survive_sign_in(app: Flask, mailbox: Mailbox) -> None:
    client = app.test_client()
    sign_up(client, "acme", ACME)
    subscription = subscription_of(app, "acme", ACME)
    deep = f"/acme/portal/subscription/cancel?lang=en&subscription={subscription['id']}"
    bounced = client.get(deep)
    assert bounced.status_code == 303
    assert parse_qs(urlsplit(bounced.headers["Location"]).query)["next"] == [deep]
    assert ask_for_link(client, "acme", ACME, next=deep).status_code == 200
    path, _ = link_and_code(mailbox.wait_for_signin(ACME))
    signed = confirm(client, path)
    assert signed.status_code == 303
    assert signed.headers["Location"] == deep
    assert "Why are you canceling?" in text(page(client, deep))
