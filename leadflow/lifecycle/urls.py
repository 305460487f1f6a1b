from django.urls import path

from leadflow.lifecycle import views

app_name = "lifecycle"
urlpatterns = [
    path("<int:lead_id>/outcome", views.lead_outcome, name="outcome"),
    path("<int:lead_id>/stage", views.lead_stage, name="stage"),
    path("<int:lead_id>/handoff/accept", views.handoff_accept, name="accept"),
    path("<int:lead_id>/handoff/reject", views.handoff_reject, name="reject"),
    path("<int:lead_id>/disqualify", views.lead_disqualify, name="disqualify"),
]
