"""The upload page: a file checked, its schema shown for the owner to confirm, then registered.

With JavaScript (static/portal/upload.js) the file goes to the API in resumable chunks with a
progress bar, and the inferred schema is shown before the owner registers it. Without, the form
posts here whole (files up to the request limit) and is registered at once; a refusal comes back
inline, next to the field it names.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from catalog.uploads.errors import UploadRefused
from catalog.uploads.register import Registration, register
from catalog.uploads.schema import DROP, TYPES
from catalog.uploads.sniff import EXTENSIONS, UPLOAD_FORMATS, default_format

FIELDS = ("file", "format", "slug", "title", "access", "epsilon_budget", "privacy_thresholds", "columns")


def _registration(post) -> Registration:
    def json_field(name: str):
        text = post.get(name, "").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise UploadRefused(name, "is not valid JSON") from None

    return Registration(slug=post.get("slug", "").strip(), title=post.get("title", "").strip(),
                        card=post.get("card", ""), access=post.get("access", "restricted"),
                        epsilon_budget=post.get("epsilon_budget", "").strip() or None,
                        privacy_thresholds=json_field("privacy_thresholds") or {}, columns=json_field("columns"))


@login_required
def upload_page(request) -> HttpResponse:
    errors: dict[str, str] = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise UploadRefused("file", "choose a file to upload")
            format = request.POST.get("format") or default_format(upload.name)
            version = register(request.user, _registration(request.POST), upload, upload.name, format)
        except UploadRefused as exc:
            errors[exc.field.split(".")[0] if exc.field.split(".")[0] in FIELDS else "file"] = str(exc)
        else:
            return redirect(version.dataset)
    return render(request, "portal/upload.html", {
        "errors": errors, "posted": request.POST, "formats": UPLOAD_FORMATS, "types": (*TYPES, DROP),
        "extensions": ", ".join(EXTENSIONS), "chunk_bytes": settings.SYNTHREG_UPLOAD_CHUNK_BYTES,
        "max_bytes": settings.SYNTHREG_UPLOAD_MAX_BYTES,
    }, status=400 if errors else 200)
