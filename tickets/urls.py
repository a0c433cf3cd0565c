from django.urls import path

from tickets import views
from tickets.survey import survey_view

urlpatterns = [
    # Linked from the service report email; the signed token is the only credential.
    path("survey/<str:token>/", survey_view, name="survey"),
    path("work-orders/", views.work_order_list_page, name="work-order-list"),
    path("work-orders/<int:work_order_id>/", views.work_order_detail, name="work-order-detail"),
    path(
        "work-orders/<int:work_order_id>/signature.png",
        views.work_order_signature,
        name="work-order-signature",
    ),
]
