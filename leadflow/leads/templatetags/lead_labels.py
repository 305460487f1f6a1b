"""Template filters that show stored codes in the reader's words (leads.labels decides)."""

from django import template

from leadflow.leads import labels

register = template.Library()

register.filter("source_label", labels.source_label)
register.filter("purpose_label", labels.purpose_label)
register.filter("consent_method_label", labels.consent_method_label)
register.filter("reason_label", labels.reason_label)
register.filter("touch_parts", labels.touch_parts)
