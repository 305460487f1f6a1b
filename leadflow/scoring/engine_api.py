"""The three engine calls the rule editor makes (docs/scoring-editor.md), in one place.

The engine (leadflow.scoring.services.rescore / preview, leadflow.scoring.conditions)
is being rewritten beside the editor. Until it is merged, the editor runs on
`leadflow.scoring.engine_fallback`; switching is the two import lines below:

    from leadflow.scoring.services import RescoreResult, preview, rescore
    from leadflow.scoring.conditions import validate_conditions

and `REAL_ENGINE = True` (tests that need the rebuild of entries from rules run then).
"""

from leadflow.scoring.engine_fallback import RescoreResult, preview, rescore

# isort: split
from leadflow.scoring.engine_fallback import validate_conditions

# Whether rescore() rebuilds entries from the events and the current rules (the engine)
# or only re-adds the existing ledger (the fallback).
REAL_ENGINE = False

__all__ = ["REAL_ENGINE", "RescoreResult", "preview", "rescore", "validate_conditions"]
