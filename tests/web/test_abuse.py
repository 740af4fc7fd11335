"""Bots and floods: the honeypot, the minimum fill time and the sign-up rate limit."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.app import make_app
from tests.helpers.orders import VALID, open_form, stored


def test_a_form_sent_faster_than_a_person_can_type_is_refused(instance_dir: Path) -> None:
    app = make_app(instance_dir, PORTICO_MIN_FILL_SECONDS="30")
    client = app.test_client()
    token = open_form(client, "stromma")
    response = client.post("/stromma/order", data={**VALID["stromma"], "form_token": token})
    assert response.status_code == 400
    assert stored(app, "stromma", "customers") == []


def test_signup_posts_are_rate_limited_per_address(instance_dir: Path) -> None:
    app = make_app(instance_dir, PORTICO_MIN_FILL_SECONDS="0")
    client = app.test_client()
    statuses = []
    for _ in range(12):
        token = open_form(client, "stromma")
        statuses.append(
            client.post(
                "/stromma/order", data={**VALID["stromma"], "form_token": token}
            ).status_code
        )
    assert statuses[:10] == [303] * 10
    assert statuses[10:] == [429, 429]
    assert len(stored(app, "stromma", "customers")) == 10
    assert client.get("/stromma/order").status_code == 200  # reading the page is not limited
