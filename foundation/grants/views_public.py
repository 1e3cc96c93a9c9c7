"""Public transparency pages: the grants scorecard and the 360Giving open data files. Anyone may read them."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue

from foundation.extensions import db
from foundation.grants import bp, opendata
from foundation.grants.models import GrantRound, RoundStatus
from foundation.grants.scorecard import build_scorecard, charts, round_grants_page
from foundation.pagecache import public_page
from foundation.pagination import page_number
from foundation.web import external_url


@bp.get("/scorecard")
@public_page
def scorecard() -> ResponseReturnValue:
    card = build_scorecard()
    return render_template(
        "grants/public_scorecard.html",
        card=card,
        charts=charts(card) if card.has_grants else {},
        ledger_url=url_for("grants.ledger_public"),
    )


@bp.get("/scorecard/rounds/<int:round_id>")
@public_page
def scorecard_round(round_id: int) -> ResponseReturnValue:
    round_ = db.session.get(GrantRound, round_id)
    if round_ is None or round_.status is RoundStatus.DRAFT:
        abort(404)
    return render_template(
        "grants/public_scorecard_round.html",
        round_=round_,
        grants=round_grants_page(round_.id, page_number()),
    )


def _open_data_headers(response: Response) -> Response:
    # Open data: anyone's tools may fetch it from their own pages.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/open-data/360giving.json")
@public_page
def open_data_json() -> ResponseReturnValue:
    body = opendata.package(
        download_url=external_url("grants.open_data_json"), access_url=external_url("grants.scorecard")
    )
    if not body["grants"]:
        # The standard wants at least one grant in a package: say plainly there is nothing yet.
        return _open_data_headers(
            jsonify(error="Not found", message="No grants have been published yet.")
        ), 404
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, indent=2) + "\n", mimetype="application/json"
    )
    return _open_data_headers(response)


@bp.get("/open-data/360giving.csv")
@public_page
def open_data_csv() -> ResponseReturnValue:
    response = current_app.response_class(opendata.csv_text(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="wypf-360giving.csv"'
    return _open_data_headers(response)
