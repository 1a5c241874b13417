"""tests/support/instance.py: an instance that fails to start leaves no process behind (its
worker, beat and gunicorn, with their children), and the fixture drops what it made."""

from __future__ import annotations

from pathlib import Path

import pytest


def _processes_naming(*words: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        if any(word in text for word in words):
            found.append(f"{cmdline.parent.name}: {text}")
    return found


def test_an_instance_that_fails_to_start_stops_every_process_it_started(instances):
    # gunicorn cannot read its certificate and exits; the worker and beat (real mode) start.
    instance = instances.make("broken")
    missing = str(instance.directory / "missing.pem")
    instance.tls = (missing, missing)
    queue = instance.env.get("CELERY_TASK_DEFAULT_QUEUE", str(instance.directory))

    with pytest.raises(pytest.fail.Exception, match="broken did not start"):
        instance.start(seconds=30)

    assert instance.processes == []
    assert _processes_naming(missing, queue, str(instance.directory / "beat-schedule")) == []
    # The instance answers again once its start can succeed (its port and database kept).
    instance.tls = None
    assert instance.start().request("GET", "/health/").status == 200


def test_when_one_of_linked_instances_fails_to_start_none_of_them_outlives_the_test(instances):
    # b's gunicorn has no such worker class (its worker, and all of a, start): the test fails, and
    # once the fixture closes no process of either instance is left.
    broken = {"GUNICORN_CMD_ARGS": "--worker-class no.such.Worker"}
    with pytest.raises(pytest.fail.Exception, match="b did not start"):
        instances("a", "b", env_for=lambda name, ports: broken if name == "b" else {})
    queues = [instance.env["CELERY_TASK_DEFAULT_QUEUE"] for instance in instances.made]
    assert len(queues) == 2

    instances.close()

    assert _processes_naming(*queues, str(instances.directory)) == []
