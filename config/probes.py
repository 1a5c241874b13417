"""/health/ and /metrics, answered before Django's host check and HTTPS redirect.

Container health checks and Prometheus reach the web process by whatever address they have
(127.0.0.1, a container name), over plain HTTP inside the network: they must not need the public
host name in ALLOWED_HOSTS, and a refusal would be logged as an error every few seconds. Neither
answer contains a URL built from the request's host."""

from config.health import health
from config.metrics import metrics

PROBES = {"/health/": health, "/metrics": metrics}


class ProbeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        request.probe = probe.__name__  # the route label of the latency metric
        return probe(request)
