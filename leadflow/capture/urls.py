from django.urls import path

from leadflow.capture import builder_views, views

app_name = "capture"
urlpatterns = [
    path("f/confirm/<str:token>/", views.confirm, name="confirm"),
    path("f/<slug:slug>/", views.hosted_form, name="form"),
    path("f/<slug:slug>/definition.json", views.definition, name="definition"),
    path("f/<slug:slug>/submit", views.submit, name="submit"),
    path("f/<slug:slug>/embed.js", views.embed_js, name="embed_js"),
    path("f/<slug:slug>/download/<str:token>/", views.download, name="download"),
    path("forms/", builder_views.form_list, name="forms"),
    path("forms/new/", builder_views.form_edit, name="form_new"),
    path("forms/<int:form_id>/", builder_views.form_edit, name="form_edit"),
    path("forms/<int:form_id>/preview/", builder_views.form_preview, name="form_preview"),
    path("forms/<int:form_id>/fields/", builder_views.field_add, name="field_add"),
    path("forms/<int:form_id>/questions/", builder_views.question_add, name="question_add"),
    path("forms/<int:form_id>/fields/<int:field_id>/", builder_views.field_edit,
         name="field_edit"),
    path("forms/<int:form_id>/fields/<int:field_id>/delete", builder_views.field_delete,
         name="field_delete"),
    path("forms/<int:form_id>/fields/<int:field_id>/move", builder_views.field_move,
         name="field_move"),
    path("capture/quick-add/", builder_views.quick_add, name="quick_add"),
]
