from django.urls import path

from mobile_api import views

app_name = "technician_app"

urlpatterns = [
    path("", views.shell, name="shell"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
