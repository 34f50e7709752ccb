"""POST /api/token/: a username and password for an API token, throttled like every login."""

from __future__ import annotations

from rest_framework import exceptions, serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.settings import api_settings

from api.authentication import USERNAME_MAX_LENGTH, raise_if_locked_out


class TokenRequestSerializer(AuthTokenSerializer):
    username = serializers.CharField(label="Username", max_length=USERNAME_MAX_LENGTH, write_only=True)
    token = serializers.CharField(label="Token", read_only=True)


class LockoutObtainAuthToken(ObtainAuthToken):
    """Exchange a username and password for an API token (``Authorization: Token …``)."""

    serializer_class = TokenRequestSerializer
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError as exc:
            raise_if_locked_out(request)
            if "non_field_errors" in exc.detail:  # both fields given, no such login
                raise exceptions.AuthenticationFailed("Unable to log in with the username and password given.") from None
            raise
