"""The dependency rule, read from the code's imports (README, "Layout").

- The base (`foundation/*.py`: extensions, web, permissions, auth, uploads, ...; later `ledger/` and
  `payments/`) imports no capability.
- `members`, `notifications` and `public` (the base the capabilities stand on) import no capability.
- A capability imports the base, members and notifications, never `public` and never another capability,
  except where the README names a call on purpose (events book Venue Bank spaces through the venues service).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parent.parent
FOUNDATION = ROOT / "foundation"

BASE_PACKAGES = {"ledger", "payments"}
FOUNDATIONAL_PACKAGES = {"members", "notifications", "public"}
CAPABILITIES = {"venues", "grants", "fundraising", "bids", "events", "library"}
# (importer, imported): a capability calling another's service on purpose, each named in the README.
NAMED_EXCEPTIONS = {("events", "venues")}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str | None:
    """The package a `foundation.*` module belongs to; None for the base's own modules (foundation/*.py)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "foundation":
        return None
    known = BASE_PACKAGES | FOUNDATIONAL_PACKAGES | CAPABILITIES
    if parts[1] in known or (FOUNDATION / parts[1]).is_dir():
        return parts[1]
    return None


def imports_of(source: str, module: str) -> Iterator[tuple[int, str]]:
    """Every module a source imports, anywhere in it (functions included), as absolute names."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:
                # `from foundation import venues` imports the package foundation.venues.
                yield node.lineno, f"{target}.{alias.name}"


def broken_rules(module: str, source: str) -> list[str]:
    importer = package_of(module)
    found = []
    for line, target in imports_of(source, module):
        imported = package_of(target)
        if imported is None or imported == importer or imported not in CAPABILITIES | FOUNDATIONAL_PACKAGES:
            continue
        if importer is None or importer in BASE_PACKAGES:
            allowed = imported in FOUNDATIONAL_PACKAGES - {"public"}
            who = "the base"
        elif importer in FOUNDATIONAL_PACKAGES:
            allowed = imported in FOUNDATIONAL_PACKAGES - {"public"}
            who = f"{importer} (the base capabilities stand on)"
        else:
            allowed = imported in {"members", "notifications"} or (importer, imported) in NAMED_EXCEPTIONS
            who = f"the capability {importer}"
        if not allowed:
            found.append(f"{module}:{line} imports {target}: {who} may not import {imported}")
    return sorted(set(found))


def all_modules() -> Iterator[tuple[str, str]]:
    for path in sorted(FOUNDATION.rglob("*.py")):
        yield module_name(path), path.read_text(encoding="utf-8")


def test_no_module_under_foundation_breaks_the_dependency_rule() -> None:
    problems = [p for module, source in all_modules() for p in broken_rules(module, source)]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("foundation.web", "from foundation.venues.models import Space\n", "foundation.venues.models"),
        (
            "foundation.members.privacy",
            "def f():\n    from foundation.venues import models\n",
            "foundation.venues",
        ),
        ("foundation.grants.forms", "from foundation.venues.forms import X\n", "foundation.venues.forms"),
        ("foundation.grants.views", "import foundation.venues.booking\n", "foundation.venues.booking"),
        ("foundation.venues.views", "from foundation.public import views\n", "foundation.public"),
        ("foundation.notifications.x", "from ..grants import models\n", "foundation.grants"),
    ],
)
def test_the_rule_catches_each_kind_of_forbidden_import(module: str, source: str, expected: str) -> None:
    problems = broken_rules(module, source)
    assert problems and all(p.startswith(f"{module}:") for p in problems)
    assert any(f"imports {expected}" in p for p in problems)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("foundation.grants.views", "from foundation.members.models import User\n"),
        ("foundation.grants.views", "from foundation.notifications.services import notify\n"),
        ("foundation.grants.views", "from foundation.forms import PenceField\n"),
        ("foundation.events.services", "from foundation.venues import booking\n"),
        ("foundation.members.privacy", "from foundation.privacy import export_section\n"),
        ("foundation.cli", "from foundation.members.models import User\n"),
    ],
)
def test_the_rule_allows_the_base_members_notifications_and_named_calls(module: str, source: str) -> None:
    assert broken_rules(module, source) == []


def test_the_app_loads_packages_named_in_config_only() -> None:
    # The base reaches the capabilities through the names in config.PACKAGES, never by importing them.
    names = {name.split(".")[1] for name in config.Config.PACKAGES}
    built = {name for name in CAPABILITIES if (FOUNDATION / name / "__init__.py").is_file()}
    assert CAPABILITIES & names == built
    assert names >= BASE_PACKAGES
    assert {"members", "notifications", "public"} <= names
