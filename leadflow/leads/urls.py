from django.urls import path

from leadflow.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("<int:lead_id>/", views.lead_detail, name="detail"),
    path("<int:lead_id>/outcome", views.lead_outcome, name="outcome"),
]
