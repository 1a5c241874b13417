"""The wallet's refusals, with the API status of each code (core/api/problems.py maps them)."""

from __future__ import annotations

from core.errors import DomainError


class WalletError(DomainError):
    code = "wallet_error"
    status = 400
    statuses = {"revoked_is_final": 409, "already_decided": 409, "not_suspendable": 409,
                "no_mandate": 403, "not_permitted": 403, "not_recipient": 403,
                "other_organisation": 403, "missing_scope": 403, "anchors_only": 403,
                "receipt_of_receipt": 409, "no_signing_key": 409, "attachment_changed": 409,
                "attachment_missing": 409, "not_an_invoice": 409}
