from django.urls import path

from leadflow.tracking import views

app_name = "tracking"
urlpatterns = [
    path("t/lf.js", views.script, name="script"),
    path("t/collect", views.collect, name="collect"),
    path("t/p.gif", views.pixel, name="pixel"),
    path("tracking/", views.settings_page, name="settings"),
    path("tracking/<int:site_id>/identity-secret", views.identity_secret,
         name="identity_secret"),
]
