from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api import views
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
    path("evaluations/<int:pk>/report.<str:kind>", views.evaluation_report, name="evaluation-report"),
    path("", include(router.urls)),
    path("token/", LockoutObtainAuthToken.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
