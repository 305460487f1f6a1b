from django.urls import path

from leadflow.scoring import views

app_name = "scoring"
urlpatterns = [
    path("", views.rule_list, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/delete", views.rule_delete, name="rule_delete"),
    path("groups/", views.groups, name="groups"),
    path("groups/<int:group_id>/", views.group_edit, name="group_edit"),
    path("rescores/<int:job_id>/", views.job, name="job"),
]
