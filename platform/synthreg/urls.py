from django.contrib import admin
from django.urls import include, path

from synthreg.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("api.urls")),
    path("", include("portal.urls")),
]

handler400 = "synthreg.handlers.bad_request"
handler404 = "synthreg.handlers.not_found"
handler500 = "synthreg.handlers.server_error"
