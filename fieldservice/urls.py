from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import include, path

from fieldservice.api import api


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/admin/")


admin.site.site_header = "Fieldservice"
admin.site.site_title = "Fieldservice back office"
admin.site.index_title = "Back office"

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("tickets.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
