from __future__ import annotations

import pytest

from accesspath.catalog import ServiceCatalog, get_catalog


@pytest.fixture(scope="session")
def catalog() -> ServiceCatalog:
    return get_catalog()
