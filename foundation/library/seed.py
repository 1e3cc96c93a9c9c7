"""Library demo data: a dozen resources shared by demo organisations, most approved by staff (with downloads),
one waiting for review, one with a second version. Built through the services; each looked up by its title first."""

from __future__ import annotations

import io
from collections.abc import Iterator

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from foundation.extensions import db
from foundation.library import services
from foundation.library.models import LibraryResource, Licence, ResourceKind, Topic
from foundation.members.models import Organisation, User
from foundation.seed import demo_data
from foundation.uploads import simple_pdf

K, L, T = ResourceKind, Licence, Topic
# title, kind, licence, topics, summary, link (None: a PDF), sharer's email, downloads
RESOURCES = [
    ("Safeguarding policy template for small youth groups", K.POLICY_TEMPLATE, L.CC_BY_SA,
     [T.SAFEGUARDING, T.GOVERNANCE],
     "A plain-English safeguarding policy for volunteer-led clubs, with spaces for your designated lead and local "
     "contacts. Reviewed against the latest statutory guidance.", None, "admin@calne-youth.example", 41),
    ("Running a youth forum that young people want to come to", K.GUIDE, L.CC_BY,
     [T.YOUTH_VOICE, T.INCLUSION],
     "How we set up a forum where young people choose the agenda, chair the meeting and see what changed.", None,
     "youthworker@wypf.example", 17),
    ("First aid kit checklist and incident log", K.POLICY_TEMPLATE, L.CC_BY, [T.FIRST_AID],
     "What to keep in a club's first aid kit, who checks it and when, and a one-page incident log.", None,
     "admin@calne-youth.example", 23),
    ("Session plan: talking about feelings through football", K.SESSION_PLAN, L.CC_BY_SA,
     [T.MENTAL_HEALTH, T.YOUTH_VOICE],
     "A 90-minute session mixing small-sided games with short conversations about stress and friendships.", None,
     "youthworker@wypf.example", 12),
    ("Writing a winning small grant application", K.FUNDING_TIP, L.MEMBERS_ONLY, [T.FUNDRAISING],
     "Ten things panels look for, with examples from funded bids under £5,000.", None,
     "admin@calne-youth.example", 35),
    ("Trustee induction pack", K.GUIDE, L.CC_BY, [T.GOVERNANCE],
     "What new trustees of a youth charity need to know in their first three months.", None,
     "youthworker@wypf.example", 8),
    ("Online safety: a guide for youth workers", K.GUIDE, L.OGL, [T.DIGITAL, T.SAFEGUARDING],
     "Government guidance on keeping young people safe online, from group chats to live streaming.",
     "https://www.gov.uk/government/publications/education-for-a-connected-world", "youthworker@wypf.example", 29),
    ("Making your club accessible to disabled young people", K.GUIDE, L.CC_BY, [T.INCLUSION],
     "Practical changes to sessions, venues and communication, most of them free.", None,
     "admin@calne-youth.example", 14),
    ("Mental health first aid: signposting card", K.SESSION_PLAN, L.CC_BY_SA, [T.MENTAL_HEALTH, T.FIRST_AID],
     "A pocket card of local and national services for young people in crisis, with what to say first.", None,
     "youthworker@wypf.example", 19),
    ("Crowdfunding for youth projects: what worked for us", K.FUNDING_TIP, L.CC_BY, [T.FUNDRAISING, T.DIGITAL],
     "How a small club raised £3,200 online in six weeks, and the mistakes we would not make again.", None,
     "admin@calne-youth.example", 6),
    ("Charity Commission guidance for trustees", K.GUIDE, L.OGL, [T.GOVERNANCE],
     "The essential trustee guidance (CC3): what trustees must do and how to do it.",
     "https://www.gov.uk/government/publications/the-essential-trustee-what-you-need-to-know-cc3",
     "admin@calne-youth.example", 11),
]  # fmt: skip
WAITING = (
    "Digital consent form for photos and videos", K.POLICY_TEMPLATE, L.CC_BY, [T.DIGITAL, T.SAFEGUARDING],
    "A consent form for parents and young people covering photos, video and social media, with a plain-English "
    "version for under-13s.", None, "youthworker@wypf.example", 0,
)  # fmt: skip
TWO_VERSIONS = "Safeguarding policy template for small youth groups"


@demo_data("library", order=70)
def seed_library() -> Iterator[str]:
    with current_app.test_request_context("/"):  # the services link to pages in their notifications
        yield from _seed()


def _pdf(title: str, version: int) -> FileStorage:
    data = simple_pdf(
        title, [f"Version {version}", "Shared through the Wiltshire Young People's Foundation."]
    )
    name = "".join(ch if ch.isalnum() else "-" for ch in title.lower())[:60].strip("-") + ".pdf"
    return FileStorage(io.BytesIO(data), filename=name, content_type="application/pdf")


def _seed() -> Iterator[str]:
    staff = db.session.scalar(sa.select(User).where(User.email == "staff@wypf.example"))
    if staff is None:
        return
    for row in (*RESOURCES, WAITING):
        title, kind, licence, topics, summary, link, email, downloads = row
        if db.session.scalar(sa.select(LibraryResource.id).where(LibraryResource.title == title)) is not None:
            continue
        sharer = db.session.scalar(sa.select(User).where(User.email == email))
        if sharer is None or not sharer.memberships:
            continue
        organisation = db.session.get(Organisation, sharer.memberships[0].organisation_id)
        assert organisation is not None
        details = services.ResourceDetails(title, summary, kind, licence, topics, link)
        resource = services.submit(details, None if link else _pdf(title, 1), sharer, organisation)
        if row is WAITING:
            yield f"library resource {title} (waiting for review)"
            continue
        services.approve(resource, staff)
        if title == TWO_VERSIONS:
            services.replace_file(resource, _pdf(title, 2), "Updated for the new statutory guidance.", sharer)
            services.approve(resource, staff)
        resource.download_count = downloads
        yield f"library resource {title}"
