"""What every API error looks like: RFC 9457 problem+json with a stable code."""

from __future__ import annotations

PROBLEM = "application/problem+json"
TYPE_BASE = "https://w3id.org/dpp-wallet/problems/"


def problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"] == TYPE_BASE + code
    assert body["title"] and body["detail"]
    return body
