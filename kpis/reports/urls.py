from django.urls import path

from . import views as report_views

urlpatterns = [
    path("weekly/", report_views.WeeklyReportPageView.as_view(), name="reports"),
    path("weekly.csv", report_views.WeeklyReportCsvView.as_view(), name="reports-csv"),
    path("weekly.xlsx", report_views.WeeklyReportXlsxView.as_view(), name="reports-xlsx"),
    path(
        "unsubscribe/<str:token>/",
        report_views.ReportUnsubscribeLinkView.as_view(),
        name="report-unsubscribe",
    ),
]
