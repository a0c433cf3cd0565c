from django.urls import URLPattern, URLResolver, path

from scheduling import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.board, name="dispatch-board"),
    path("runs/", views.run_create, name="dispatch-run-create"),
    path("runs/<int:run_id>/status/", views.run_status, name="dispatch-run-status"),
    path("runs/<int:run_id>/accept/", views.run_accept, name="dispatch-run-accept"),
    path("insert/", views.insert, name="dispatch-insert"),
    path("work-orders/<int:work_order_id>/move/", views.reassign_form, name="dispatch-reassign-form"),
    path("work-orders/<int:work_order_id>/move/save/", views.reassign, name="dispatch-reassign"),
]
