from django.contrib import admin
from django.urls import include, path

from leadflow.server.api import api

urlpatterns = [
    path("", include("leadflow.server.urls")),
    path("leads/", include("leadflow.leads.urls")),
    path("leads/", include("leadflow.lifecycle.urls")),
    path("leads/", include("leadflow.routing.urls")),
    path("", include("leadflow.sales.urls")),
    path("stages/", include("leadflow.lifecycle.stage_urls")),
    path("notifications/", include("leadflow.notifications.urls")),
    path("reports/", include("leadflow.analytics.urls")),
    path("imports/", include("leadflow.imports.urls")),
    path("lists/", include("leadflow.lists.urls")),
    path("segments/", include("leadflow.segments.urls")),
    path("scoring/", include("leadflow.scoring.urls")),
    path("campaigns/", include("leadflow.campaigns.urls")),
    path("audit/", include("leadflow.audit.urls")),
    path("webhooks/", include("leadflow.webhooks.urls")),
    path("account/", include("leadflow.accounts.urls")),
    path("", include("leadflow.emails.urls")),
    path("", include("leadflow.capture.urls")),
    path("", include("leadflow.tracking.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
