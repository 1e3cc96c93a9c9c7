"""Public pages: home, the member directory, the pages every footer links to (accessibility, privacy, contact,
open data), and the health check."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from foundation.extensions import db
from foundation.members.models import Organisation, OrganisationStatus, Sector
from foundation.pagecache import public_page
from foundation.public import bp

DIRECTORY_PAGE_SIZE = 25


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    # Browsers ask for /favicon.ico whatever the page says; answer with the SVG icon.
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Database reachable, and broker reachable or not configured; no templates touched."""
    body: dict[str, str] = {}
    status = 200
    try:
        db.session.execute(sa.text("SELECT 1"))
        body["database"] = "ok"
    except Exception:
        body["database"] = "unreachable"
        status = 503
    broker = current_app.config.get("CELERY_BROKER_URL")
    if not broker:
        body["broker"] = "not configured"
    else:
        body["broker"] = "ok" if _broker_ok(broker) else "unreachable"
    # A broker outage only delays email (the outbox keeps it), so it degrades the status but keeps the 200.
    body["status"] = "ok" if status == 200 and body["broker"] != "unreachable" else "degraded"
    return jsonify(body), status


def _broker_ok(url: str) -> bool:
    if not url.startswith(("redis://", "rediss://")):
        return True
    import redis

    client = current_app.extensions.get("health_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        current_app.extensions["health_redis"] = client
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


@bp.get("/")
@public_page
def home() -> ResponseReturnValue:
    approved = db.session.scalar(
        sa.select(sa.func.count(Organisation.id)).where(Organisation.status == OrganisationStatus.APPROVED)
    )
    return render_template("public/home.html", approved_count=approved or 0)


@bp.get("/members")
@public_page
def directory() -> ResponseReturnValue:
    q = (request.args.get("q") or "").strip()[:100]
    town = (request.args.get("town") or "").strip()[:100]
    sector_value = request.args.get("sector") or ""
    sector = next((s for s in Sector if s.value == sector_value), None)
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    stmt = sa.select(Organisation).where(Organisation.status == OrganisationStatus.APPROVED)
    if q:
        stmt = stmt.where(Organisation.name.ilike(f"%{_escape_like(q)}%", escape="\\"))
    if town:
        stmt = stmt.where(sa.func.lower(Organisation.town) == town.lower())
    if sector:
        stmt = stmt.where(Organisation.sector == sector)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // DIRECTORY_PAGE_SIZE))
    # Past the end shows the last page (and a huge number must not overflow the database's OFFSET).
    page = min(page, pages)
    orgs = db.session.scalars(
        stmt.order_by(Organisation.name).limit(DIRECTORY_PAGE_SIZE).offset((page - 1) * DIRECTORY_PAGE_SIZE)
    ).all()
    towns = db.session.scalars(
        sa.select(Organisation.town)
        .where(Organisation.status == OrganisationStatus.APPROVED)
        .distinct()
        .order_by(Organisation.town)
    ).all()
    return render_template(
        "public/directory.html",
        orgs=orgs,
        q=q,
        town=town,
        sector=sector,
        sectors=list(Sector),
        towns=towns,
        total=total,
        page=page,
        pages=pages,
    )


@bp.get("/members/<int:org_id>")
@public_page
def member_profile(org_id: int) -> ResponseReturnValue:
    org = db.session.get(Organisation, org_id)
    if org is None or org.status is not OrganisationStatus.APPROVED:
        return render_template("error.html", status=404, title="Not found", message="No such member."), 404
    return render_template("public/member.html", org=org)


@dataclass(frozen=True)
class FoundationContact:
    email: str
    phone: str
    address_lines: list[str]


def foundation_contact() -> FoundationContact:
    """How to reach the Foundation, from the FOUNDATION_CONTACT_* and FOUNDATION_POSTAL_ADDRESS settings."""
    config = current_app.config
    address = config.get("FOUNDATION_POSTAL_ADDRESS") or ""
    return FoundationContact(
        email=config.get("FOUNDATION_CONTACT_EMAIL") or "",
        phone=config.get("FOUNDATION_CONTACT_PHONE") or "",
        address_lines=[line.strip() for line in address.split(",") if line.strip()],
    )


@bp.get("/accessibility")
@public_page
def accessibility() -> ResponseReturnValue:
    return render_template(
        "public/accessibility.html", contact=foundation_contact(), site_url=current_app.config["BASE_URL"]
    )


@bp.get("/privacy")
@public_page
def privacy() -> ResponseReturnValue:
    return render_template(
        "public/privacy.html",
        contact=foundation_contact(),
        sign_in_days=int(current_app.config["REMEMBER_COOKIE_DAYS"]),
    )


@bp.get("/contact")
@public_page
def contact() -> ResponseReturnValue:
    return render_template("public/contact.html", contact=foundation_contact())


@bp.get("/open-data")
@public_page
def open_data() -> ResponseReturnValue:
    # Links to the files are built from the grants package's endpoint names in the template; this package
    # imports no capability.
    funder_id = current_app.config.get("FOUNDATION_ORG_ID") or "360G-wypf"
    return render_template("public/open_data.html", funder_id=funder_id)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
