from django.urls import path

from leadflow.lifecycle import views

app_name = "lifecycle"
urlpatterns = [
    path("<int:lead_id>/outcome", views.lead_outcome, name="outcome"),
]
