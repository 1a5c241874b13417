"""Whatever reaches the response endpoint, the answer is an OAuth error (JSON, 4xx) or the
acknowledgement, never a server error; garbage that names no request changes nothing."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.json_limits import MAX_DEPTH
from openid4vp.models import PresentationRequest
from tests.support.openid4vp import create_request

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
# vp_tokens shaped like the real thing (query id → list of presentations), every part wrong.
vp_tokens = json_values | st.dictionaries(
    st.sampled_from(["my_credential", "other", ""]),
    st.lists(st.text(alphabet="abc.~_-ABC012", max_size=60) | json_values, max_size=3),
    max_size=2)
HOSTILE = settings(max_examples=40, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_oauth_error(response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.content)
    assert isinstance(response.json()["error"], str)


@HOSTILE
@given(vp_token=vp_tokens)
def test_any_vp_token_gets_an_oauth_error_and_the_request_records_why(world, vp_token):
    created = create_request(world, mode="direct_post")
    request = world.wallet.fetch(created["authorization_request"])

    response = world.wallet.post(request, {"vp_token": json.dumps(vp_token),
                                           "state": request.state})

    assert_oauth_error(response)
    stored = PresentationRequest.objects.get(pk=created["id"])
    assert stored.status == "failed" and stored.reason


@HOSTILE
@given(form=st.dictionaries(st.sampled_from(["response", "vp_token", "state", "error",
                                             "error_description", "id_token"]),
                            st.text(max_size=200), max_size=4))
def test_garbage_forms_never_reach_a_pending_request(world, form):
    created = create_request(world)
    world.wallet.fetch(created["authorization_request"])

    response = world.wallet.client.post("/openid4vp/response", form)

    # Random text is never the request's state nor a JWE for its key: nothing ties it to it.
    assert_oauth_error(response)
    assert PresentationRequest.objects.get(pk=created["id"]).status == "pending"


def test_a_deep_vp_token_gets_an_oauth_error_and_the_request_records_the_limit(world):
    created = create_request(world, mode="direct_post")
    request = world.wallet.fetch(created["authorization_request"])
    deep = "[" * 100_000 + "]" * 100_000

    response = world.wallet.post(request, {"vp_token": deep, "state": request.state})

    assert_oauth_error(response)
    stored = PresentationRequest.objects.get(pk=created["id"])
    assert stored.status == "failed"
    assert f"nested deeper than {MAX_DEPTH} levels" in stored.reason
