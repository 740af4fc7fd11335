"""The JSON Schema of the merchant YAML, generated from the models."""

from __future__ import annotations

from typing import Any

from app.config.models import MerchantConfig

SCHEMA_ID = "https://portico.dev/schema/merchant.schema.json"


def merchant_schema() -> dict[str, Any]:
    schema = MerchantConfig.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Portico merchant",
        **schema,
    }
