from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("versions/<int:pk>/evaluate/", views.version_evaluate, name="version-evaluate"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/new/", views.job_new, name="job-new"),
    path("jobs/new/<str:job_type>/", views.job_new_of_type, name="job-new-type"),
    path("jobs/<uuid:pk>/", views.job_detail, name="job"),
    path("jobs/<uuid:pk>/progress/", views.job_progress, name="job-progress"),
    path("jobs/<uuid:pk>/cancel/", views.job_cancel, name="job-cancel"),
]
