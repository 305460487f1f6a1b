from django.urls import include, path

from leadflow.emails import views, views_deliverability, views_preferences

app_name = "emails"
urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views_preferences.preference_centre, name="preferences"),
    path("e/o/<str:token>.gif", views.open_pixel, name="open"),
    path("e/c/<str:token>", views.click, name="click"),
    path("emails/deliverability/", views_deliverability.deliverability_page,
         name="deliverability"),
    # A provider's tracking webhooks (bounces, complaints): emails.provider_events.
    path("anymail/", include("anymail.urls")),
]
