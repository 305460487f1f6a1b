from django.urls import path

from leadflow.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:job_id>/map/", views.map_columns, name="map"),
    path("<int:job_id>/", views.job_detail, name="job"),
    path("<int:job_id>/errors.csv", views.job_errors, name="errors"),
]
