from django.urls import path

from leadflow.emails import views, views_preferences

app_name = "emails"
urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views_preferences.preference_centre, name="preferences"),
    path("e/o/<str:token>.gif", views.open_pixel, name="open"),
    path("e/c/<str:token>", views.click, name="click"),
]
