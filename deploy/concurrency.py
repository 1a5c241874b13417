"""How many gunicorn worker processes the web process runs (config/gunicorn.py), also read by the
benchmarks so that they measure what production runs. (Not under config/: importing that
package sets Django up, which the gunicorn master must not do while it reads its config.)"""

import os


def web_workers() -> int:
    """WEB_CONCURRENCY, else gunicorn's own advice: 2 x the CPUs this process may use, + 1.

    A sync worker waits for PostgreSQL and Redis on every request that reads them (a verify:
    four round trips), and waits without using its CPU; with only one worker per CPU those
    waits leave the CPUs idle, so a verify cost several times its CPU time (issue #20,
    docs/performance.md). Each worker holds one database connection and ~120 MB."""
    configured = os.environ.get("WEB_CONCURRENCY")
    if configured:
        return int(configured)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cpus or 1) + 1


def web_threads() -> int:
    """WEB_THREADS: request threads per worker process. Above 1 gunicorn runs its threaded
    worker (gthread), which keeps client connections open between requests (HTTP keep-alive,
    as Caddy and API clients hold them) instead of accepting and closing one per request, and
    serves other requests while one waits for PostgreSQL or Redis."""
    return int(os.environ.get("WEB_THREADS") or DEFAULT_THREADS)


DEFAULT_THREADS = 1
