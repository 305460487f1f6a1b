from django.urls import path

from leadflow.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:sub_id>/", views.detail, name="detail"),
    path("<int:sub_id>/deliveries/<int:delivery_id>/redeliver", views.redeliver,
         name="redeliver"),
    path("<int:sub_id>/<str:what>", views.action, name="action"),
]
