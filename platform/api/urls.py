from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api import gate_views, uploads, views
from api.token import LockoutObtainAuthToken

app_name = "api"

router = DefaultRouter()
router.register("datasets", views.DatasetViewSet, basename="dataset")
router.register("versions", views.VersionViewSet, basename="version")
router.register("generators", views.GeneratorViewSet, basename="generator")
router.register("jobs", views.JobViewSet, basename="job")
router.register("evaluations", views.EvaluationViewSet, basename="evaluation")

urlpatterns = [
    path("versions/<int:pk>/files/<path:path>", views.version_file, name="version-file"),
    path("versions/<int:pk>/archive.zip", views.version_archive, name="version-archive"),
    path("versions/<int:pk>/formats/<str:name>", views.version_format, name="version-format"),
    path("versions/<int:pk>/webdataset/<str:name>", views.version_webdataset_shard, name="version-webdataset-shard"),
    path("versions/<int:pk>/job-report.<str:kind>", views.version_job_report, name="version-job-report"),
    path("evaluations/<int:pk>/report.<str:kind>", views.evaluation_report, name="evaluation-report"),
    path("uploads/", uploads.upload, name="upload"),
    path("upload-sessions/", uploads.upload_sessions, name="upload-sessions"),
    path("upload-sessions/<uuid:pk>/", uploads.upload_session, name="upload-session"),
    path("upload-sessions/<uuid:pk>/check/", uploads.upload_session_check, name="upload-session-check"),
    path("upload-sessions/<uuid:pk>/finish/", uploads.upload_session_finish, name="upload-session-finish"),
    path("datasets/<slug:slug>/publish/", gate_views.dataset_publish, name="dataset-publish"),
    path("datasets/<slug:slug>/ledger/", gate_views.dataset_ledger, name="dataset-ledger"),
    path("datasets/<slug:slug>/audit/", gate_views.dataset_audit, name="dataset-audit"),
    path("versions/<int:pk>/override/", gate_views.version_override, name="version-override"),
    path("", include(router.urls)),
    path("token/", LockoutObtainAuthToken.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
