"""Monitoring returns for won bids.

/bids/returns/<return>                                        a partner's return: its people fill it in and save it;
                                                              staff and the lead's admins read it
/bids/returns/<return>/submit                                 save and submit it (POST)
/bids/awards/<award>/reporting/<reporting date>               the consolidated return for the funder (staff and the
                                                              lead's admins)
/bids/awards/<award>/reporting/<reporting date>.csv           the same, per partner and per town, as CSV

A return is the partner's: anyone who is neither its people nor one of the bid's managers is told it does not
exist (404), and only its own people change it (the managers get 403). The consolidated return is the managers':
the rest of the consortium gets 403, anyone else 404.
"""

from __future__ import annotations

import csv
import io

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from foundation.bids import bids, bp, monitoring
from foundation.bids.forms_monitoring import ReturnForm
from foundation.bids.models import TOWNS, AwardReportingDate, BudgetCategory, MonitoringReturn
from foundation.permissions import deny, signed_in_user
from foundation.types import LONDON, london_today
from foundation.web import spreadsheet_safe, submit_form


def _return(return_id: int, write: bool = False) -> MonitoringReturn:
    user = signed_in_user()
    ret = monitoring.load_return(return_id)
    if ret is None or not monitoring.can_read_return(user, ret):
        deny(404, f"monitoring return {return_id} is not theirs")
    if write and not monitoring.can_write_return(user, ret):
        deny(403, "only the partner's own people write its monitoring return")
    return ret


def render_return(
    ret: MonitoringReturn, status: int = 200, form: ReturnForm | None = None
) -> ResponseReturnValue:
    user = signed_in_user()
    today = london_today()
    if form is None:
        form = ReturnForm(formdata=None)
        form.fill(ret)
    bid = ret.reporting_date.award.bid
    spent = {row.category: row.amount_pence for row in ret.spend_rows}
    return render_template(
        "bids/return.html",
        ret=ret,
        bid=bid,
        award=ret.reporting_date.award,
        form=form,
        state=monitoring.status_of(ret, today),
        writable=monitoring.writable(user, ret, today),
        frozen=monitoring.frozen(ret, today),
        manage=monitoring.can_see_consolidated(user, ret.reporting_date.award),
        budget=monitoring.budget_by_category(ret.partner),
        spent=spent,
        towns=[(town, bids.town_field(town)) for town in TOWNS],
        categories=[(c, monitoring.spend_field(c)) for c in BudgetCategory],
    ), status


@bp.route("/bids/returns/<int:return_id>", methods=["GET", "POST"])
@login_required
def monitoring_return(return_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    ret = _return(return_id, write=request.method == "POST")
    if request.method == "GET":
        return render_return(ret)
    form = ReturnForm()
    outcome = submit_form(
        form,
        lambda: monitoring.save_return(
            ret,
            form.sessions.data,
            form.outcomes.data or "",
            form.story.data or "",
            form.reach(),
            form.spend(),
            user,
        ),
    )
    if outcome.done:
        flash(
            "Your corrections are saved."
            if ret.submitted_at
            else "Your return is saved. Submit it when it is ready.",
            "success",
        )
        return redirect(url_for("bids.monitoring_return", return_id=return_id), 303)
    return render_return(_return(return_id), outcome.status, form)


@bp.post("/bids/returns/<int:return_id>/submit")
@login_required
def monitoring_return_submit(return_id: int) -> ResponseReturnValue:
    user = signed_in_user()
    ret = _return(return_id, write=True)
    form = ReturnForm()

    def save_and_submit() -> MonitoringReturn:
        monitoring.save_return(
            ret,
            form.sessions.data,
            form.outcomes.data or "",
            form.story.data or "",
            form.reach(),
            form.spend(),
            user,
        )
        return monitoring.submit_return(ret, user)

    outcome = submit_form(form, save_and_submit)
    if outcome.done:
        flash("Your return is submitted to the Foundation. Thank you.", "success")
        return redirect(url_for("bids.monitoring_return", return_id=return_id), 303)
    return render_return(_return(return_id), outcome.status, form)


# --- the consolidated return -----------------------------------------------------------------------------------


def _reporting(award_id: int, reporting_date_id: int) -> AwardReportingDate:
    user = signed_in_user()
    reporting = monitoring.load_reporting_date(award_id, reporting_date_id)
    if reporting is None or not bids.in_team(user, reporting.award.bid):
        deny(404, f"reporting date {reporting_date_id} of award {award_id} is not theirs")
    if not monitoring.can_see_consolidated(user, reporting.award):
        deny(403, "the consolidated return is for the bid's managers")
    return reporting


@bp.get("/bids/awards/<int:award_id>/reporting/<int:reporting_date_id>")
@login_required
def consolidated_return(award_id: int, reporting_date_id: int) -> ResponseReturnValue:
    report = monitoring.consolidated(_reporting(award_id, reporting_date_id))
    return render_template(
        "bids/consolidated.html",
        report=report,
        bid=report.bid,
        reporting=report.reporting_date,
        categories=list(BudgetCategory),
    )


@bp.get("/bids/awards/<int:award_id>/reporting/<int:reporting_date_id>.csv")
@login_required
def consolidated_return_csv(award_id: int, reporting_date_id: int) -> ResponseReturnValue:
    report = monitoring.consolidated(_reporting(award_id, reporting_date_id))
    categories = list(BudgetCategory)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "Row",
            "Partner",
            "Town",
            "Status",
            "Submitted on",
            "Young people",
            "Sessions delivered",
            *(f"Spent: {c.label} (GBP)" for c in categories),
            "Spent in total (GBP)",
        ]
    )

    def pounds(pence: int) -> str:
        return f"{pence / 100:.2f}"

    for p in report.partners:
        counted = p.counted
        writer.writerow(
            [
                "Partner",
                spreadsheet_safe(p.name),
                "",
                p.status.label,
                p.ret.submitted_at.astimezone(LONDON).date().isoformat() if p.ret.submitted_at else "",
                p.young_people if counted else "",
                p.sessions if counted else "",
                *((pounds(p.spend[c]) if counted else "") for c in categories),
                pounds(p.spend_pence) if counted else "",
            ]
        )
    for town in report.towns:
        writer.writerow(["Town", "", town.town, "", "", town.young_people, "", *("" for _ in categories), ""])
    writer.writerow(
        [
            "Total",
            "",
            "",
            f"{report.submitted_count} of {len(report.partners)} submitted",
            "",
            report.young_people,
            report.sessions,
            *(pounds(c.spent_pence) for c in report.categories),
            pounds(report.spent_pence),
        ]
    )
    writer.writerow(
        ["Spent to date", "", "", "", "", "", "", *(pounds(c.spent_to_date_pence) for c in report.categories),
         pounds(report.spent_to_date_pence)]
    )  # fmt: skip
    writer.writerow(
        ["Budget", "", "", "", "", "", "", *(pounds(c.budget_pence) for c in report.categories),
         pounds(report.budget_pence)]
    )  # fmt: skip
    name = f"bid-{report.bid.id}-return-{report.reporting_date.due.isoformat()}.csv"
    return (
        out.getvalue(),
        200,
        {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
