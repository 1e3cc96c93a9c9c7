"""The accessibility check in every browser test can fail: a page with a serious violation is reported."""

from __future__ import annotations

from typing import Any

import pytest


def test_a_serious_accessibility_violation_is_reported(db, live_server, browse) -> None:  # noqa: ARG001
    visitor = browse("auditor")
    # An image without alternative text and a form field without a label: axe calls both critical.
    visitor.page.route(
        "**/accessibility-probe",
        lambda route: route.fulfill(
            content_type="text/html",
            body='<!doctype html><html lang="en"><head><title>Probe</title></head><body><main><h1>Probe</h1>'
            '<img src="/static/img/none.png"><input type="text"></main></body></html>',
        ),
    )
    visitor.page.goto("/accessibility-probe")
    visitor.audited()
    found: list[Any] = [p for p in visitor.problems if "axe critical" in p]
    assert any("image-alt" in p for p in found) and any("label" in p for p in found), visitor.problems
    visitor.problems.clear()
    with pytest.raises(AssertionError):
        visitor.problems.append("auditor: axe critical: image-alt")
        visitor.assert_clean()
