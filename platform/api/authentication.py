"""Password logins on the API (basic auth; POST /api/token/ in api.token), throttled by django-axes.

Axes refuses a locked-out login inside ``authenticate`` and marks the request it was given;
DRF passes its own Request, which axes' middleware never sees, so the lockout is turned
into a 429 here.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import exceptions, status
from rest_framework.authentication import BasicAuthentication, TokenAuthentication

from synthreg.lockout import lockout_message, retry_after_seconds

USERNAME_MAX_LENGTH = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length


class LoginLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self) -> None:
        super().__init__(lockout_message())
        self.wait = retry_after_seconds()  # DRF sends it as Retry-After


def raise_if_locked_out(request) -> None:
    if getattr(request, "axes_locked_out", False):
        raise LoginLockedOut()


class LockoutBasicAuthentication(BasicAuthentication):
    def authenticate_credentials(self, userid, password, request=None):
        if "\x00" in userid or "\x00" in password:
            raise exceptions.AuthenticationFailed("Invalid basic header: the credentials contain a NUL character.")
        if len(userid) > USERNAME_MAX_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            raise_if_locked_out(request)
            raise


class CheckedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        if "\x00" in key:  # never a token, and PostgreSQL cannot even look it up
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)
