"""What scoring tells the apps above it (they connect in their AppConfig.ready()).

`scores_rebuilt` is sent, inside the transaction, after a re-score outside the event
pipeline (a rule or group change, a late event, a merge) changed some leads' totals, with
  changes: {lead id: {group id: (total before, total after)}}, the primary group included,
  cause: why ("rule_change", "late_event", "merge", ...), shown in the stage history,
  notify: whether stage moves it causes run hand-offs and campaign entries (the editor's
    choice when saving a rule change; True for late events and merges).
Receivers return how many leads they moved (lifecycle: stage transitions), so that a preview
can count them.
"""

from django.dispatch import Signal

scores_rebuilt = Signal()
