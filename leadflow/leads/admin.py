from django.contrib import admin

from leadflow.leads.models import Company, Consent, CustomFieldDefinition, Lead


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    can_delete = False
    readonly_fields = ("purpose", "action", "text_version", "method", "ip", "page_url",
                       "recorded_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False  # the ledger is written by the services, with proof


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "stage", "score", "owner", "source", "created_at")
    list_filter = ("stage", "channel", "do_not_email")
    search_fields = ("email", "first_name", "last_name", "company_name", "external_id")
    list_select_related = ("owner",)
    raw_id_fields = ("owner", "company")
    show_full_result_count = False  # COUNT(*) on millions of rows is slow
    readonly_fields = ("score", "fit_score", "engagement_score", "interest_score", "stage",
                       "stage_changed_at", "first_touch", "last_touch", "first_touch_at",
                       "last_touch_at", "created_at", "updated_at", "assigned_at")
    inlines = [ConsentInline]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "size", "industry", "country")
    search_fields = ("name", "domain")


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "type")
