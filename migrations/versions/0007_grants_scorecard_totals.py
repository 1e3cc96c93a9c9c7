"""grants scorecard totals

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The published grants (decided rounds, award decisions) with the figures the totals are made of. Kept here as
# it stood when the table was made, so the migration gives the same answer whatever the code does later.
PUBLISHED = """
    SELECT g.id AS grant_id, g.round_id AS round_id, g.amount_pence AS amount,
           COALESCE(p.paid, 0) AS paid, a.young_people_count AS planned,
           r.young_people_reached AS reported, a.towns AS towns, o.area AS area
    FROM grant_award g
    JOIN grant_application a ON a.id = g.application_id
    JOIN grant_decision d ON d.application_id = g.application_id
    JOIN grant_round gr ON gr.id = g.round_id
    JOIN organisation o ON o.id = g.organisation_id
    LEFT JOIN (SELECT grant_id, SUM(amount_pence) AS paid FROM grant_instalment
               WHERE paid_at IS NOT NULL GROUP BY grant_id) p ON p.grant_id = g.id
    LEFT JOIN grant_report r ON r.grant_id = g.id AND r.status = 'accepted'
    WHERE gr.status = 'decided' AND d.outcome IN ('award_full', 'award_part')
"""
SUMS = """COUNT(pub.grant_id), COALESCE(SUM(pub.amount), 0), COALESCE(SUM(pub.paid), 0),
          COALESCE(SUM(pub.planned), 0), COALESCE(SUM(pub.reported), 0), COUNT(pub.reported)"""
INSERT = """INSERT INTO grant_scorecard_total (round_id, dimension, name, grants, awarded_pence, paid_pence,
            planned_reach, reported_reach, reports_accepted)"""


def upgrade():
    op.create_table(
        "grant_scorecard_total",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column(
            "dimension",
            sa.Enum("round", "area", "town", name="totalsdimension", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("grants", sa.Integer(), nullable=False),
        sa.Column("awarded_pence", sa.BigInteger(), nullable=False),
        sa.Column("paid_pence", sa.BigInteger(), nullable=False),
        sa.Column("planned_reach", sa.BigInteger(), nullable=False),
        sa.Column("reported_reach", sa.BigInteger(), nullable=False),
        sa.Column("reports_accepted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["grant_round.id"],
            name=op.f("fk_grant_scorecard_total_round_id_grant_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "dimension", "name", name=op.f("pk_grant_scorecard_total")),
    )
    if op.get_bind().dialect.name == "postgresql":
        towns = "CROSS JOIN LATERAL json_array_elements_text(pub.towns) AS town(value)"
    else:
        towns = "JOIN json_each(pub.towns) AS town"
    op.execute(f"{INSERT} SELECT pub.round_id, 'round', '', {SUMS} FROM ({PUBLISHED}) pub GROUP BY pub.round_id")
    op.execute(
        f"{INSERT} SELECT pub.round_id, 'area', pub.area, {SUMS} FROM ({PUBLISHED}) pub "
        "GROUP BY pub.round_id, pub.area"
    )
    op.execute(
        f"{INSERT} SELECT pub.round_id, 'town', TRIM(town.value), {SUMS} FROM ({PUBLISHED}) pub {towns} "
        "WHERE TRIM(town.value) <> '' GROUP BY pub.round_id, TRIM(town.value)"
    )


def downgrade():
    op.drop_table("grant_scorecard_total")
