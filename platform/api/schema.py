"""The OpenAPI schema documents the error answers every route really gives, in one shape."""

from __future__ import annotations

from drf_spectacular.authentication import BasicScheme, TokenScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERROR = ResolvedComponent(
    name="Error", type=ResolvedComponent.SCHEMA, object="Error",
    schema={
        "type": "object",
        "description": "`detail` says what is wrong; a refused field is a key holding its messages "
                       "(dotted for nested parameters, e.g. `parameters.params.n`).",
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
)
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}}

ALWAYS = {
    "400": "Bad input (a query parameter, path segment or field): the answer names it.",
    "401": "The credentials sent are wrong, or none were sent where a login is needed.",
    "429": "Locked out after too many failed logins; `Retry-After` says when to try again.",
}
WITH_BODY = {
    "403": "Not allowed for this user (or a session login without its CSRF token).",
    "413": "The request body is larger than the server accepts (SYNTHREG_MAX_REQUEST_BYTES).",
    "415": "The body is not JSON or a form.",
}
WITH_TARGET = {"404": "Not found, or not visible to this user."}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        self.registry.register_on_missing(ERROR)
        statuses = dict(ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= WITH_BODY | WITH_TARGET
        if "{" in self.path:
            statuses |= WITH_TARGET
        for code, description in statuses.items():
            response = {"description": description, "content": {"application/json": {"schema": ERROR.ref}}}
            if code == "429":
                response["headers"] = RETRY_AFTER
            responses.setdefault(code, response)
        return responses


class LockoutBasicScheme(BasicScheme):
    """Our basic auth (throttled) is documented as plain HTTP basic auth."""

    target_class = "api.authentication.LockoutBasicAuthentication"


class CheckedTokenScheme(TokenScheme):
    target_class = "api.authentication.CheckedTokenAuthentication"
