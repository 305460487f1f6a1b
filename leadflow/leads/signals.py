"""Hooks of the leads app. Leads stands below routing, campaigns, scoring... and imports
none of them: they connect their receivers in their AppConfig.ready(). Always sent with
send(), never send_robust(): a receiver's error rolls the caller's transaction back, as
the direct call it replaces did."""

from django.dispatch import Signal

# New leads to give an owner (`leads=[Lead, ...]`): sent by bulk_upsert with route=True
# once a chunk is written and its events dispatched, inside the chunk's transaction.
leads_to_route = Signal()

# Merges (leads.merge), all inside the merge's transaction:
# `merging` (keep, other): before other's rows move to keep. A receiver may answer a dict
# of lists of ids, stored in the audit's `moved` (so an undo finds them again).
merging = Signal()
# `merge_undone` (audit, keep, restored): the restored lead has its rows back.
merge_undone = Signal()
# `rows_moved` (lead_ids): a merge or its undo moved events and ledger rows between these
# leads; totals derived from them are stale.
rows_moved = Signal()
# `fields_changed` (lead_ids): lead columns were written by a path that records no event
# (a consent recorded through the API, a team set by routing); what derives from them
# (segment membership) is stale. Sent inside the writer's transaction.
fields_changed = Signal()
