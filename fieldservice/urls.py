from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path

from fieldservice.api import api
from mobile_api.api import api as mobile_api


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/admin/")


admin.site.site_header = "Fieldservice"
admin.site.site_title = "Fieldservice back office"
admin.site.index_title = "Back office"

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/mobile/v1/", mobile_api.urls),
    path("", include("tickets.urls")),
]
# Uploaded files (photos, signatures, reports) are never served as plain media: each is
# served by a view that checks the user may see its work order.
