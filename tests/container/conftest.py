"""
tests/container: the report of each phase on its test item, so that the
container fixture prints a failed test's `podman logs`.
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
