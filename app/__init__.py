"""Portico: hosted order pages and a customer portal from one YAML file per merchant.

The Flask application is built by :func:`app.factory.create_app`; the domain
packages (``app.config``, ``app.billing``, ``app.services``, ``app.store``)
import no Flask and can be used on their own.
"""
