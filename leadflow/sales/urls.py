from django.urls import path

from leadflow.sales import views

app_name = "sales"
urlpatterns = [
    path("leads/<int:lead_id>/activities", views.log_activity, name="log_activity"),
    path("leads/<int:lead_id>/tasks", views.add_task, name="add_task"),
    path("leads/<int:lead_id>/tasks/<int:task_id>/done", views.toggle_task, name="toggle_task"),
    path("leads/<int:lead_id>/opportunities", views.open_opportunity, name="open_opportunity"),
    path("leads/<int:lead_id>/opportunities/<int:opportunity_id>/close",
         views.close_opportunity, name="close_opportunity"),
    path("tasks/", views.my_tasks, name="my_tasks"),
]
