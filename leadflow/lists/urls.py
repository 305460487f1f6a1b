from django.urls import path

from leadflow.lists import views

app_name = "lists"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:list_id>/", views.detail, name="detail"),
    path("<int:list_id>/add", views.add, name="add"),
    path("<int:list_id>/remove", views.remove, name="remove"),
    path("<int:list_id>/delete", views.delete, name="delete"),
    path("sends/", views.sends, name="sends"),
    path("sends/new/", views.send_edit, name="send_new"),
    path("sends/<int:send_id>/", views.send_detail, name="send"),
    path("sends/<int:send_id>/edit/", views.send_edit, name="send_edit"),
    path("sends/<int:send_id>/start", views.send_start, name="send_start"),
    path("sends/<int:send_id>/cancel", views.send_cancel, name="send_cancel"),
]
