from flask import Blueprint

bp = Blueprint("grants", __name__)
