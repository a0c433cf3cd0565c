from django.urls import URLPattern, URLResolver, path

from fieldservice.kpis import views

app_name = "kpis"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.kpi_page, name="page"),
    path("export.csv", views.kpi_export, name="export"),
]
