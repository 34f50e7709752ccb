from django.urls import path

from portal import access_views, catalog_views, gate_views, upload_views, version_views, views

app_name = "portal"

urlpatterns = [
    path("", catalog_views.catalog, name="home"),
    path("datasets/", catalog_views.catalog, name="datasets"),
    path("uploads/new/", upload_views.upload_page, name="upload"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset"),
    path("datasets/<slug:slug>/access/", access_views.access_request_page, name="access-request"),
    path("datasets/<slug:slug>/access/request/", access_views.access_request, name="access-request-submit"),
    path("access-requests/<int:pk>/decide/", access_views.access_decide, name="access-decide"),
    path("datasets/<slug:slug>/publish/", gate_views.dataset_publish, name="dataset-publish"),
    path("versions/<int:pk>/override/", gate_views.version_override, name="version-override"),
    path("generators/", catalog_views.generator_list, name="generators"),
    path("generators/<slug:slug>/", catalog_views.generator_detail, name="generator"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("versions/<int:pk>/", version_views.version_detail, name="version"),
    path("versions/<int:pk>/samples/", version_views.version_samples, name="version-samples"),
    path("versions/<int:pk>/samples/<int:index>/<str:layer>.png", version_views.version_sample_layer,
         name="version-sample-layer"),
    path("versions/<int:pk>/report-status/", version_views.version_report_status, name="version-report-status"),
    path("versions/<int:pk>/compare/<int:other>/", version_views.version_compare, name="version-compare"),
    path("versions/<int:pk>/evaluate/", views.version_evaluate, name="version-evaluate"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/new/", views.job_new, name="job-new"),
    path("jobs/new/<str:job_type>/", views.job_new_of_type, name="job-new-type"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job"),
    path("jobs/<uuid:pk>/progress/", views.job_progress, name="job-progress"),
    path("jobs/<uuid:pk>/cancel/", views.job_cancel, name="job-cancel"),
]
