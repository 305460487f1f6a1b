from django.urls import path

from leadflow.lifecycle import views_stages

app_name = "stages"
urlpatterns = [
    path("", views_stages.stage_list, name="list"),
    path("rules/new", views_stages.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/edit", views_stages.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/delete", views_stages.rule_delete, name="rule_delete"),
    path("reasons/new", views_stages.reason_new, name="reason_new"),
    path("reasons/<int:reason_id>/active", views_stages.reason_active, name="reason_active"),
    path("<slug:slug>/edit", views_stages.stage_edit, name="edit"),
]
