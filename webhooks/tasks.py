from celery import shared_task

from webhooks.services import deliveries_requeue_due, delivery_send


@shared_task(name="webhooks.deliver_batch", ignore_result=True)
def deliver_batch(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        delivery_send(delivery_id)


@shared_task(name="webhooks.requeue_due", ignore_result=True)
def requeue_due() -> int:
    return deliveries_requeue_due()
