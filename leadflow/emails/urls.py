from django.urls import include, path

from leadflow.emails import (
    views,
    views_deliverability,
    views_preferences,
    views_suppression,
    views_topics,
)

app_name = "emails"
urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views_preferences.preference_centre, name="preferences"),
    path("e/o/<str:token>.gif", views.open_pixel, name="open"),
    path("e/c/<str:token>", views.click, name="click"),
    path("emails/topics/", views_topics.topic_list, name="topics"),
    path("emails/topics/new", views_topics.topic_edit, name="topic_new"),
    path("emails/topics/<int:topic_id>/edit", views_topics.topic_edit, name="topic_edit"),
    path("emails/topics/<int:topic_id>/delete", views_topics.topic_delete, name="topic_delete"),
    path("emails/suppression/", views_suppression.suppression_page, name="suppression"),
    path("emails/suppression/add", views_suppression.suppression_add, name="suppression_add"),
    path("emails/suppression/remove", views_suppression.suppression_remove,
         name="suppression_remove"),


    path("emails/deliverability/", views_deliverability.deliverability_page,
         name="deliverability"),
    # A provider's tracking webhooks (bounces, complaints): emails.provider_events.
    path("anymail/", include("anymail.urls")),
]
