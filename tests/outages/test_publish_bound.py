"""A publish against a broker that accepts connections and never answers gives up within
CELERY_PUBLISH_TIMEOUT, through a connection of its own: the request that enqueues is not held
for the broker's (the worker's) longer timeouts, and the next publish once the broker is back
goes through."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings

from config.celery import app as celery_app
from config.celery import worker_ping
from core.enqueue import enqueue, enqueue_each, publish_connection, reset_publish_connection
from tests.support.environment import _no_broker


@pytest.fixture
def broker_through_proxy(tcp_proxy, monkeypatch):
    """This process publishes to the real broker through a proxy the test owns."""
    url = urlsplit(settings.CELERY_BROKER_URL or "")
    if url.scheme != "redis":
        _no_broker("CELERY_BROKER_URL is not a Redis URL")
    proxy = tcp_proxy(url.hostname, url.port or 6379)
    monkeypatch.setitem(celery_app.conf, "broker_write_url",
                        url._replace(netloc=proxy.url_netloc).geturl())
    celery_app.conf.task_always_eager = False  # the autouse _celery_mode fixture restores it
    reset_publish_connection()
    queue = f"test-publish-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield proxy, queue, client
    reset_publish_connection()
    client.delete(queue, f"_kombu.binding.{queue}")
    client.close()


def test_a_publish_to_an_unanswering_broker_fails_within_the_publish_timeout(
        broker_through_proxy, caplog):
    proxy, queue, client = broker_through_proxy

    assert enqueue(worker_ping, queue=queue) is True
    assert client.llen(queue) == 1
    # The publish's own connection has the short bound; the worker's options stay as they are.
    connection = publish_connection(celery_app)
    assert connection.connect_timeout == settings.CELERY_PUBLISH_TIMEOUT
    assert connection.transport_options["socket_connect_timeout"] == \
        settings.CELERY_PUBLISH_TIMEOUT
    assert connection.transport_options["socket_timeout"] == settings.CELERY_PUBLISH_TIMEOUT
    assert connection.transport_options["max_retries"] == 0
    worker_options = celery_app.conf.broker_transport_options
    assert worker_options["socket_timeout"] == settings.CELERY_BROKER_TIMEOUT
    assert settings.CELERY_PUBLISH_TIMEOUT < settings.CELERY_BROKER_TIMEOUT

    proxy.cut(hang=True)
    with caplog.at_level(logging.WARNING, logger="core.enqueue"):
        assert enqueue(worker_ping, queue=queue) is False
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("broker unavailable: could not enqueue health.worker_ping ")
    assert "(OperationalError: Timeout" in warnings[0], warnings
    assert client.llen(queue) == 1

    proxy.restore()
    assert enqueue(worker_ping, queue=queue) is True
    assert client.llen(queue) == 2


def test_many_messages_go_to_the_broker_in_one_write(broker_through_proxy, monkeypatch,
                                                      caplog):
    proxy, queue, client = broker_through_proxy
    assert enqueue(worker_ping, queue=queue) is True  # connected, the queue declared
    writes = []
    send = redis.connection.Connection.send_packed_command

    def counted(connection, command, *args, **kwargs):
        if b"LPUSH" in b"".join(command if isinstance(command, list) else [command]):
            writes.append(command)  # the messages (not a result backend's subscriptions)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counted)

    assert enqueue_each(worker_ping, [()] * 50, queue=queue) is True

    assert len(writes) == 1  # one pipeline, not a round trip per message
    assert client.llen(queue) == 51

    proxy.cut(hang=True)  # and a broker that does not answer holds them no longer than one
    with caplog.at_level(logging.WARNING, logger="core.enqueue"):
        assert enqueue_each(worker_ping, [()] * 50, queue=queue) is False
    assert "could not enqueue health.worker_ping (TimeoutError: Timeout" in \
        caplog.records[-1].getMessage()
    proxy.restore()
    assert client.llen(queue) == 51
