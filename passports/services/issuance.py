"""Issuing passports: request (in the web request), sign (in a Celery worker), supersede.

`passport_request` only records the wish and enqueues after commit; `passports_sign` does the
work in batches. Each attempt first *claims* its passports in a short transaction of its own:
it counts the attempt, gives up after MAX_ATTEMPTS, and allocates each passport's status entry
once, on the locked row, where later attempts find it again. Then it builds, signs and stores
the chunk in one transaction that holds the rows' locks. So an attempt that dies (a killed
worker, a lost connection) is counted and leaks no status entry, and a claimed passport whose
row no transaction holds any more was left by a dead worker: the sweep (`passports_requeue_stale`)
sends it again within seconds, while a passport only waiting in the queue is left alone."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import connections, transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.bulk import bulk_insert, bulk_update, copy_columns, field_copy_text, instances
from core.enqueue import enqueue_each, enqueue_each_after_commit
from core.errors import DomainError
from credentials import signing
from credentials.errors import CredentialError
from credentials.status_registry import allocate, status_list_url
from passports.categories import InvalidAttributes, UnknownCategory
from passports.credential import (
    characteristics_by_group,
    issuer_of,
    passport_credential,
    restricted_credentials,
)
from passports.models import (
    EvidenceLink,
    Passport,
    PassportEvent,
    Product,
    RestrictedCredential,
)
from passports.services.notifications import passport_events_published
from wallet.tenancy.authority import Actor, authorise
from wallet.tenancy.legal_models import Mandate
from wallet.tenancy.models import Organisation

log = logging.getLogger(__name__)

SIGN_CHUNK = 200  # passports per task: one transaction, one status allocation
# The sweep sends a pending passport again when its worker died (claimed, its row held by no
# transaction for CLAIM_GRACE: a live attempt locks the row within milliseconds of claiming) or
# its message is gone (never claimed: after CLAIM_GRACE when the signing queue is empty, else
# STALE_PENDING after it was last sent, e.g. the broker was down when it was requested).
STALE_PENDING = timedelta(seconds=60)
CLAIM_GRACE = timedelta(seconds=5)
REQUEUE_LIMIT = 50_000
MAX_ATTEMPTS = 5  # claims (started attempts, killed ones included) before a passport fails
GAVE_UP = (f"Signing did not succeed in {MAX_ATTEMPTS} attempts; request a new version to "
           f"try again.")
INTERNAL_FAILURE = ("Signing failed because of an internal error (the operator's log has the "
                    "details); request a new version to try again.")
# Errors about the product's own data, in words of ours: the manufacturer reads them.
DATA_ERRORS = (InvalidAttributes, UnknownCategory, CredentialError)


class PassportError(DomainError):
    code = "passport_error"


def _event(passport, action, from_state, *, actor=None, reason="", details=None):
    return PassportEvent(passport=passport, action=action, from_state=from_state,
                         to_state=passport.state, actor=actor, reason=reason,
                         details=details or {})


def _enqueue(passport_ids: list, send=enqueue_each_after_commit) -> None:
    """Sign in chunks (their messages written to the broker together), after commit by
    default. A broker that is down fails nothing: the passports stay `pending` in the database
    and the sweep (passports_requeue_stale) enqueues them again."""
    from passports.tasks import sign_passports

    ids = [str(pk) for pk in passport_ids]
    if ids:
        send(sign_passports, [(ids[start:start + SIGN_CHUNK],)
                              for start in range(0, len(ids), SIGN_CHUNK)])


@transaction.atomic
def passport_request(*, product: Product, actor: Actor, reason: str = "",
                     details: dict | None = None) -> Passport:
    """Create the next version in state `pending` and enqueue its signing after commit; refused
    (`passport_pending`) while the product's previous version is still pending."""
    created = passports_request(products=[product], actor=actor, reason=reason,
                                details=details)
    if not created:
        raise PassportError("This product's passport is still being signed.",
                            code="passport_pending")
    return created[0]


@transaction.atomic
def passports_request(*, products: list[Product], actor: Actor, reason: str = "",
                      details: dict | None = None) -> list[Passport]:
    """The next version of each product, except products whose passport is still pending
    (a second click or a parallel request must not make a second version). Checked under the
    products' row locks, so parallel requests for one product queue and make one version.
    `actor` needs a `passports:issue` mandate of every product's organisation (or is the
    operator): NotAuthorised otherwise, before anything is written. The events name it."""
    authority, details = _requesting(products, actor, details)
    product_ids = [p.pk for p in products]
    list(Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk"))
    waiting = set(Passport.objects.filter(product_id__in=product_ids,
                                          state=Passport.State.PENDING)
                  .values_list("product_id", flat=True))
    products = [product for product in products if product.pk not in waiting]
    if not products:
        return []
    latest = dict(Passport.objects.filter(product_id__in=[p.pk for p in products])
                  .values_list("product_id").annotate(v=Max("version")))
    passports = bulk_insert(Passport, instances(Passport, (
        {"product_id": product.pk, "version": (latest.get(product.pk) or 0) + 1}
        for product in products)))
    for passport, product in zip(passports, products, strict=True):
        passport.product = product  # known already: no query when asked
    actor_id = authority.user.pk if authority and authority.user else None
    bulk_insert(PassportEvent, instances(PassportEvent, (
        {"passport_id": p.pk, "action": "requested", "from_state": "", "to_state": p.state,
         "actor_id": actor_id, "reason": reason, "details": details}
        for p in passports)))
    _enqueue([p.pk for p in passports])
    return passports


@transaction.atomic
def first_passports_request(*, products: list[Product], actor: Actor,
                            reason: str = "") -> list:
    """Version 1 of each product's passport, for products created in the caller's transaction
    (a bulk import): no other transaction sees them and none has a passport, so there is
    nothing to lock or look up (the unique (product, version) constraint still holds). As
    passports_request otherwise: the same mandate, a `requested` event each, signing enqueued
    after commit. Returns the passports' ids. On PostgreSQL the rows are written by COPY
    column by column: the same rows, without two model instances per product."""
    authority, details = _requesting(products, actor, None)
    actor_id = authority.user.pk if authority and authority.user else None
    connection = connections[Passport.objects.db]
    if connection.vendor != "postgresql":
        passports = bulk_insert(Passport, instances(Passport, (
            {"product_id": product.pk, "version": 1} for product in products)))
        bulk_insert(PassportEvent, instances(PassportEvent, (
            {"passport_id": p.pk, "action": "requested", "from_state": "", "to_state": p.state,
             "actor_id": actor_id, "reason": reason, "details": details} for p in passports)))
        ids = [p.pk for p in passports]
        _enqueue(ids)
    else:
        key = Passport._meta.pk
        ids = [key.get_default() for _ in products]
        texts = [str(pk) for pk in ids]
        copy_columns(Passport, len(ids), {
            "id": texts, "product_id": [str(product.pk) for product in products],
            "version": "1"})
        event = {"passport_id": None, "action": "requested", "from_state": "",
                 "to_state": Passport._meta.get_field("state").get_default(),
                 "actor_id": actor_id, "reason": reason, "details": details}
        columns = {name: field_copy_text(PassportEvent._meta.get_field(name), value, connection)
                   for name, value in event.items() if name != "passport_id"}
        copy_columns(PassportEvent, len(ids), {**columns, "passport_id": texts})
        _enqueue(texts)  # the ids' texts, made once
    return ids


def _requesting(products: list[Product], actor: Actor, details: dict | None):
    """(the actor's authority, the events' details), once it may issue for every product's
    organisation (NotAuthorised otherwise)."""
    organisations = Organisation.objects.in_bulk({p.organisation_id for p in products})
    authorities = [authorise(actor, organisation=organisation,
                             scope=Mandate.Scope.PASSPORTS_ISSUE)
                   for organisation in organisations.values()]
    # One actor acts for one organisation (or, as the operator, for all): one record.
    authority = authorities[0] if authorities else None
    return authority, {**(authority.record() if authority else {}), **(details or {})}


def passports_sign(passport_ids: list) -> int:
    """Sign every still-pending passport among `passport_ids`. Idempotent: a passport already
    issued, or held by another worker, is skipped. Returns how many this call issued.

    Passports tried before are claimed and signed one at a time, fewest attempts first: one
    that kills its worker fails alone after MAX_ATTEMPTS instead of taking its chunk along."""
    pending = list(Passport.objects.filter(pk__in=passport_ids, state=Passport.State.PENDING)
                   .order_by("attempts", "pk").values_list("pk", "attempts"))
    fresh = [pk for pk, attempts in pending if attempts == 0]
    issued = _attempt(fresh) if fresh else 0
    for pk, attempts in pending:
        if attempts:
            issued += _attempt([pk])
    return issued


def _attempt(passport_ids: list) -> int:
    by_issuer: dict[str, list[Passport]] = {}
    for passport in _claim(passport_ids):
        by_issuer.setdefault(passport.product.organisation.did, []).append(passport)
    return sum(_sign_chunk(issuer, passports) for issuer, passports in by_issuer.items())


@transaction.atomic
def _claim(passport_ids: list) -> list[Passport]:
    """Count an attempt on each pending passport no other worker holds, committed before the
    work starts; fail those out of attempts; give the rest their status entry (once: a later
    attempt reuses it). The status lists' row locks are held only for this short transaction."""
    passports = list(Passport.objects.select_for_update(skip_locked=True, of=("self",))
                     .filter(pk__in=passport_ids, state=Passport.State.PENDING)
                     .select_related("product").order_by("pk"))
    # Each organisation once (a chunk is mostly one), not one instance per passport's row.
    organisations = Organisation.objects.in_bulk({p.product.organisation_id for p in passports})
    for passport in passports:
        passport.product.organisation = organisations[passport.product.organisation_id]
    now = timezone.now()
    _fail([p for p in passports if p.attempts >= MAX_ATTEMPTS], GAVE_UP, now)
    passports = [p for p in passports if p.attempts < MAX_ATTEMPTS]
    without_entry: dict[str, list[Passport]] = {}
    for passport in passports:
        passport.attempts += 1
        if passport.status_list_id is None:
            without_entry.setdefault(passport.product.organisation.did, []).append(passport)
    for issuer, group in without_entry.items():
        for passport, (status_list, index) in zip(group, allocate(issuer, count=len(group)),
                                                  strict=True):
            passport.status_list_id, passport.status_index = status_list.pk, index
    _store(passports, ["status_list", "status_index", "attempts"], now)
    return passports


@transaction.atomic
def _sign_chunk(issuer: str, passports: list[Passport]) -> int:
    # Only this attempt's claims: a passport claimed again meanwhile belongs to that attempt.
    locked = dict(Passport.objects.select_for_update(skip_locked=True)
                  .filter(pk__in=[p.pk for p in passports], state=Passport.State.PENDING)
                  .values_list("pk", "attempts"))
    signer = signing.signer_for(issuer)
    issuer_block = issuer_of(passports[0].product.organisation)  # one query per chunk
    now = timezone.now()
    done, events, restricted = [], [], []
    links = _evidence_links([p.product_id for p in passports])  # one query per chunk
    # One write of the signing log for the chunk, in this transaction.
    with signing.signing_log_batch():
        for passport in passports:
            if locked.get(passport.pk) != passport.attempts:
                continue
            groups = characteristics_by_group(passport.product)
            credential = passport_credential(
                passport, issued_at=now, status_list_url=status_list_url(passport.status_list_id),
                status_index=passport.status_index, groups=groups, issuer=issuer_block,
                links=links.get(passport.product_id, []))
            passport.jwt = signing.secure_jwt(credential, signer)
            if passport.product.organisation.embedded_proof:
                passport.embedded = signing.secure_embedded(credential, signer)
            passport.state, passport.issued_at = Passport.State.ISSUED, now
            done.append(passport)
            events.append({"passport_id": passport.pk, "action": "issued",
                           "from_state": Passport.State.PENDING, "to_state": passport.state,
                           "details": {"status_index": passport.status_index,
                                       "key": signer.verification_method,
                                       "attempts": passport.attempts}})
            for group, group_credential in restricted_credentials(
                    passport, issued_at=now, groups=groups, issuer=issuer_block).items():
                restricted.append({"passport_id": passport.pk, "access_group": group,
                                   "jwt": signing.secure_jwt(group_credential, signer)})
    _store(done, ["jwt", "embedded", "state", "issued_at"], now)
    events = instances(PassportEvent, events)
    for event, passport in zip(events, done, strict=True):
        event.passport = passport  # the webhooks' payload reads it
    bulk_insert(PassportEvent, events)
    passport_events_published(events)  # webhooks, after commit
    bulk_insert(RestrictedCredential, instances(RestrictedCredential, restricted))
    _supersede_previous(done, now)
    return len(done)


def _evidence_links(product_ids: list) -> dict[int, list[EvidenceLink]]:
    links: dict[int, list[EvidenceLink]] = {}
    for item in EvidenceLink.objects.filter(product_id__in=product_ids).order_by("role", "id"):
        links.setdefault(item.product_id, []).append(item)
    return links


def _store(passports: list[Passport], names: list[str], now) -> None:
    """Write `names` (and updated_at) of `passports`: one statement per batch of rows on
    PostgreSQL (core.bulk); Django's bulk_update builds a CASE per column and row, which costs
    more than signing the whole chunk."""
    for passport in passports:
        passport.updated_at = now
    bulk_update(Passport, passports, [*names, "updated_at"])


def _supersede_previous(passports: list[Passport], now) -> None:
    """Older versions become `superseded` (not revoked: they were true when issued). A
    product's first version (1: versions count from 1) has none, so a chunk of first versions,
    as an import issues, asks nothing."""
    newest = {p.product_id: p for p in passports if p.version > 1}
    if not newest:
        return
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


def failure_reason(error: Exception) -> str:
    """What a failed passport says (the API and the verdicts show it): the data error in our
    own words, or a fixed sentence: raw exception text may hold SQL, paths or secrets."""
    if isinstance(error, DATA_ERRORS):
        return f"Signing failed: {error}"[:2000]
    return INTERNAL_FAILURE


@transaction.atomic
def passport_mark_failed(passport_id, error: Exception) -> None:
    """Fail a pending passport whose signing raised `error` (a permanent error)."""
    passport = Passport.objects.select_for_update().filter(
        pk=passport_id, state=Passport.State.PENDING).first()
    if passport is None:
        return
    log.warning("passport %s failed to sign", passport_id, exc_info=error)
    _fail([passport], failure_reason(error), timezone.now())


def _fail(passports: list[Passport], reason: str, now) -> None:
    for passport in passports:
        passport.state, passport.state_reason = Passport.State.FAILED, reason
    _store(passports, ["state", "state_reason"], now)
    PassportEvent.objects.bulk_create([
        _event(p, "failed", Passport.State.PENDING, reason=reason,
               details={"attempts": p.attempts}) for p in passports])


def passports_requeue_stale(*, older_than: timedelta = STALE_PENDING,
                            claim_grace: timedelta = CLAIM_GRACE) -> int:
    """Send again the pending passports a dead worker left (claimed `claim_grace` ago, and no
    transaction holds the row: a live attempt does, and a dead worker's session ended with its
    locks) or whose message is lost. A passport nobody claimed may just be waiting in the
    queue: it is sent again after `claim_grace` when the queue is empty (its message is gone:
    a dead worker had received it), else after `older_than`. Each passport sent is stamped, so
    the next sweep does not send it again while its message waits. A broker that is down
    fails nothing: the next sweep tries again."""
    now = timezone.now()
    unclaimed_after = claim_grace if _signing_queue_empty() else older_than
    with transaction.atomic():
        ids = list(Passport.objects.select_for_update(skip_locked=True)
                   .filter(state=Passport.State.PENDING)
                   .filter(Q(attempts=0, updated_at__lt=now - unclaimed_after)
                           | Q(attempts__gt=0, updated_at__lt=now - claim_grace))
                   .order_by("updated_at").values_list("pk", flat=True)[:REQUEUE_LIMIT])
        for start in range(0, len(ids), SIGN_CHUNK):
            Passport.objects.filter(pk__in=ids[start:start + SIGN_CHUNK]).update(updated_at=now)
    _enqueue(ids, send=enqueue_each)
    if ids:
        log.info("re-queued %d pending passports", len(ids))
    return len(ids)


def _signing_queue_empty() -> bool:
    """Whether the broker holds no signing message waiting for a worker (messages a worker has
    received are not in the queue any more); False when the broker cannot say."""
    from passports.tasks import sign_passports

    app = sign_passports.app
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1)
            queue = app.conf.task_default_queue  # no route sends signing elsewhere
            return connection.default_channel.queue_declare(queue=queue).message_count == 0
    except Exception as exc:  # noqa: BLE001 - any broker failure: assume messages may wait
        log.warning("could not read the signing queue's length (%s)", type(exc).__name__)
        return False
