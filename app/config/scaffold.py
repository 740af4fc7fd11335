"""``portico new``: a commented merchant file that passes ``portico check`` as it is."""

from __future__ import annotations

import json
from string import Template

from app.config.envnames import env_prefix

_TEMPLATE = Template("""\
# yaml-language-server: $$schema=../merchant.schema.json
# $name: order page and self-service portal. `portico check` validates this file;
# `portico schema` prints the JSON Schema your editor can use for completion.
merchant:
  name: $name
  email: billing@$slug.example          # replies to customer mails go here
  address: {street: Main Street 1, postal_code: "10115", city: Berlin, country: DE}
  currency: EUR                         # ISO 4217
  timezone: Europe/Berlin
  links:
    terms: https://$slug.example/terms
    privacy: https://$slug.example/privacy

languages: [en, de]                     # the first is the default; Portico speaks en, de, sv

branding:
  theme: default                        # a folder under themes/
  colors: {primary: "#0b5fff", background: "#ffffff", text: "#1a1a1a"}

embed:
  allowed_origins: []                   # sites that may show the page in an iframe (https)

plans:
  - id: basic                           # used in links: /$slug/order?plan=basic
    name: Basic
    description: {en: For getting started, de: Für den Einstieg}
    price: "9.00"                       # a decimal string in the currency
    interval: month                     # day | week | month | year
    trial_days: 14

order_page:
  title: {en: Order now, de: Jetzt bestellen}
  fields:                               # shown in this order
    - name: email                       # every page has exactly this one email field
      type: email
      label: {en: Email, de: E-Mail}
      required: true
    - name: full_name
      type: text
      label: {en: Full name, de: Vollständiger Name}
      autocomplete: name
      required: true
      portal: edit                      # customers may change it in the portal
  consents:
    - name: terms
      label:
        en: 'I accept the <a href="https://$slug.example/terms">terms</a>.'
        de: 'Ich akzeptiere die <a href="https://$slug.example/terms">AGB</a>.'
      required: true
  success:
    message: {en: "<p>Thank you!</p>", de: "<p>Danke!</p>"}

payments:
  methods: [invoice]                    # card | sepa_debit | invoice

billing:
  invoice_prefix: "INV-{year}-"
  payment_terms_days: 14
  tax: {rate: "19"}

# webhooks:                             # signed JSON POSTs to your server
#   - url: https://$slug.example/hooks/portico
#     events: [signup.completed, invoice.paid]
#     secret_env: ${prefix}WEBHOOK_SECRET   # the secret sits in the environment, never in
#                                       # YAML; every *_env name starts with $prefix
""")


def scaffold(slug: str, name: str | None = None) -> str:
    display = name or slug.replace("-", " ").title()
    return _TEMPLATE.substitute(slug=slug, name=_quoted(display), prefix=env_prefix(slug))


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar: JSON's string syntax is a subset of it."""
    return json.dumps(text, ensure_ascii=False)
