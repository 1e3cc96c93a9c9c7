"""Demo data for `make run` (`flask seed-demo`), gathered from the packages.

Each package registers a step with `@demo_data(name, order)`: a generator that adds its demo records and yields
a progress line for each one it adds. Steps must be idempotent (every record looked up by a natural key before it
is added), so running the seed again adds nothing. They run in `order`, each committed before the next starts, so
a later step can build on an earlier one's records (the capabilities on the members' organisations and users).

The accounts to sign in with are listed at the end, from the sections registered with `@demo_logins_section`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from foundation.extensions import db

# Every demo account has this password, so the list of demo logins needs only the email addresses.
DEMO_PASSWORD = "demo-password-2026"

Lines = Callable[[], Iterator[str]]


@dataclass(frozen=True)
class Registered:
    name: str
    order: int
    run: Lines


DEMO_STEPS: list[Registered] = []
LOGIN_SECTIONS: list[Registered] = []


def _registrar(registry: list[Registered], kind: str, name: str, order: int) -> Callable[[Lines], Lines]:
    def register(fn: Lines) -> Lines:
        if any(r.name == name for r in registry):
            raise ValueError(f"{kind} {name!r} is registered twice")
        registry.append(Registered(name, order, fn))
        return fn

    return register


def demo_data(name: str, order: int) -> Callable[[Lines], Lines]:
    """Register a package's demo data step; lower `order` runs first."""
    return _registrar(DEMO_STEPS, "demo data step", name, order)


def demo_logins_section(name: str, order: int) -> Callable[[Lines], Lines]:
    """Register lines for the list of demo logins (indented, one account a line); lower `order` comes first."""
    return _registrar(LOGIN_SECTIONS, "demo logins section", name, order)


def _in_order(registry: list[Registered]) -> list[Registered]:
    return sorted(registry, key=lambda r: r.order)


def seed() -> Iterator[str]:
    for step in _in_order(DEMO_STEPS):
        yield from step.run()
        db.session.commit()
    yield from demo_logins()


def demo_logins() -> Iterator[str]:
    """The accounts to sign in with, as `make run` prints them before serving."""
    yield "demo logins (password for all: " + DEMO_PASSWORD + "):"
    for section in _in_order(LOGIN_SECTIONS):
        yield from section.run()
