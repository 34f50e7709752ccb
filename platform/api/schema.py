"""The OpenAPI schema documents the error answers every route really gives, in one shape."""

from __future__ import annotations

from drf_spectacular.authentication import BasicScheme, TokenScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from jobs.types import get_job_type, submittable

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
QUOTA_ERROR = ResolvedComponent(
    name="QuotaError", type=ResolvedComponent.SCHEMA, object="QuotaError",
    schema={
        "type": "object",
        "description": "A job refused because the user's quota is full: `quota` names the setting.",
        "required": ["detail", "quota", "used", "limit"],
        "properties": {"detail": {"type": "string"}, "quota": {"type": "string"},
                       "used": {"type": "integer"}, "limit": {"type": "integer"}},
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
    """Adds the error answers; a view lists in ``job_submitting_actions`` the actions that submit
    jobs, whose 403 and 429 may also be a full quota, and in ``request_schemas`` the functions that
    give an action's request body when the schema is generated (so it reads the job-type registry
    as it stands, not as it stood at import)."""

    def get_request_serializer(self):
        schema_of = getattr(self.view, "request_schemas", {}).get(getattr(self.view, "action", None))
        return {"application/json": schema_of()} if schema_of else super().get_request_serializer()

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        self.registry.register_on_missing(ERROR)
        if getattr(self.view, "action", None) in getattr(self.view, "job_submitting_actions", ()):
            self.registry.register_on_missing(QUOTA_ERROR)
            either = {"application/json": {"schema": {"anyOf": [ERROR.ref, QUOTA_ERROR.ref]}}}
            responses.setdefault("403", {"description": WITH_BODY["403"] + " Or the storage quota is full."})
            responses.setdefault("429", {"description": ALWAYS["429"] + " Or too many active jobs."})
            for code in ("403", "429"):
                responses[code]["content"] = either
        statuses = dict(ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            statuses |= WITH_BODY | WITH_TARGET
        if "{" in self.path:
            statuses |= WITH_TARGET
        for code, description in statuses.items():
            responses.setdefault(code, {"description": description})
        for code, response in responses.items():
            if code >= "400" and "content" not in response:
                response["content"] = {"application/json": {"schema": ERROR.ref}}
            if code == "429":
                response["headers"] = RETRY_AFTER
        return responses


def job_request_schema() -> dict:
    """POST /api/jobs/: one variant per job type users submit, its parameters as the type declares them
    (internal types, such as a large job's shards, are not offered)."""
    return {"oneOf": [
        {"type": "object", "title": job_type.title, "description": job_type.description,
         "required": ["type"], "additionalProperties": False,
         "properties": {"type": {"type": "string", "enum": [job_type.name]}, "parameters": job_type.schema}}
        for job_type in submittable()
    ]}


def generate_request_schema() -> dict:
    """POST /api/generators/{slug}/generate/: the generate job's parameters, the generator taken from the path."""
    declared = get_job_type("generate").schema
    schema = {key: value for key, value in declared.items() if key != "required"}
    if required := [name for name in declared.get("required", []) if name != "generator"]:
        schema["required"] = required
    schema["properties"] = {name: prop for name, prop in schema["properties"].items() if name != "generator"}
    return schema


class LockoutBasicScheme(BasicScheme):
    """Our basic auth (throttled) is documented as plain HTTP basic auth."""

    target_class = "api.authentication.LockoutBasicAuthentication"


class CheckedTokenScheme(TokenScheme):
    target_class = "api.authentication.CheckedTokenAuthentication"
