"""Hooks of the leads app. Leads stands below routing, campaigns, scoring... and imports
none of them: they connect their receivers in their AppConfig.ready(). Always sent with
send(), never send_robust(): a receiver's error rolls the caller's transaction back, as
the direct call it replaces did."""

from django.dispatch import Signal

# New leads to give an owner (`leads=[Lead, ...]`): sent by bulk_upsert with route=True
# once a chunk is written and its events dispatched, inside the chunk's transaction.
leads_to_route = Signal()
