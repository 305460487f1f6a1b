from django.contrib import admin

from leadflow.routing.models import RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "priority", "team", "countries", "sources", "active")
    list_editable = ("priority", "active")
