"""Passport state changes told to the outside (core.events; the webhooks app delivers them):
issued, revoked, suspended, reinstated, superseded. An event about a passport reaches its
manufacturer and the partners the manufacturer entitled (Entitlement), no one else.

The services call `passport_events_published(events)` with the PassportEvent rows they have
just created, in their transaction: two queries per batch, whatever its size."""

from __future__ import annotations

from collections import defaultdict

from core import events as outside
from core.bulk import any_of
from passports.models import Entitlement, PassportEvent, Product

KINDS = {"issued": outside.PASSPORT_ISSUED, "revoked": outside.PASSPORT_REVOKED,
         "suspended": outside.PASSPORT_SUSPENDED, "reinstated": outside.PASSPORT_REINSTATED,
         "superseded": outside.PASSPORT_SUPERSEDED}


def passport_events_published(events: list[PassportEvent]) -> None:
    """`events`: PassportEvent rows whose `passport` is at hand, or records with the same
    attributes (a bulk status change writes its events without instances)."""
    told = [event for event in events if event.action in KINDS]
    if not told:
        return
    products = dict(Product.objects.filter(any_of("pk", {e.passport.product_id for e in told}))
                    .values_list("pk", "organisation_id"))
    audience = defaultdict(set)
    for manufacturer, partner in (Entitlement.objects
                                  .filter(manufacturer__in=set(products.values()))
                                  .values_list("manufacturer_id", "partner_id")):
        audience[manufacturer].add(partner)
    outside.publish_many([outside.Event(
        KINDS[event.action],
        frozenset({products[event.passport.product_id]}
                  | audience[products[event.passport.product_id]]),
        passport_payload(event)) for event in told])


def passport_payload(event: PassportEvent) -> dict:
    passport = event.passport
    data = {"passport": str(passport.pk), "product": passport.product_id,
            "version": passport.version, "state": event.to_state,
            "previous_state": event.from_state, "credential_url": passport.credential_url}
    if event.action in ("revoked", "suspended"):
        data["reason"] = event.reason
    if event.action == "superseded":
        data["superseded_by"] = (event.details or {}).get("superseded_by")
    return data
