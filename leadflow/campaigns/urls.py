from django.urls import path

from leadflow.campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("<int:campaign_id>/<str:action>", views.campaign_action, name="action"),
    path("<int:campaign_id>/enrol/", views.enrol, name="enrol"),
    path("<int:campaign_id>/steps/add", views.step_add, name="step_add"),
    path("<int:campaign_id>/steps/<int:position>/", views.step_save, name="step_save"),
    path("<int:campaign_id>/steps/<int:position>/place", views.step_place, name="step_place"),
    path("<int:campaign_id>/steps/<int:position>/delete", views.step_delete,
         name="step_delete"),
]
