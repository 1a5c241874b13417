"""Issuing passports: request (in the web request), sign (in a Celery worker), supersede.

`passport_request` only records the wish and enqueues after commit; `passports_sign` does the
work in batches: allocate status entries (one short lock), then build, sign and store a whole
chunk in one transaction, skipping rows another worker holds or already issued."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone

from core.enqueue import enqueue, enqueue_after_commit
from core.errors import DomainError
from credentials import signing
from credentials.status_registry import allocate, status_list_url
from passports.credential import (
    characteristics_by_group,
    issuer_of,
    passport_credential,
    restricted_credentials,
)
from passports.models import Passport, PassportEvent, Product, RestrictedCredential
from passports.services.notifications import passport_events_published
from wallet.tenancy.authority import Actor, authorise
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Organisation

log = logging.getLogger(__name__)

SIGN_CHUNK = 200  # passports per task: one transaction, one status allocation
STALE_PENDING = timedelta(seconds=60)
MAX_ATTEMPTS = 5


class PassportError(DomainError):
    code = "passport_error"


def _event(passport, action, from_state, *, actor=None, reason="", details=None):
    return PassportEvent(passport=passport, action=action, from_state=from_state,
                         to_state=passport.state, actor=actor, reason=reason,
                         details=details or {})


def _enqueue(passport_ids: list, send=enqueue_after_commit) -> None:
    """Sign in chunks, after commit by default. A broker that is down fails nothing: the
    passports stay `pending` in the database and the sweep (passports_requeue_stale) enqueues
    them again."""
    from passports.tasks import sign_passports

    ids = [str(pk) for pk in passport_ids]
    for start in range(0, len(ids), SIGN_CHUNK):
        send(sign_passports, ids[start:start + SIGN_CHUNK])


@transaction.atomic
def passport_request(*, product: Product, actor: Actor, reason: str = "",
                     details: dict | None = None) -> Passport:
    """Create the next version in state `pending` and enqueue its signing after commit."""
    return passports_request(products=[product], actor=actor, reason=reason,
                             details=details)[0]


@transaction.atomic
def passports_request(*, products: list[Product], actor: Actor, reason: str = "",
                      details: dict | None = None) -> list[Passport]:
    """`actor` needs a `passports:issue` mandate of every product's organisation (or is the
    operator): NotAuthorised otherwise, before anything is written. The events name it."""
    organisations = Organisation.objects.in_bulk({p.organisation_id for p in products})
    authorities = [authorise(actor, organisation=organisation,
                             scope=Mandate.Scope.PASSPORTS_ISSUE)
                   for organisation in organisations.values()]
    # One actor acts for one organisation (or, as the operator, for all): one record.
    authority = authorities[0] if authorities else None
    details = {**(authority.record() if authority else {}), **(details or {})}
    product_ids = [p.pk for p in products]
    list(Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk"))
    latest = dict(Passport.objects.filter(product_id__in=product_ids)
                  .values_list("product_id").annotate(v=Max("version")))
    passports = Passport.objects.bulk_create([
        Passport(product=product, version=(latest.get(product.pk) or 0) + 1)
        for product in products
    ])
    PassportEvent.objects.bulk_create([
        _event(p, "requested", "", actor=authority.user if authority else None, reason=reason,
               details=details)
        for p in passports
    ])
    _enqueue([p.pk for p in passports])
    return passports


def passports_sign(passport_ids: list) -> int:
    """Sign every still-pending passport among `passport_ids`. Idempotent: a passport already
    issued (or held by another worker) is skipped. Returns how many this call issued."""
    candidates = list(Passport.objects.filter(pk__in=passport_ids, state=Passport.State.PENDING)
                      .select_related("product__organisation").order_by("pk"))
    if not candidates:
        return 0
    by_issuer: dict[str, list[Passport]] = {}
    for passport in candidates:
        by_issuer.setdefault(passport.product.organisation.did, []).append(passport)
    issued = 0
    for issuer, passports in by_issuer.items():
        # Short transaction of its own: the list row lock is not held while signing.
        entries = allocate(issuer, count=len(passports))
        issued += _sign_chunk(issuer, passports, entries)
    return issued


@transaction.atomic
def _sign_chunk(issuer: str, passports: list[Passport], entries) -> int:
    locked = {p.pk for p in Passport.objects.select_for_update(skip_locked=True)
              .filter(pk__in=[p.pk for p in passports], state=Passport.State.PENDING)}
    signer = signing.signer_for(issuer)
    issuer_block = issuer_of(passports[0].product.organisation)  # one query per chunk
    now = timezone.now()
    done, events, restricted = [], [], []
    for passport, (status_list, index) in zip(passports, entries, strict=True):
        if passport.pk not in locked:
            continue
        groups = characteristics_by_group(passport.product)
        credential = passport_credential(passport, issued_at=now,
                                         status_list_url=status_list_url(status_list.id),
                                         status_index=index, groups=groups,
                                         issuer=issuer_block)
        passport.jwt = signing.secure_jwt(credential, signer)
        if passport.product.organisation.embedded_proof:
            passport.embedded = signing.secure_embedded(credential, signer)
        passport.status_list, passport.status_index = status_list, index
        passport.state, passport.issued_at = Passport.State.ISSUED, now
        passport.attempts += 1
        done.append(passport)
        events.append(_event(passport, "issued", Passport.State.PENDING,
                             details={"status_index": index, "key": signer.verification_method}))
        for group, group_credential in restricted_credentials(
                passport, issued_at=now, groups=groups, issuer=issuer_block).items():
            restricted.append(RestrictedCredential(
                passport=passport, access_group=group,
                jwt=signing.secure_jwt(group_credential, signer)))
    _store_signed(done, now)
    PassportEvent.objects.bulk_create(events)
    passport_events_published(events)  # webhooks, after commit
    RestrictedCredential.objects.bulk_create(restricted)
    _supersede_previous(done, now)
    return len(done)


SIGNED_FIELDS = ["jwt", "embedded", "status_list", "status_index", "state", "issued_at",
                 "attempts"]


def _store_signed(passports: list[Passport], now) -> None:
    """One UPDATE per row through executemany (pipelined by psycopg 3): Django's bulk_update
    builds a CASE per column and row, which costs more than signing the whole chunk."""
    fields = [Passport._meta.get_field(name) for name in SIGNED_FIELDS + ["updated_at"]]
    pk_field = Passport._meta.pk
    connection = connections[Passport.objects.db]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    table, key = (connection.ops.quote_name(n) for n in (Passport._meta.db_table, pk_field.column))
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608 - model names only
    rows = []
    for passport in passports:
        passport.updated_at = now
        rows.append([f.get_db_prep_save(getattr(passport, f.attname), connection)
                     for f in fields] + [pk_field.get_db_prep_value(passport.pk, connection)])
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _supersede_previous(passports: list[Passport], now) -> None:
    """Older versions become `superseded` (not revoked: they were true when issued)."""
    newest = {p.product_id: p for p in passports}
    older = (Passport.objects.select_for_update()
             .filter(product_id__in=newest, state__in=[Passport.State.ISSUED,
                                                       Passport.State.SUSPENDED])
             .exclude(pk__in=[p.pk for p in passports]).order_by("pk"))  # one lock order
    events = []
    for old in older:
        current = newest[old.product_id]
        if old.version >= current.version:
            continue
        from_state = old.state
        old.state, old.superseded_by = Passport.State.SUPERSEDED, current
        old.save(update_fields=["state", "superseded_by", "updated_at"])
        events.append(_event(old, "superseded", from_state,
                             details={"superseded_by": str(current.pk)}))
    PassportEvent.objects.bulk_create(events)
    passport_events_published(events)  # webhooks, after commit


@transaction.atomic
def passport_mark_failed(passport_id, reason: str) -> None:
    passport = Passport.objects.select_for_update().filter(
        pk=passport_id, state=Passport.State.PENDING).first()
    if passport is None:
        return
    passport.state, passport.state_reason = Passport.State.FAILED, reason[:2000]
    passport.save(update_fields=["state", "state_reason", "updated_at"])
    PassportEvent.objects.create(passport=passport, action="failed",
                                 from_state=Passport.State.PENDING,
                                 to_state=Passport.State.FAILED, reason=reason[:2000])


def passports_requeue_stale(*, older_than: timedelta = STALE_PENDING) -> int:
    """Re-enqueue passports left `pending` (e.g. the broker was down when they were created)."""
    cutoff = timezone.now() - older_than
    ids = list(Passport.objects.filter(state=Passport.State.PENDING, created_at__lt=cutoff)
               .values_list("pk", flat=True)[:50_000])
    _enqueue(ids, send=enqueue)
    if ids:
        log.info("re-queued %d pending passports", len(ids))
    return len(ids)
