from django.urls import path

from leadflow.emails import views, views_preferences, views_senders

app_name = "emails"
urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views_preferences.preference_centre, name="preferences"),
    path("e/o/<str:token>.gif", views.open_pixel, name="open"),
    path("e/c/<str:token>", views.click, name="click"),
    path("emails/senders/", views_senders.sender_list, name="senders"),
    path("emails/senders/new", views_senders.sender_edit, name="sender_new"),
    path("emails/senders/<int:sender_id>/edit", views_senders.sender_edit, name="sender_edit"),
    path("emails/senders/<int:sender_id>/delete", views_senders.sender_delete,
         name="sender_delete"),
    path("emails/senders/<int:sender_id>/dns", views_senders.sender_dns, name="sender_dns"),
    path("emails/senders/<int:sender_id>/dns/check", views_senders.sender_dns_check,
         name="sender_dns_check"),
]
