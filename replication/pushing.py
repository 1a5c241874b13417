"""The primary's side (docs/backup.md): back-up providers, and pushing to them.

- `provider_add` stores a provider's URL and the push credential it made for us
  (`<source id>:<whsec_ secret>`, from `manage.py replication_source add` there), encrypted.
- `provider_push(provider_id)` sends what the provider has not acknowledged (documents.pending)
  in batches, each an authenticated POST to `<provider>/replication/v1/push` over guarded
  HTTPS (credentials.guarded_http: https, public addresses, pinned, one deadline), signed as a
  Standard Webhook with the provider's secret (`webhook-id`, `webhook-timestamp`,
  `webhook-signature`) and naming our id at the provider (`Replication-Source`). A 200 names
  what it stored; those are acknowledged here, in the order sent. With nothing pending it
  still says it is alive (an empty batch: the heartbeat the backup's "primary unreachable
  since" is measured by). A failure records the error and waits
  REPLICATION_RETRY_SCHEDULE[failures - 1] seconds (the last entry repeating: a provider is
  never given up) before the sweep tries again; nothing is lost meanwhile, since what is
  pending is computed from the database.
- Pushes of one provider never overlap: a push takes a lease on the provider (`pushing_until`,
  claimed under its row lock), so two workers or a sweep and an event cannot send the same
  batch twice; each batch's acknowledgements commit as it is confirmed (no transaction is held
  across the network), and the backup stores by path and revision, so a batch sent again after
  a lost answer changes nothing there.
- `providers_push_due` (the periodic sweep, and a change's after-commit hook) queues a push
  for each active provider that is due."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from core.enqueue import enqueue
from core.errors import DomainError
from core.outages import best_effort
from credentials import guarded_http
from credentials.keys import encryption_key_from_text, unwrap_private_key, wrap_private_key
from replication import documents
from replication.models import Acknowledgement, BackupProvider

log = logging.getLogger(__name__)
PUSH_PATH = "/replication/v1/push"
BATCH_DOCUMENTS = 100
BATCH_BYTES = 1024 * 1024  # a batch stays well below the receiver's request size limit
MAX_BATCHES = 50  # per push task; the rest in the next one
SOURCE_HEADER = "Replication-Source"
_PUSH_QUEUED_KEY = "replication:push-queued:{}"


class ReplicationError(DomainError):
    code = "replication_error"
    status = 400


def _wrapping_key() -> bytes:
    return encryption_key_from_text(settings.KEY_ENCRYPTION_KEY)


def wrap_secret(secret: str, owner_id) -> bytes:
    return wrap_private_key(secret.encode(), _wrapping_key(), associated=str(owner_id).encode())


def unwrap_secret(wrapped: bytes, owner_id) -> str:
    return unwrap_private_key(bytes(wrapped), _wrapping_key(),
                              associated=str(owner_id).encode()).decode()


def parse_credential(credential: str) -> tuple[uuid.UUID, str]:
    """(source id, secret) of a push credential `<source id>:<whsec_...>`."""
    source, _, secret = (credential or "").strip().partition(":")
    try:
        source_id = uuid.UUID(source)
        Webhook(secret)
    except Exception:
        raise ReplicationError("A push credential is `<source id>:whsec_...`, as "
                               "`manage.py replication_source add` printed it at the provider.",
                               code="credential_malformed") from None
    if not secret.startswith("whsec_"):
        raise ReplicationError("The push credential's secret must start with whsec_.",
                               code="credential_malformed")
    return source_id, secret


@transaction.atomic
def provider_add(*, name: str, url: str, credential: str) -> BackupProvider:
    """A new back-up provider (or the same URL with a new credential)."""
    url = url.rstrip("/")
    if not url.startswith("https://"):
        raise ReplicationError("A back-up provider is reached over https only.",
                               code="url_refused")
    source_id, secret = parse_credential(credential)
    provider = BackupProvider.objects.filter(url=url).first() or BackupProvider(url=url)
    provider.name, provider.source_id, provider.active = name[:200], source_id, True
    provider.wrapped_secret = wrap_secret(secret, provider.pk)
    provider.failures, provider.next_attempt_at, provider.last_error = 0, None, ""
    provider.full_clean(exclude=["wrapped_secret"])
    provider.save()
    transaction.on_commit(lambda: push_soon(provider.pk))
    return provider


def provider_remove(*, url: str) -> bool:
    return BackupProvider.objects.filter(url=url.rstrip("/")).delete()[0] > 0


# --- pushing -----------------------------------------------------------------------------------

def _batches(provider: BackupProvider):
    """Pending documents, cut into batches of at most BATCH_DOCUMENTS and ~BATCH_BYTES."""
    batch, size = [], 0
    for document in documents.pending(provider, limit=BATCH_DOCUMENTS * MAX_BATCHES):
        if batch and (len(batch) >= BATCH_DOCUMENTS or size + document.size() > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(document)
        size += document.size()
    yield batch  # the last, or the empty heartbeat


def signed_request(provider: BackupProvider, body: bytes, *, at=None) -> dict[str, str]:
    at = at or timezone.now()
    message_id = f"msg_{uuid.uuid4().hex}"
    secret = unwrap_secret(provider.wrapped_secret, provider.pk)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body),
            SOURCE_HEADER: str(provider.source_id), "Content-Type": "application/json"}


def _send(provider: BackupProvider, batch: list[documents.Document]) -> tuple[list, list]:
    """POST one batch: (the paths the provider holds, the documents it refused with why).
    ReplicationError when the push as a whole did not go through."""
    body = json.dumps({"origin": documents.origin(), "sent_at": timezone.now().isoformat(),
                       "documents": [document.wire() for document in batch]},
                      separators=(",", ":")).encode()
    try:
        status, answer = guarded_http.post(
            provider.url + PUSH_PATH, body, headers=signed_request(provider, body),
            seconds=settings.REPLICATION_TIMEOUT_SECONDS,
            also_allowed=frozenset(settings.WEBHOOK_TEST_ALLOWED_ADDRESSES),
            cafile=settings.WEBHOOK_TEST_CA_FILE)
    except guarded_http.FetchError as exc:
        raise ReplicationError(f"{exc.code}: {exc.detail}", code=exc.code) from None
    if status != 200:
        raise ReplicationError(f"{provider.url} answered {status}: {answer[:300]!r}",
                               code="push_refused")
    try:
        answered = json.loads(answer)
        stored, refused = answered["stored"], answered.get("refused") or []
    except (ValueError, KeyError, TypeError):
        raise ReplicationError(f"{provider.url} answered 200 without the stored paths",
                               code="push_refused") from None
    return (stored if isinstance(stored, list) else []), (
        refused if isinstance(refused, list) else [])


def _acknowledge(provider: BackupProvider, batch: list[documents.Document],
                 settled: set[str]) -> int:
    """Record the documents of `batch` at `settled` paths as held at their revision."""
    done = [document for document in batch if document.path in settled]
    for document in done:
        key = ({"passport_id": document.passport_id} if document.passport_id
               else {"evidence_id": document.evidence_id} if document.evidence_id
               else {"status_list_id": document.status_list_id} if document.status_list_id
               else {"did": document.did})
        Acknowledgement.objects.update_or_create(
            provider=provider, **key,
            defaults={"revision": document.revision_at, "digest": document.digest})
    return len(done)


def _claim(provider_id) -> BackupProvider | None:
    """The provider, held for this push (a lease: pushes never overlap, and a push whose worker
    died frees it when the lease ends); None when it is held, inactive or not due."""
    now = timezone.now()
    with transaction.atomic():
        provider = (BackupProvider.objects.select_for_update(skip_locked=True)
                    .filter(pk=provider_id, active=True).first())
        if (provider is None or (provider.next_attempt_at and provider.next_attempt_at > now)
                or (provider.pushing_until and provider.pushing_until > now)):
            return None
        provider.last_attempt_at = now
        provider.pushing_until = now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
        provider.save(update_fields=["last_attempt_at", "pushing_until"])
    return provider


def provider_push(provider_id) -> int | None:
    """Push what `provider_id` lacks (see the module's doc): how many documents it
    acknowledged; None when another push of it is running or it is not due. No transaction
    is held while sending: each batch's acknowledgements commit as it is confirmed."""
    # Released as the push starts, before it reads what is pending: a change committed from
    # now on queues a push of its own (as status list publications do).
    best_effort.delete(_PUSH_QUEUED_KEY.format(provider_id))
    provider = _claim(provider_id)
    if provider is None:
        return None
    sent, refusals = 0, []
    try:
        for batch in _batches(provider):
            stored, refused = _send(provider, batch)
            # A refused document would be refused again: it is settled too (not sent again
            # until it changes), and the refusal is kept as the provider's last error.
            refusals += [f"{item.get('path')}: {item.get('detail')}" for item in refused
                         if isinstance(item, dict)]
            settled = set(stored) | {item.get("path") for item in refused
                                     if isinstance(item, dict)}
            with transaction.atomic():
                sent += _acknowledge(provider, batch, settled)
            if not settled >= {document.path for document in batch}:
                raise ReplicationError(f"{provider.url} answered for {len(settled)} of "
                                       f"{len(batch)} documents", code="push_partial")
    except ReplicationError as exc:
        provider.failures += 1
        schedule = settings.REPLICATION_RETRY_SCHEDULE
        wait = schedule[min(provider.failures, len(schedule)) - 1]
        provider.next_attempt_at = timezone.now() + timedelta(seconds=wait)
        provider.last_error = str(exc.detail)[:2000]
        log.warning("push to back-up provider %s failed (%d in a row, next in %g s): %s",
                    provider.url, provider.failures, wait, provider.last_error)
    else:
        provider.failures, provider.next_attempt_at = 0, None
        provider.last_error = ("refused: " + "; ".join(refusals))[:2000] if refusals else ""
        provider.last_success_at = timezone.now()
        if refusals:
            log.warning("back-up provider %s refused %d documents: %s", provider.url,
                        len(refusals), provider.last_error)
    provider.pushing_until = None
    provider.save(update_fields=["last_success_at", "failures", "next_attempt_at",
                                 "last_error", "pushing_until"])
    return sent


def push_soon(provider_id=None) -> None:
    """Queue a push of one provider (or every active one) unless one is already queued; for
    after-commit hooks (a passport signed or changed, a status list re-signed)."""
    from replication.tasks import push

    ids = ([provider_id] if provider_id else
           list(BackupProvider.objects.filter(active=True).values_list("pk", flat=True)))
    for pk in ids:
        key = _PUSH_QUEUED_KEY.format(pk)
        if best_effort.add(key, 1, timeout=settings.REPLICATION_COALESCE_SECONDS) is False:
            continue
        enqueue(push, str(pk), countdown=settings.REPLICATION_COALESCE_SECONDS)


def providers_push_due() -> int:
    """The sweep: queue a push for every active provider whose retry is due (or that is
    healthy: a push with nothing pending is its heartbeat)."""
    from replication.tasks import push

    now = timezone.now()
    ids = list(BackupProvider.objects.filter(active=True).exclude(next_attempt_at__gt=now)
               .values_list("pk", flat=True))
    for pk in ids:
        enqueue(push, str(pk))
    return len(ids)
