from django.urls import path

from portal import case_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_page, name="login"),
    path("login/<str:token>/", views.link_page, name="link"),
    path("logout/", views.logout_page, name="logout"),
    path("equipment/", views.equipment_list, name="equipment-list"),
    path("equipment/<int:equipment_id>/", views.equipment_detail, name="equipment"),
    path("work-orders/", views.work_orders, name="work-orders"),
    path("work-orders/<int:work_order_id>/report.pdf", views.report_pdf, name="report-pdf"),
    path("contracts/", views.contracts, name="contracts"),
    path("contracts/<int:contract_id>/quote.pdf", views.quote_pdf, name="quote-pdf"),
    path("report/", views.report_fault, name="report"),
    path("cases/", case_views.case_list, name="cases"),
    path("cases/new/", case_views.complaint_new, name="complaint"),
    path("cases/<int:case_id>/", case_views.case_detail, name="case"),
    path("cases/<int:case_id>/answer/", case_views.case_answer, name="case-answer"),
    # Linked from the email a QR label's fault report sends; the token is the only credential.
    path("confirm/<str:token>/", views.fault_confirm, name="fault-confirm"),
    path("labels/site/<int:site_id>.pdf", views.label_sheet, name="label-sheet"),
]
