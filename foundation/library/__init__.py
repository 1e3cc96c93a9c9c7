"""The good-practice library: resources members share (policy templates, guides, session plans, funding tips),
checked by Foundation staff before members see them, with a version history when a file is replaced, search by
topic and text, and download counts."""

from flask import Blueprint

bp = Blueprint("library", __name__)

MODULES = (
    "models",
    "views",
    "todo",
    "navigation",
    "privacy",
    "seed",
)
