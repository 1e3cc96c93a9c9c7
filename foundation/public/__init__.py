from flask import Blueprint

bp = Blueprint("public", __name__)

MODULES = ("views",)
