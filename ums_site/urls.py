from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from jobs.uploads import output_upload

admin.site.site_header = "Urban Model Server administration"
admin.site.site_title = "Urban Model Server"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in for browsers under authenticated access (API clients send a token instead).
    path("api-auth/", include("rest_framework.urls")),
    path("jobs/<str:job_id>/outputs/<str:output_id>", output_upload, name="job-output-upload"),
    path("", include("ogc.urls")),
]

# Errors outside the API views are problem details too, never an HTML page.
handler400 = "ogc.problems.handler400"
handler403 = "ogc.problems.handler403"
handler404 = "ogc.problems.handler404"
handler500 = "ogc.problems.handler500"
