"""The base of every app's refusals (PassportError, WalletError, ...): a message for people, a
stable code for programs, and the HTTP status the API answers with (core/api/problems.py maps
every DomainError the same way)."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"
    status = 409  # the API's status when `statuses` names none for the code
    statuses: dict[str, int] = {}  # code -> status, where a code needs another one

    def __init__(self, detail: str, *, code: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code

    @property
    def http_status(self) -> int:
        return self.statuses.get(self.code, self.status)
