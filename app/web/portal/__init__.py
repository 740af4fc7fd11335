"""The customer portal on the web: one blueprint per page group, over the portal services."""

from flask import Flask

from app.web.portal import account, invoices, payment, signin, subscription


def init_app(app: Flask) -> None:
    for module in (signin, account, subscription, invoices, payment):
        app.register_blueprint(module.blueprint)
