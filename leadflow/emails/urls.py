from django.urls import include, path

from leadflow.emails import (
    views,
    views_caps,
    views_deliverability,
    views_hub,
    views_preferences,
    views_senders,
    views_suppression,
    views_templates,
    views_topics,
)


def provider_webhooks() -> list:
    """django-anymail's tracking webhooks, of the providers usable as configured: inbound
    mail is not read, and a provider whose extra package is not installed (Amazon SES:
    boto3) or whose own secret is not set (MailerSend) would answer every request with
    an error."""
    from anymail.urls import urlpatterns
    from django.core.exceptions import ImproperlyConfigured

    usable = []
    for pattern in urlpatterns:
        if not (pattern.name or "").endswith("_tracking_webhook"):
            continue
        try:
            pattern.callback.view_class()
        except ImproperlyConfigured:  # anymail's "improperly installed/configured" errors
            continue
        usable.append(pattern)
    return usable


app_name = "emails"
urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views_preferences.preference_centre, name="preferences"),
    path("e/o/<str:token>.gif", views.open_pixel, name="open"),
    path("e/c/<str:token>", views.click, name="click"),
    path("emails/", views_hub.email_home, name="home"),
    path("emails/caps/", views_caps.cap_list, name="caps"),
    path("emails/caps/<int:cap_id>/edit", views_caps.cap_edit, name="cap_edit"),
    path("emails/caps/<int:cap_id>/delete", views_caps.cap_delete, name="cap_delete"),
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
    path("anymail/", include(provider_webhooks())),
    path("emails/senders/", views_senders.sender_list, name="senders"),
    path("emails/senders/new", views_senders.sender_edit, name="sender_new"),
    path("emails/senders/<int:sender_id>/edit", views_senders.sender_edit, name="sender_edit"),
    path("emails/senders/<int:sender_id>/delete", views_senders.sender_delete,
         name="sender_delete"),
    path("emails/senders/<int:sender_id>/dns", views_senders.sender_dns, name="sender_dns"),
    path("emails/senders/<int:sender_id>/dns/check", views_senders.sender_dns_check,
         name="sender_dns_check"),
    path("emails/templates/", views_templates.template_list, name="templates"),
    path("emails/templates/new/", views_templates.template_new, name="template_new"),
    path("emails/templates/<int:template_id>/", views_templates.template_edit,
         name="template_edit"),
    path("emails/templates/<int:template_id>/delete", views_templates.template_delete,
         name="template_delete"),
    path("emails/templates/<int:template_id>/preview/", views_templates.template_preview,
         name="template_preview"),
    path("emails/templates/<int:template_id>/test", views_templates.template_test,
         name="template_test"),
]
