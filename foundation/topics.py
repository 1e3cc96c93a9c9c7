"""The topics of youth-sector training and good practice: one list for the events and the library, so a
safeguarding course and a safeguarding policy template are filed under the same word."""

from __future__ import annotations

import enum


class Topic(enum.Enum):
    SAFEGUARDING = "safeguarding"
    MENTAL_HEALTH = "mental_health"
    FIRST_AID = "first_aid"
    FUNDRAISING = "fundraising"
    GOVERNANCE = "governance"
    YOUTH_VOICE = "youth_voice"
    INCLUSION = "inclusion"
    DIGITAL = "digital"

    @property
    def label(self) -> str:
        return {
            Topic.SAFEGUARDING: "Safeguarding",
            Topic.MENTAL_HEALTH: "Mental health",
            Topic.FIRST_AID: "First aid",
            Topic.FUNDRAISING: "Fundraising",
            Topic.GOVERNANCE: "Governance",
            Topic.YOUTH_VOICE: "Youth voice",
            Topic.INCLUSION: "Inclusion",
            Topic.DIGITAL: "Digital",
        }[self]
