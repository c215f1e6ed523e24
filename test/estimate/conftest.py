"""The estimate tests run on small synthetic data where some target patterns are
unseen in the source by construction: that warning is tested where it matters."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "test/estimate/" in str(item.fspath):
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore:.*never occur in the source:slicing.estimate.result.NoSourceSupportWarning"
                )
            )
