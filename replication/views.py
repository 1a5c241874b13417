"""`POST /replication/v1/push`: where a primary pushes its documents to this back-up provider
(replication.receiving). Authenticated by the push's signature, not by a session: no CSRF."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.api.problems import problem_response
from replication.receiving import PushRefused, PushUnauthenticated, push_receive

MAX_PUSH_BYTES = 8 * 1024 * 1024


@csrf_exempt
@require_POST
def push(request):
    if int(request.headers.get("Content-Length") or 0) > MAX_PUSH_BYTES:
        return problem_response(413, "body_too_large", f"At most {MAX_PUSH_BYTES} bytes.")
    try:
        outcome = push_receive(request.read(MAX_PUSH_BYTES + 1), request.headers)
    except (PushRefused, PushUnauthenticated) as error:
        return problem_response(error.status, error.code, error.detail)
    return JsonResponse({"stored": outcome.stored, "changed": outcome.changed,
                         "refused": outcome.refused})
