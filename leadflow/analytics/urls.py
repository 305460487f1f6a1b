from django.urls import path

from leadflow.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.reports, name="reports"),
]
