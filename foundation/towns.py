"""The towns of Wiltshire and Swindon, one list for every capability: where a seed grant's work happens, where a
bid's opportunity is for and where its partners reached young people, and the rows of training coverage (so a
town with nobody trained shows as such rather than being left out)."""

from __future__ import annotations

TOWNS = (
    "Amesbury", "Bradford on Avon", "Calne", "Chippenham", "Corsham", "Cricklade", "Devizes", "Highworth",
    "Malmesbury", "Marlborough", "Melksham", "Pewsey", "Royal Wootton Bassett", "Salisbury", "Swindon", "Tidworth",
    "Trowbridge", "Warminster", "Westbury",
)  # fmt: skip
