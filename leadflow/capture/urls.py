from django.urls import path

from leadflow.capture import views

app_name = "capture"
urlpatterns = [
    path("f/<slug:slug>/", views.hosted_form, name="form"),
]
