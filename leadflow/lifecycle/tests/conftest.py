from collections.abc import Iterator

import pytest

from leadflow.lifecycle import stages


@pytest.fixture(autouse=True)
def _fresh_stage_cache() -> Iterator[None]:
    """A test that edits a stage leaves its rows rolled back but the cache filled."""
    stages.clear_cache()
    yield
    stages.clear_cache()
