from celery import shared_task

from replication.pushing import provider_push, providers_push_due


@shared_task(name="replication.push", ignore_result=True)
def push(provider_id: str) -> None:
    provider_push(provider_id)


@shared_task(name="replication.push_due", ignore_result=True)
def push_due() -> int:
    return providers_push_due()
