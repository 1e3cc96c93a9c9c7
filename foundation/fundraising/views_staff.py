"""Fundraising for Foundation staff.

/staff/fundraising                  the campaigns by status (each status paged), what they raised, what waits
/staff/donations (and .csv)         donations, filtered, newest first; the same rows as a spreadsheet
/staff/donations/<id>               one donation: record an offline pledge's money as received, or cancel it
/staff/donations/messages           donors' messages waiting to be shown on the campaign page, or hidden
/staff/campaigns/<id>/match         match-funding pledges, what each has earned, and the funders' payments
/staff/campaigns/<id>/report (.csv) a campaign's money by calendar month (its lead organisation's admins too)

Each list is read in a fixed number of queries (joins, and sums in SQL), whatever the number of rows. The
donations list pages by seeking from the last row shown along an index of (happened_at, id), so a page costs the
same however far back it is; what waits for staff is read from partial indexes of just those rows.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy.orm import QueryableAttribute, contains_eager, joinedload

from foundation.db_setup import begin_write_transaction
from foundation.errors import Conflict, DomainError
from foundation.extensions import db
from foundation.fundraising import bp, campaigns, donations, match, report
from foundation.fundraising.forms_staff import (
    CancelPledgeForm,
    DonationFilterForm,
    MatchPaymentForm,
    MessageForm,
    PledgeForm,
)
from foundation.fundraising.models import (
    Campaign,
    CampaignStatus,
    Donation,
    DonationStatus,
    GiftAidClaimItem,
    GiftAidDeclaration,
    MatchPayment,
    MatchPledge,
    MessageStatus,
)
from foundation.ledger import service as ledger
from foundation.members.models import Organisation, OrganisationStatus
from foundation.navigation import staff_area
from foundation.pagination import Page, page_number, paginate
from foundation.payments import service as payments
from foundation.payments.forms import ReceivedForm
from foundation.payments.models import Payment
from foundation.permissions import deny, signed_in_user, staff_required
from foundation.types import LONDON, UTCDateTime, london_today
from foundation.web import safe_next, spreadsheet_safe, submit_form

# The order staff work in: campaigns waiting for their approval first.
STATUS_ORDER = (
    CampaignStatus.AWAITING_APPROVAL,
    CampaignStatus.LIVE,
    CampaignStatus.DRAFT,
    CampaignStatus.CLOSED,
)
SECTION_PER_PAGE = 25
MESSAGES_PER_PAGE = 50
RECENTLY_DECIDED = 10
CSV_CHUNK_CHARS = 64_000
CSV_HEADER = (
    "Donation id",
    "Date received",
    "Campaign",
    "Donor name",
    "Email",
    "Amount (£)",
    "Status",
    "Provider",
    "Provider reference",
    "Fee (£)",
    "Gift Aid declared",
    "Claim id",
)

# When a donation happened: when its money arrived, or else when it was given (a pledge, a checkout). The list
# pages through donations newest first by (WHEN, id), the order of an index.
WHEN = Donation.happened_at
DONATIONS_PER_PAGE = 50
# A place in that order, as the pages' links carry it: the row's time in UTC to the microsecond, and its id.
SEEK_KEY = re.compile(r"^([0-9]{8}T[0-9]{12})-([0-9]{1,10})$")
SEEK_TIME = "%Y%m%dT%H%M%S%f"
MAX_ID = 2**31 - 1
OFFLINE_PLEDGE = sa.and_(Donation.status == DonationStatus.PENDING, Payment.provider == "offline")
# Messages go on the campaign page once the gift is received and staff approve them.
WAITING_MESSAGE = sa.and_(
    Donation.message_status == MessageStatus.WAITING, Donation.status == DonationStatus.SUCCEEDED
)


def gift_aid_declared() -> sa.ColumnElement[bool]:
    """A Gift Aid declaration covers the donation (join GiftAidDeclaration): one was in force when the gift was
    received (or, for one not yet received, when it was given), and the donor had no benefit from it."""
    return sa.and_(
        Donation.declaration_id.is_not(None),
        Donation.has_benefit.is_(False),
        sa.or_(GiftAidDeclaration.cancelled_at.is_(None), GiftAidDeclaration.cancelled_at > WHEN),
    )


def _plain_pounds(pence: int) -> str:
    """Pence as pounds with two decimals and no symbol (12.50), as spreadsheets read money."""
    sign = "-" if pence < 0 else ""
    pounds, part = divmod(abs(pence), 100)
    return f"{sign}{pounds}.{part:02d}"


def _pounds(pence: int) -> str:
    pounds, part = divmod(pence, 100)
    return f"£{pounds:,}.{part:02d}"


def _start_of(day: date) -> datetime:
    """The moment a UK day begins."""
    return datetime.combine(day, time.min, tzinfo=LONDON)


def received_day(donation: Donation) -> date | None:
    """The day the money arrived: the date staff recorded for offline money, else when the provider said so."""
    if donation.payment is not None and donation.payment.received_on is not None:
        return donation.payment.received_on
    if donation.succeeded_at is not None:
        return donation.succeeded_at.astimezone(LONDON).date()
    return None


def _back(target: str | None, default: str) -> str:
    return safe_next(target) or default


# --- the campaigns at a glance ---------------------------------------------------------------------------------


def _section_order(status: CampaignStatus) -> tuple[sa.ColumnElement[Any] | QueryableAttribute[Any], ...]:
    if status is CampaignStatus.AWAITING_APPROVAL:  # the longest waiting first
        return (sa.func.coalesce(Campaign.submitted_at, Campaign.created_at), Campaign.id)
    if status is CampaignStatus.CLOSED:  # the latest closed first
        return (Campaign.closed_at.desc(), Campaign.id.desc())
    return (Campaign.starts_on, Campaign.id)


def _section_page(status: CampaignStatus, page: int, total: int) -> Page[Campaign]:
    """One page of a status's campaigns with their lead organisations (a page past the end shows the last)."""
    page = min(max(1, page), max(1, math.ceil(total / SECTION_PER_PAGE)))
    found = db.session.scalars(
        sa.select(Campaign)
        .join(Organisation, Organisation.id == Campaign.lead_organisation_id)
        .options(contains_eager(Campaign.lead_organisation))
        .where(Campaign.status == status)
        .order_by(*_section_order(status))
        .limit(SECTION_PER_PAGE)
        .offset((page - 1) * SECTION_PER_PAGE)
    )
    return Page(list(found), page, SECTION_PER_PAGE, total)


def _waiting() -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """Offline pledges not yet received (how many, how much) and messages not yet decided, per campaign. Each read
    walks only its partial index (what waits), never the donations already settled."""
    pledges = db.session.execute(
        sa.select(Donation.campaign_id, sa.func.count(Donation.id), sa.func.sum(Donation.amount_pence))
        .join(Payment, Payment.id == Donation.payment_id)
        .where(OFFLINE_PLEDGE)
        .group_by(Donation.campaign_id)
    ).tuples()
    messages = db.session.execute(
        sa.select(Donation.campaign_id, sa.func.count(Donation.id))
        .where(WAITING_MESSAGE)
        .group_by(Donation.campaign_id)
    ).tuples()
    return (
        {cid: (int(n), int(pence or 0)) for cid, n, pence in pledges},
        {cid: int(n) for cid, n in messages},
    )


staff_area(
    "Fundraising",
    "fundraising.staff_home",
    "Campaigns, donations, offline pledges, messages and match funding.",
    30,
)


@bp.get("/staff/fundraising")
@staff_required
def staff_home() -> ResponseReturnValue:
    # Each status is a section of its own, paged apart: `page` turns the pages of the section named by `section`
    # (the closed campaigns unless another is named); the others show their first page.
    paged = next((s for s in STATUS_ORDER if s.value == request.args.get("section")), CampaignStatus.CLOSED)
    totals = dict(
        db.session.execute(sa.select(Campaign.status, sa.func.count(Campaign.id)).group_by(Campaign.status))
        .tuples()
        .all()
    )
    sections = [
        (s, _section_page(s, page_number() if s is paged else 1, totals.get(s, 0))) for s in STATUS_ORDER
    ]
    shown = [c.id for _, section in sections for c in section.items]
    pledges, messages = _waiting()
    match_pledges = dict(
        db.session.execute(
            sa.select(MatchPledge.campaign_id, sa.func.count(MatchPledge.id))
            .where(MatchPledge.campaign_id.in_(shown))
            .group_by(MatchPledge.campaign_id)
        )
        .tuples()
        .all()
    )
    return render_template(
        "fundraising/staff_home.html",
        sections=sections,
        to_approve=totals.get(CampaignStatus.AWAITING_APPROVAL, 0),
        raised=donations.raised(shown),
        pledges=pledges,
        messages=messages,
        match_pledges=match_pledges,
        pledges_waiting=sum(n for n, _ in pledges.values()),
        pledges_waiting_pence=sum(p for _, p in pledges.values()),
        messages_waiting=sum(messages.values()),
    )


# --- donations: the list and the CSV ---------------------------------------------------------------------------


def _filter_form() -> tuple[DonationFilterForm, bool]:
    form = DonationFilterForm(formdata=request.args)
    form.offer(
        list(
            db.session.execute(
                sa.select(Campaign.id, Campaign.title).order_by(Campaign.title, Campaign.id)
            ).tuples()
        )
    )
    return form, form.validate()


def _filtered(stmt: sa.Select[Any], form: DonationFilterForm) -> sa.Select[Any]:
    """The donations the filters ask for (the statement joins Campaign, Payment and GiftAidDeclaration)."""
    if form.campaign.data is not None:
        stmt = stmt.where(Donation.campaign_id == form.campaign.data)
    status = form.status_value()
    if status is not None:
        stmt = stmt.where(Donation.status == status)
    if form.provider.data:
        stmt = stmt.where(Payment.provider == form.provider.data)
    # Money recorded by staff arrived on the day they give; otherwise the day is the provider's (or the pledge's).
    if form.from_date.data:
        day = form.from_date.data
        stmt = stmt.where(
            sa.or_(
                sa.and_(Payment.received_on.is_not(None), Payment.received_on >= day),
                sa.and_(Payment.received_on.is_(None), _start_of(day) <= WHEN),
            )
        )
    if form.to_date.data:
        day = form.to_date.data
        stmt = stmt.where(
            sa.or_(
                sa.and_(Payment.received_on.is_not(None), Payment.received_on <= day),
                sa.and_(Payment.received_on.is_(None), _start_of(day + timedelta(days=1)) > WHEN),
            )
        )
    if form.gift_aid.data == "yes":
        stmt = stmt.where(gift_aid_declared())
    elif form.gift_aid.data == "no":
        stmt = stmt.where(sa.not_(gift_aid_declared()))
    return stmt


def _joined(stmt: sa.Select[Any]) -> sa.Select[Any]:
    """Each donation with its campaign, payment, Gift Aid declaration and the claim it is in (one row each)."""
    return (
        stmt.join(Campaign, Campaign.id == Donation.campaign_id)
        .outerjoin(Payment, Payment.id == Donation.payment_id)
        .outerjoin(GiftAidDeclaration, GiftAidDeclaration.id == Donation.declaration_id)
        .outerjoin(GiftAidClaimItem, GiftAidClaimItem.donation_id == Donation.id)
    )


@dataclass(frozen=True)
class Seek:
    """A row's place in the newest-first order of the list: (happened_at, id)."""

    at: datetime
    id: int

    @classmethod
    def of(cls, donation: Donation) -> Seek:
        return cls(donation.happened_at, donation.id)

    @classmethod
    def parse(cls, raw: str | None) -> Seek | None:
        """The place a link carries; None for anything that is not one (the list then starts at its newest)."""
        found = SEEK_KEY.match(raw or "")
        if found is None or int(found.group(2)) > MAX_ID:
            return None
        try:
            at = datetime.strptime(found.group(1), SEEK_TIME).replace(tzinfo=UTC)
        except ValueError:
            return None
        return cls(at, int(found.group(2)))

    @property
    def key(self) -> str:
        return f"{self.at.astimezone(UTC).strftime(SEEK_TIME)}-{self.id}"

    def _row(self) -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any]]:
        return sa.literal(self.at, UTCDateTime()), sa.literal(self.id, sa.Integer())

    def before(self) -> sa.ColumnElement[bool]:
        """Rows older than this place (later in the list)."""
        return sa.tuple_(WHEN, Donation.id) < sa.tuple_(*self._row())

    def after(self) -> sa.ColumnElement[bool]:
        """Rows newer than this place (earlier in the list)."""
        return sa.tuple_(WHEN, Donation.id) > sa.tuple_(*self._row())


@dataclass(frozen=True)
class DonationsPage:
    """The rows shown, newest first, and the places of the pages either side (None: there is none)."""

    items: list[Donation]
    newer: Seek | None
    older: Seek | None
    total: int | None  # counted only where it is cheap (one campaign's donations)


def _donations_page(form: DonationFilterForm) -> DonationsPage:
    """The page the links ask for (`older`: the rows after a place, `newer`: the rows before one; neither: the
    newest), read by seeking along the index from that place instead of counting past the earlier pages."""
    rows = _filtered(
        _joined(sa.select(Donation)).options(
            contains_eager(Donation.campaign),
            contains_eager(Donation.payment),
            contains_eager(Donation.declaration),
        ),
        form,
    )
    limit = DONATIONS_PER_PAGE
    older_than = Seek.parse(request.args.get("older"))
    newer_than = None if older_than else Seek.parse(request.args.get("newer"))
    if newer_than is not None:
        found = list(
            db.session.scalars(
                rows.where(newer_than.after()).order_by(WHEN, Donation.id).limit(limit + 1)
            ).unique()
        )
        if found:
            items = found[:limit][::-1]
            last = Seek.of(items[-1])
            return DonationsPage(
                items,
                newer=Seek.of(items[0]) if len(found) > limit else None,
                older=last if _exists(form, last.before()) else None,
                total=_count(form),
            )
        # Nothing is newer (the rows have changed since the link was made): the newest page.
    stmt = rows.order_by(WHEN.desc(), Donation.id.desc()).limit(limit + 1)
    if older_than is not None:
        stmt = stmt.where(older_than.before())
    found = list(db.session.scalars(stmt).unique())
    items = found[:limit]
    newer = None
    if older_than is not None:
        first = Seek.of(items[0]) if items else older_than
        newer = first if _exists(form, first.after()) else None
    return DonationsPage(
        items,
        newer=newer,
        older=Seek.of(items[-1]) if len(found) > limit else None,
        total=_count(form),
    )


def _exists(form: DonationFilterForm, where: sa.ColumnElement[bool]) -> bool:
    """Whether any row the filters select is on the other side of a place (one row read along the index)."""
    first = db.session.scalar(_filtered(_joined(sa.select(Donation.id)), form).where(where).limit(1))
    return first is not None


def _count(form: DonationFilterForm) -> int | None:
    """How many donations to one campaign (of one status), read from an index of the campaign's rows; None when
    the list covers every campaign or filters by more, where counting would read the whole table."""
    if form.campaign.data is None or any(
        (form.provider.data, form.from_date.data, form.to_date.data, form.gift_aid.data)
    ):
        return None
    stmt = sa.select(sa.func.count(Donation.id)).where(Donation.campaign_id == form.campaign.data)
    status = form.status_value()
    if status is not None:
        stmt = stmt.where(Donation.status == status)
    return int(db.session.scalar(stmt) or 0)


def _render_list(form: DonationFilterForm, valid: bool) -> ResponseReturnValue:
    return render_template(
        "fundraising/staff_donations.html",
        form=form,
        donations=_donations_page(form) if valid else None,
        filters=form.query_args() if valid else {},
        received_day=received_day,
        declared=_declared,
    ), (200 if valid else 400)


def _declared(donation: Donation) -> bool:
    """gift_aid_declared() for a loaded donation."""
    if donation.declaration is None or donation.has_benefit:
        return False
    cancelled = donation.declaration.cancelled_at
    return cancelled is None or cancelled > (donation.succeeded_at or donation.created_at)


@bp.get("/staff/donations")
@staff_required
def staff_donations() -> ResponseReturnValue:
    return _render_list(*_filter_form())


def _csv_received_on(row: sa.Row[Any]) -> date | None:
    if row.received_on is None and row.succeeded_at is not None:
        received_on: date = row.succeeded_at.astimezone(LONDON).date()
        return received_on
    found: date | None = row.received_on
    return found


def _csv_order(row: sa.Row[Any]) -> tuple[date, datetime, int]:
    happened_at: datetime = row.happened_at
    return _csv_received_on(row) or happened_at.astimezone(LONDON).date(), happened_at, row.id


def _csv_cells(row: sa.Row[Any]) -> list[str]:
    received_on = _csv_received_on(row)
    if row.provider == "offline":
        reference = row.received_reference or ""
    else:
        reference = row.payment_reference or row.checkout_reference or ""
    cells = [
        str(row.id),
        received_on.isoformat() if received_on else "",
        row.title,
        row.donor_name,
        row.donor_email,
        _plain_pounds(row.amount_pence),
        row.status.label,
        row.provider or "",
        reference,
        _plain_pounds(row.fee_pence) if row.fee_pence is not None else "",
        row.gift_aid,
        str(row.claim_id) if row.claim_id is not None else "",
    ]
    return [spreadsheet_safe(cell) for cell in cells]


@bp.get("/staff/donations.csv")
@staff_required
def staff_donations_csv() -> ResponseReturnValue:
    form, valid = _filter_form()
    if not valid:
        return _render_list(form, valid)
    stmt = _filtered(
        _joined(
            sa.select(
                Donation.id,
                Payment.received_on,
                Donation.succeeded_at,
                Campaign.title,
                Donation.donor_name,
                Donation.donor_email,
                Donation.amount_pence,
                Donation.status,
                Payment.provider,
                Payment.payment_reference,
                Payment.checkout_reference,
                Payment.received_reference,
                Payment.fee_pence,
                sa.case((gift_aid_declared(), "yes"), else_="no").label("gift_aid"),
                GiftAidClaimItem.claim_id,
                WHEN.label("happened_at"),
            ).select_from(Donation)
        ),
        form,
    )
    # In the order the money arrived (the day staff give for money that came offline), then the rest as given.
    rows = sorted(db.session.execute(stmt).all(), key=_csv_order)

    def chunks() -> Iterator[str]:
        # The rows are read in the view (one query); the file is written out as it is sent.
        buffer = io.StringIO()
        buffer.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        for row in rows:
            writer.writerow(_csv_cells(row))
            if buffer.tell() > CSV_CHUNK_CHARS:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"donations-{london_today().isoformat()}.csv"
    return Response(
        chunks(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


# --- one donation: offline money -------------------------------------------------------------------------------


def _donation(donation_id: int) -> Donation:
    found: Donation | None = db.session.scalar(
        _joined(sa.select(Donation))
        .where(Donation.id == donation_id)
        .options(
            contains_eager(Donation.campaign),
            contains_eager(Donation.payment),
            contains_eager(Donation.declaration),
            joinedload(Donation.moderated_by),
        )
    )
    if found is None:
        abort(404)
    return found


def _render_donation(
    donation: Donation,
    received_form: ReceivedForm | None = None,
    cancel_form: CancelPledgeForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    back = safe_next(request.values.get("next")) or ""
    payment = donation.payment
    offline = payment is not None and payment.provider == "offline"
    return render_template(
        "fundraising/staff_donation.html",
        donation=donation,
        payment=payment,
        received_day=received_day(donation),
        declared=_declared(donation),
        claim_id=db.session.scalar(
            sa.select(GiftAidClaimItem.claim_id).where(GiftAidClaimItem.donation_id == donation.id)
        ),
        can_receive=offline and donation.status in (DonationStatus.PENDING, DonationStatus.FAILED),
        can_cancel=offline and donation.status is DonationStatus.PENDING,
        received_form=received_form or ReceivedForm(formdata=None, data={"next": back}),
        cancel_form=cancel_form or CancelPledgeForm(formdata=None, prefix="cancel", data={"next": back}),
        message_form=MessageForm(formdata=None, data={"next": request.path}),
        back=back,
    ), status


@bp.get("/staff/donations/<int:donation_id>")
@staff_required
def staff_donation(donation_id: int) -> ResponseReturnValue:
    return _render_donation(_donation(donation_id))


def _record_received(donation: Donation, form: ReceivedForm) -> Payment:
    if donation.payment_id is None:
        raise Conflict("This donation has no payment to record.")
    assert form.received_on.data is not None  # the form required it
    return payments.record_received(
        donation.payment_id,
        signed_in_user(),
        form.received_by_value(),
        form.received_on.data,
        form.reference.data or "",
    )


@bp.post("/staff/donations/<int:donation_id>/received")
@staff_required
def donation_received(donation_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    donation = _donation(donation_id)
    form = ReceivedForm()
    outcome = submit_form(form, lambda: _record_received(donation, form))
    if not outcome.done:
        # a refused action was rolled back: the donation is read afresh
        return _render_donation(_donation(donation_id), received_form=form, status=outcome.status)
    flash(
        f"{_pounds(donation.amount_pence)} from {donation.donor_name} is recorded as received. "
        f"A receipt is on its way to {donation.donor_email}.",
        "success",
    )
    return redirect(
        _back(form.next.data, url_for("fundraising.staff_donation", donation_id=donation_id)), 303
    )


def _cancel(donation: Donation, form: CancelPledgeForm) -> Payment:
    if donation.payment_id is None:
        raise Conflict("This donation has no payment to cancel.")
    return payments.cancel_pledge(donation.payment_id, signed_in_user(), form.reason.data or "")


@bp.post("/staff/donations/<int:donation_id>/cancel")
@staff_required
def donation_cancel(donation_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    donation = _donation(donation_id)
    form = CancelPledgeForm(prefix="cancel")
    outcome = submit_form(form, lambda: _cancel(donation, form))
    if not outcome.done:
        return _render_donation(_donation(donation_id), cancel_form=form, status=outcome.status)
    flash(
        f"The pledge of {_pounds(donation.amount_pence)} from {donation.donor_name} is cancelled.", "success"
    )
    return redirect(
        _back(form.next.data, url_for("fundraising.staff_donation", donation_id=donation_id)), 303
    )


# --- messages --------------------------------------------------------------------------------------------------


def _render_messages(
    refused: tuple[int, MessageForm] | None = None, status: int = 200
) -> ResponseReturnValue:
    waiting = paginate(
        sa.select(Donation)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .where(WAITING_MESSAGE)
        .options(contains_eager(Donation.campaign))
        .order_by(Donation.succeeded_at, Donation.id),
        page_number(),
        MESSAGES_PER_PAGE,
    )
    # The latest decisions, with who took them: a message shown by mistake is found and hidden again here.
    decided = list(
        db.session.scalars(
            sa.select(Donation)
            .join(Campaign, Campaign.id == Donation.campaign_id)
            .where(Donation.moderated_at.is_not(None))
            .options(contains_eager(Donation.campaign), joinedload(Donation.moderated_by))
            .order_by(Donation.moderated_at.desc(), Donation.id.desc())
            .limit(RECENTLY_DECIDED)
        )
    )
    return render_template(
        "fundraising/staff_messages.html",
        waiting=waiting,
        decided=decided,
        form=MessageForm(formdata=None, data={"next": request.full_path if request.method == "GET" else ""}),
        refused=refused,
    ), status


@bp.get("/staff/donations/messages")
@staff_required
def staff_messages() -> ResponseReturnValue:
    return _render_messages()


@bp.post("/staff/donations/<int:donation_id>/message")
@staff_required
def donation_message(donation_id: int) -> ResponseReturnValue:
    donation = db.get_or_404(Donation, donation_id)
    form = MessageForm()
    outcome = submit_form(
        form, lambda: donations.moderate_message(donation, form.decision_value(), signed_in_user())
    )
    if not outcome.done:
        return _render_messages(refused=(donation_id, form), status=outcome.status)
    shown = donation.message_status is MessageStatus.SHOWN
    flash(
        f"The message from {donation.donor_name} is {'shown on' if shown else 'hidden from'} the campaign page.",
        "success",
    )
    return redirect(_back(form.next.data, url_for("fundraising.staff_messages")), 303)


# --- match funding ---------------------------------------------------------------------------------------------


def _organisation_choices() -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            sa.select(Organisation.id, Organisation.name)
            .where(Organisation.status == OrganisationStatus.APPROVED)
            .order_by(Organisation.name, Organisation.id)
        ).tuples()
    )


def _render_match(
    campaign: Campaign,
    pledge_form: PledgeForm | None = None,
    payment_form: tuple[int, MatchPaymentForm] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    pledges = match.matched([campaign.id])[campaign.id]
    paid: dict[int, list[MatchPayment]] = {m.pledge.id: [] for m in pledges}
    if pledges:
        for p in db.session.scalars(
            sa.select(MatchPayment)
            .where(MatchPayment.pledge_id.in_(list(paid)))
            .order_by(MatchPayment.received_on, MatchPayment.id)
        ):
            paid[p.pledge_id].append(p)
    if pledge_form is None:
        pledge_form = PledgeForm(
            formdata=None,
            data={
                "window_starts_on": campaign.starts_on,
                "window_ends_on": campaign.ends_on,
                "trigger_percent": 0,
            },
        )
        pledge_form.offer(_organisation_choices())
    payment_forms = {
        m.pledge.id: MatchPaymentForm(formdata=None, prefix=f"pay{m.pledge.id}") for m in pledges
    }
    if payment_form is not None:
        payment_forms[payment_form[0]] = payment_form[1]
    return render_template(
        "fundraising/staff_match.html",
        campaign=campaign,
        pledges=pledges,
        paid=paid,
        raised=donations.raised([campaign.id])[campaign.id],
        held=ledger.balances([campaign.account_code])[campaign.account_code],
        pledge_form=pledge_form,
        payment_forms=payment_forms,
        ratio_words=match.ratio_words,
        earned_total=sum(m.earned_pence for m in pledges),
        received_total=sum(m.received_pence for m in pledges),
        outstanding_total=sum(m.outstanding_pence for m in pledges),
    ), status


def _terms(form: PledgeForm) -> match.PledgeTerms:
    organisation = None
    if form.organisation.data is not None:
        organisation = db.session.get(Organisation, form.organisation.data)
        if organisation is None or organisation.status is not OrganisationStatus.APPROVED:
            raise DomainError("Choose a member organisation from the list.", field="organisation")
    assert form.ratio.data is not None and form.cap.data is not None  # the form required them
    assert form.window_starts_on.data is not None and form.window_ends_on.data is not None
    return match.PledgeTerms(
        funder_name=form.funder_name.data or "",
        ratio_percent=form.ratio.data,
        cap_pence=form.cap.data,
        trigger_percent=form.trigger_percent.data or 0,
        window_starts_on=form.window_starts_on.data,
        window_ends_on=form.window_ends_on.data,
        organisation=organisation,
    )


@bp.route("/staff/campaigns/<int:campaign_id>/match", methods=["GET", "POST"])
@staff_required
def staff_match(campaign_id: int) -> ResponseReturnValue:
    if request.method == "GET":
        return _render_match(db.get_or_404(Campaign, campaign_id))
    begin_write_transaction()
    campaign = db.get_or_404(Campaign, campaign_id)
    form = PledgeForm()
    form.offer(_organisation_choices())
    outcome = submit_form(form, lambda: match.pledge(campaign, _terms(form), signed_in_user()))
    if not outcome.done:
        return _render_match(db.get_or_404(Campaign, campaign_id), pledge_form=form, status=outcome.status)
    pledge: MatchPledge = outcome.result
    flash(
        f"{pledge.funder_name} matches {match.ratio_words(pledge.ratio_percent)} up to {_pounds(pledge.cap_pence)}.",
        "success",
    )
    return redirect(
        url_for("fundraising.staff_match", campaign_id=campaign_id, _anchor=f"pledge-{pledge.id}"), 303
    )


def _record_match_payment(pledge: MatchPledge, form: MatchPaymentForm) -> MatchPayment:
    assert form.amount.data is not None and form.received_on.data is not None  # the form required them
    return match.record_payment(
        pledge, form.amount.data, form.received_on.data, form.reference.data or "", signed_in_user()
    )


@bp.post("/staff/campaigns/<int:campaign_id>/match/<int:pledge_id>/payments")
@staff_required
def match_payment(campaign_id: int, pledge_id: int) -> ResponseReturnValue:
    begin_write_transaction()
    pledge = db.session.get(MatchPledge, pledge_id)
    if pledge is None or pledge.campaign_id != campaign_id:
        abort(404)
    form = MatchPaymentForm(prefix=f"pay{pledge_id}")
    outcome = submit_form(form, lambda: _record_match_payment(pledge, form))
    if not outcome.done:
        return _render_match(
            db.get_or_404(Campaign, campaign_id), payment_form=(pledge_id, form), status=outcome.status
        )
    assert form.amount.data is not None
    flash(f"{_pounds(form.amount.data)} from {pledge.funder_name} is recorded.", "success")
    return redirect(
        url_for("fundraising.staff_match", campaign_id=campaign_id, _anchor=f"pledge-{pledge_id}"), 303
    )


# --- a campaign's money by month -------------------------------------------------------------------------------

REPORT_HEADER = (
    "Month",
    "Gifts",
    "Donations received (£)",
    "Gifts refunded",
    "Refunds (£)",
    "Gift Aid claimed (£)",
    "Gift Aid deducted for refunds (£)",
    "Gift Aid received (£)",
    "Match funding received (£)",
    "Provider fees (£)",
    "Passed on at close (£)",
)


def _reported(campaign_id: int) -> Campaign:
    """A campaign whose report the signed-in person may read: staff, and the lead organisation's admins, as for
    the campaign's own page. Others are refused a public campaign and told nothing of any other."""
    user = signed_in_user()
    found = db.session.scalar(
        sa.select(Campaign)
        .where(Campaign.id == campaign_id)
        .options(joinedload(Campaign.lead_organisation), joinedload(Campaign.destination))
    )
    if found is None:
        abort(404)
    if not campaigns.can_manage(user, found):
        if found.status in (CampaignStatus.LIVE, CampaignStatus.CLOSED):
            deny(403, f"campaign {campaign_id} report: not the lead")
        abort(404)
    return found


@bp.get("/staff/campaigns/<int:campaign_id>/report")
@login_required
def staff_campaign_report(campaign_id: int) -> ResponseReturnValue:
    found = _reported(campaign_id)
    return render_template(
        "fundraising/staff_report.html",
        campaign=found,
        report=report.campaign_report(found),
        kept=donations.raised([found.id])[found.id],
        destination=campaigns.destination_label(found.destination),
        staff=signed_in_user().is_staff,
    )


def _report_cells(month: str, row: report.MonthFigures) -> list[str]:
    cells = [
        month,
        str(row.gifts),
        _plain_pounds(row.donations_pence),
        str(row.refunds),
        _plain_pounds(row.refunds_pence),
        _plain_pounds(row.gift_aid_claimed_pence),
        _plain_pounds(row.gift_aid_deducted_pence),
        _plain_pounds(row.gift_aid_received_pence),
        _plain_pounds(row.match_pence),
        _plain_pounds(row.fees_pence),
        _plain_pounds(row.passed_on_pence),
    ]
    return [spreadsheet_safe(cell) for cell in cells]


@bp.get("/staff/campaigns/<int:campaign_id>/report.csv")
@login_required
def staff_campaign_report_csv(campaign_id: int) -> ResponseReturnValue:
    found = _reported(campaign_id)
    figures = report.campaign_report(found)
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    if not figures.before.is_empty:
        writer.writerow(_report_cells("Earlier", figures.before))
    for row in figures.months:
        assert row.month is not None
        writer.writerow(_report_cells(row.month.strftime("%Y-%m"), row))
    writer.writerow(_report_cells("Total", figures.total))
    filename = f"{found.slug}-by-month-{london_today().isoformat()}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
