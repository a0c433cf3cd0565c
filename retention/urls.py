from django.urls import URLPattern, URLResolver, path

from retention import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="accounts-home"),
    path("<int:account_id>/", views.account_detail, name="account-detail"),
    path("renewals/<int:opportunity_id>/stage/", views.renewal_stage, name="renewal-stage"),
    path("tasks/<int:task_id>/done/", views.task_done, name="account-task-done"),
]
