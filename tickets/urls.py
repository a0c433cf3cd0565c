from django.urls import path

from tickets.survey import survey_view

urlpatterns = [
    # Linked from the service report email; the signed token is the only credential.
    path("survey/<str:token>/", survey_view, name="survey"),
]
