from celery import shared_task

from webhooks.services import deliveries_requeue_due, deliveries_send


@shared_task(name="webhooks.deliver_batch", ignore_result=True)
def deliver_batch(delivery_ids: list[int]) -> None:
    deliveries_send(delivery_ids)


@shared_task(name="webhooks.requeue_due", ignore_result=True)
def requeue_due() -> int:
    return deliveries_requeue_due()
