"""The bids pipeline and success rates, for Foundation staff.

/staff/bids/pipeline                 stages as columns (count, total, weighted), deadlines in the next 30 days,
                                     income secured this year by type of funder
/staff/bids/pipeline/<table>.csv     each of those tables as CSV: stages, deadlines, income, success
/staff/bids/success                  success rates by type of funder and by funder, and funders' feedback
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask import Response, render_template
from flask.typing import ResponseReturnValue

from foundation.bids import bp, pipeline
from foundation.navigation import staff_area
from foundation.pagination import page_number
from foundation.permissions import staff_required
from foundation.types import london_today
from foundation.web import spreadsheet_safe

staff_area(
    "Bids pipeline", "bids.pipeline_page", "Bids by stage, deadlines, income secured and success rates.", 45
)


@bp.get("/staff/bids/pipeline")
@staff_required
def pipeline_page() -> ResponseReturnValue:
    today = london_today()
    return render_template(
        "bids/pipeline.html",
        pipeline=pipeline.stages(),
        deadlines=pipeline.deadlines(page_number(), today),
        deadline_days=pipeline.DEADLINE_DAYS,
        window=pipeline.deadline_window(today),
        income=pipeline.income(today),
    )


@bp.get("/staff/bids/success")
@staff_required
def success_rates() -> ResponseReturnValue:
    by_type, overall = pipeline.success_by_type()
    return render_template(
        "bids/success.html",
        by_type=by_type,
        overall=overall,
        by_funder=pipeline.success_by_funder(page_number()),
        feedback=pipeline.recent_feedback(),
    )


# --- CSV ---------------------------------------------------------------------------------------------------------


def _pounds(pence: int) -> str:
    return f"{pence / 100:.2f}"


def _rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1f}"


def _csv(filename: str, header: Sequence[str], rows: Iterable[Sequence[str | int]]) -> Response:
    out = io.StringIO()
    out.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _stages_csv() -> Response:
    found = pipeline.stages(per_stage=0)
    rows: list[list[str | int]] = [
        [s.status.label, s.probability, s.count, _pounds(s.total_pence), _pounds(s.weighted_pence)]
        for s in found.stages
    ]
    rows.append(["All stages", "", found.count, _pounds(found.total_pence), _pounds(found.weighted_pence)])
    header = ["Stage", "Probability (%)", "Bids", "Asked (GBP)", "Weighted (GBP)"]
    return _csv(f"bids-pipeline-{london_today().isoformat()}.csv", header, rows)


def _deadlines_csv() -> Response:
    today = london_today()
    rows: list[list[str | int]] = [
        [
            d.bid.deadline.isoformat(),
            d.days_left,
            d.bid.id,
            spreadsheet_safe(d.bid.title),
            d.bid.status.label,
            spreadsheet_safe(d.bid.funder_name),
            spreadsheet_safe(d.bid.programme),
            _pounds(d.bid.asking_pence),
        ]
        for d in pipeline.all_deadlines(today)
    ]
    header = ["Deadline", "Days left", "Bid id", "Bid", "Stage", "Funder", "Programme", "Budget (GBP)"]
    return _csv(f"bid-deadlines-{today.isoformat()}.csv", header, rows)


def _income_csv() -> Response:
    found = pipeline.income()
    rows: list[list[str | int]] = [
        [r.funder_type.label if r.funder_type else "All types", r.awards, _pounds(r.awarded_pence),
         _pounds(r.received_pence)]
        for r in [*found.rows, found.total]
    ]  # fmt: skip
    header = ["Type of funder", "Awards", "Awarded (GBP)", "Received (GBP)"]
    return _csv(f"bids-income-{found.year}.csv", header, rows)


def _success_csv() -> Response:
    by_type, overall = pipeline.success_by_type()
    rows: list[list[str | int]] = [
        ["Type of funder", r.name, r.funder_type.label if r.funder_type else "", r.decided, r.won, _rate(r.rate),
         _pounds(r.asked_pence), _pounds(r.awarded_pence)]
        for r in [*by_type, overall]
    ]  # fmt: skip
    rows += [
        ["Funder", spreadsheet_safe(r.name), r.funder_type.label if r.funder_type else "", r.decided, r.won,
         _rate(r.rate), _pounds(r.asked_pence), _pounds(r.awarded_pence)]
        for r in pipeline.all_success_by_funder()
    ]  # fmt: skip
    header = [
        "By",
        "Name",
        "Type of funder",
        "Decided",
        "Won",
        "Success rate (%)",
        "Asked (GBP)",
        "Awarded (GBP)",
    ]
    return _csv(f"bids-success-rates-{london_today().isoformat()}.csv", header, rows)


CSV_TABLES = {
    "stages": _stages_csv,
    "deadlines": _deadlines_csv,
    "income": _income_csv,
    "success": _success_csv,
}


@bp.get("/staff/bids/pipeline/<any(stages, deadlines, income, success):table>.csv")
@staff_required
def pipeline_csv(table: str) -> ResponseReturnValue:
    return CSV_TABLES[table]()
