from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from fieldservice import web
from fieldservice.api import api
from mobile_api.api import api as mobile_api
from portal import views as portal_views

admin.site.site_header = "Fieldservice"
admin.site.site_title = _("Fieldservice back office")
admin.site.index_title = _("Back office")
# The back office's login counts failed attempts like the web login (fieldservice.web).
admin.site.login_form = web.AdminLoginForm

urlpatterns = [
    path("", web.home, name="home"),
    path("login/", web.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", web.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/mobile/v1/", mobile_api.urls),
    path("app/", include("mobile_api.urls")),
    path("dispatch/", include("scheduling.urls")),
    path("desk/", include("desk.urls")),
    path("accounts/", include("retention.urls")),
    path("kpis/", include("fieldservice.kpis.urls")),
    path("portal/", include("portal.urls")),
    path("l/<str:token>/", portal_views.label_scan, name="label-scan"),
    path("", include("tickets.urls")),
]
# Uploaded files (photos, signatures, reports) are never served as plain media: each is
# served by a view that checks the user may see its work order.
