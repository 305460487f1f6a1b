from django.urls import path

from leadflow.emails import views, views_preferences, views_templates

app_name = "emails"
urlpatterns = [
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("p/<str:token>", views_preferences.preference_centre, name="preferences"),
    path("e/o/<str:token>.gif", views.open_pixel, name="open"),
    path("e/c/<str:token>", views.click, name="click"),
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
