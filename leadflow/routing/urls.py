from django.urls import path

from leadflow.routing import views

app_name = "routing"
urlpatterns = [
    path("<int:lead_id>/owner", views.change_owner, name="change_owner"),
]
