from django.urls import URLPattern, URLResolver, path

from desk import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.new_work_order, name="desk-new"),
    path("search/", views.search, name="desk-search"),
]
