from django.urls import path

from leadflow.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.edit, name="new"),
    path("<int:segment_id>/", views.detail, name="detail"),
    path("<int:segment_id>/edit/", views.edit, name="edit"),
    path("<int:segment_id>/rebuild", views.rebuild, name="rebuild"),
    path("<int:segment_id>/delete", views.delete, name="delete"),
]
