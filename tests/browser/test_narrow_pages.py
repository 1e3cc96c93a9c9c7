"""The pages this release added or changed, at 390 px on the demo data: nothing scrolls sideways (a wide table
scrolls inside its own box), and axe-core finds no serious or critical violation on any of them."""

from __future__ import annotations

import sqlalchemy as sa

from foundation.grants.models import GrantRound, RoundStatus
from foundation.seed import DEMO_PASSWORD, seed
from foundation.venues.models import Booking

# Who visits (an email signs in first; None is an anonymous visitor), and the pages they open.
PAGES: dict[str | None, list[str]] = {
    None: [
        "/accessibility",
        "/privacy",
        "/contact",
        "/open-data",
        "/spaces/{space}/calendar",
    ],
    "admin@calne-youth.example": [
        "/dashboard",
        "/bookings",
        "/bookings?when=past",
        "/venues/requests",
        "/inbox",
        "/spaces/{space}/calendar?day=3",
        "/spaces/{space}/book",
    ],
    "staff@wypf.example": [
        "/staff/vetting",
        "/staff/outbox",
        "/staff/grants/grants",
        "/staff/grants/applications",
        "/scorecard",
        "/scorecard/rounds/{decided}",
        "/staff/grants/rounds/{in_review}",
    ],
    "panel@wypf.example": ["/panel", "/dashboard"],
}


def test_changed_pages_fit_a_phone_and_pass_the_accessibility_check(db, live_server, browse):  # type: ignore[no-untyped-def]  # noqa: ARG001
    list(seed())
    decided = db.session.scalar(sa.select(GrantRound.id).where(GrantRound.status == RoundStatus.DECIDED))
    in_review = db.session.scalar(sa.select(GrantRound.id).where(GrantRound.status == RoundStatus.IN_REVIEW))
    # The space with the most bookings, so its calendar shows booked and requested times as well as free.
    space = db.session.scalar(
        sa.select(Booking.space_id)
        .group_by(Booking.space_id)
        .order_by(sa.func.count().desc(), Booking.space_id)
    )
    db.session.commit()
    too_wide = []
    for email, paths in PAGES.items():
        visitor = browse(email or "anonymous")
        page = visitor.page
        page.set_viewport_size({"width": 390, "height": 844})
        if email:
            page.goto("/login")
            page.fill("#email", email)
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/dashboard")
        for path in paths:
            response = page.goto(path.format(decided=decided, space=space, in_review=in_review))
            assert response is not None and response.status == 200, f"{email}: {path}"
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                widest = page.evaluate(
                    "() => [...document.querySelectorAll('body *')].filter(e => !e.closest('.table-wrap') && e.getBoundingClientRect().right > 392)"
                    ".slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
                )
                too_wide.append(f"{path}: {width} px ({', '.join(widest)})")
            visitor.audited()
        visitor.assert_clean()
    assert too_wide == []
