from django.urls import path

from leadflow.lifecycle import views_stages

app_name = "stages"
urlpatterns = [
    path("", views_stages.stage_list, name="list"),
    path("<slug:slug>/edit", views_stages.stage_edit, name="edit"),
]
