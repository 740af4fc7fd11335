"""The order page: the merchant's fields plus plan, payment, coupon and consents."""
