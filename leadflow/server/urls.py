from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from leadflow.server import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says (and so do the admin and the
    # API docs, whose heads we do not write): the SVG icon answers it.
    path("favicon.ico", RedirectView.as_view(url=static("core/favicon.svg"), permanent=True),
         name="favicon"),
]
