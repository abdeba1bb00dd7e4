from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularSwaggerView

from ogc import openapi, views

urlpatterns = [
    path("", views.LandingPageView.as_view(), name="landing"),
    path("conformance", views.ConformanceView.as_view(), name="conformance"),
    path("processes", views.ProcessListView.as_view(), name="process-list"),
    path("processes/<str:process_id>", views.ProcessView.as_view(), name="process"),
    path("processes/<str:process_id>/execution", views.ExecutionView.as_view(), name="execution"),
    path("jobs", views.JobListView.as_view(), name="job-list"),
    path("jobs/<str:job_id>", views.JobView.as_view(), name="job"),
    path("jobs/<str:job_id>/results", views.JobResultsView.as_view(), name="job-results"),
    path("jobs/<str:job_id>/results/<str:output_id>", views.JobOutputView.as_view(), name="job-output"),
    path("api", openapi.OpenAPIView.as_view(), name="openapi"),
    path("api.html", SpectacularSwaggerView.as_view(url_name="openapi"), name="swagger-ui"),
]
