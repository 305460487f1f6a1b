from django.urls import path

from leadflow.leads import views, views_data, views_duplicates, views_edit, views_retention

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("export.csv", views_data.export_csv, name="export_csv"),
    path("duplicates/", views_duplicates.duplicates, name="duplicates"),
    path("duplicates/<int:suggestion_id>/merge", views_duplicates.merge_pair, name="merge"),
    path("duplicates/<int:suggestion_id>/dismiss", views_duplicates.dismiss_pair,
         name="dismiss"),
    path("merges/<int:merge_id>/undo", views_duplicates.undo_merge, name="undo_merge"),
    path("retention/", views_retention.retention_page, name="retention"),
    path("<int:lead_id>/", views.lead_detail, name="detail"),
    path("<int:lead_id>/edit", views_edit.edit_profile, name="edit"),
    path("<int:lead_id>/export.json", views_data.export_person, name="export_person"),
    path("<int:lead_id>/consent/withdraw", views_data.withdraw_consent,
         name="withdraw_consent"),
    path("<int:lead_id>/erase", views_data.erase, name="erase"),
]
