from __future__ import annotations

from pathlib import Path

import pytest

from .loading import TEMPLATES


@pytest.fixture
def templates() -> Path:
    return TEMPLATES
