"""What segments tell the apps above them (campaigns connect in their AppConfig.ready()).

`membership_changed` is sent with send() inside the transaction that changed membership,
once per segment and change: `segment_id: int, entered: list[int], left: list[int]` (lead
ids, sorted). A receiver's error rolls the change back (docs/architecture.md, "Layers").
"""

from django.dispatch import Signal

membership_changed = Signal()
