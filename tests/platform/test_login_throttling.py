"""Password guessing is locked out on every login path: the portal, POST /api/token/ and basic auth.

The lock holds one username from one address (AXES_FAILURE_LIMIT failures, from
SYNTHREG_LOGIN_FAILURE_LIMIT); then even the right password answers 429 with Retry-After.
Attempts live in the test database, so each test starts unlocked (each begins by logging in).
"""

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "alice-pass-123"  # tests/conftest.py's user


def basic(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def portal_login(client: Client, password: str):
    return client.post("/accounts/login/", {"username": "alice", "password": password})


def token_request(password: str, username: str = "alice"):
    return APIClient().post("/api/token/", {"username": username, "password": password}, format="json")


def basic_request(password: str, username: str = "alice"):
    return APIClient().get("/api/jobs/", **basic(username, password))


def assert_locked_out(response) -> None:
    assert response.status_code == 429, response.content[:300]
    assert int(response["Retry-After"]) == 15 * 60
    assert "try again in 15 minutes" in response.content.decode()


def test_the_portal_login_locks_out_after_the_failure_limit(user, settings):
    client = Client()
    assert portal_login(client, PASSWORD).status_code == 302  # not locked from another test
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert portal_login(client, "wrong").status_code == 200  # the form again, with its error
    assert_locked_out(portal_login(client, "wrong"))
    locked = portal_login(client, PASSWORD)
    assert_locked_out(locked)
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_locks_out_after_the_failure_limit(user, settings):
    assert token_request(PASSWORD).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert token_request("wrong").status_code == 401
    assert_locked_out(token_request("wrong"))
    assert_locked_out(token_request(PASSWORD))


def test_basic_auth_locks_out_after_the_failure_limit(user, settings):
    assert basic_request(PASSWORD).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert basic_request("wrong").status_code == 401
    assert_locked_out(basic_request("wrong"))
    locked = basic_request(PASSWORD)
    assert_locked_out(locked)
    assert "try again" in locked.json()["detail"]


def test_failures_on_one_path_count_on_the_others(user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        basic_request("wrong")
    assert_locked_out(token_request(PASSWORD))
    assert_locked_out(portal_login(Client(), PASSWORD))


def test_the_lock_holds_one_username_only(user, other_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_request("wrong")
    assert token_request("bob-pass-123", username="bob").status_code == 200
    assert basic_request("bob-pass-123", username="bob").status_code == 200


def test_the_failure_limit_is_a_setting(user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    assert token_request("wrong").status_code == 401
    assert_locked_out(token_request("wrong"))


def test_a_portal_login_before_the_limit_starts_the_count_again(user, settings):
    # (API logins make no session, so their failures simply expire after the cool-off.)
    client = Client()
    for _ in range(2):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            token_request("wrong")
        assert portal_login(client, PASSWORD).status_code == 302
        client.logout()


def test_logins_that_bypass_passwords_are_not_locked_out(user, api, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        basic_request("wrong")
    assert_locked_out(basic_request(PASSWORD))
    assert api.get("/api/jobs/").status_code == 200  # force_authenticate, as the other tests log in
    portal = Client()
    portal.force_login(user)
    assert portal.get("/jobs/").status_code == 200


def test_behind_a_proxy_the_lock_holds_the_clients_address_not_the_proxys(user, settings):
    settings.SYNTHREG_PROXY_COUNT = 1

    def attempt(client_address: str, password: str, sent_by_client: str = ""):
        forwarded = f"{sent_by_client}, {client_address}" if sent_by_client else client_address
        return APIClient().post("/api/token/", {"username": "alice", "password": password}, format="json",
                                HTTP_X_FORWARDED_FOR=forwarded)

    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("192.0.2.10", "wrong", sent_by_client=f"198.51.100.{n}")  # spoofed entries do not help
    assert_locked_out(attempt("192.0.2.10", PASSWORD))
    assert attempt("192.0.2.20", PASSWORD).status_code == 200


def test_a_forwarded_address_that_is_not_one_counts_as_the_socket_address(user, settings):
    settings.SYNTHREG_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = APIClient().post("/api/token/", {"username": "alice", "password": "wrong"}, format="json",
                                    HTTP_X_FORWARDED_FOR="not-an-address")
        assert response.status_code in (401, 429)
    assert_locked_out(token_request(PASSWORD))  # the same socket address (127.0.0.1)
