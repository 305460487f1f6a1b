"""What lists tell the apps above them (they connect in their AppConfig.ready()). Sent
with send() inside the writer's transaction.

`members_changed` (list_id, lead_ids): these leads were put on the list or taken off it
(segments reading the list re-evaluate them).
"""

from django.dispatch import Signal

members_changed = Signal()
