from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in for browsers under authenticated access (API clients send a token instead).
    path("api-auth/", include("rest_framework.urls")),
    path("", include("ogc.urls")),
]

# Errors outside the API views are problem details too, never an HTML page.
handler400 = "ogc.problems.handler400"
handler403 = "ogc.problems.handler403"
handler404 = "ogc.problems.handler404"
handler500 = "ogc.problems.handler500"
