from django.urls import path

from leadflow.emails import views

app_name = "emails"
urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("e/o/<str:token>.gif", views.open_pixel, name="open"),
    path("e/c/<str:token>", views.click, name="click"),
]
