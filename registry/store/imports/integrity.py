"""An import write that refers to what is not imported here is the caller's mistake, not ours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from registry.errors import InvalidParameter


@contextmanager
def parents_imported(what: str) -> Iterator[None]:
    """Turn a missing parent row (foreign key or lookup) or a conflicting row into a 400.

    The database does not say which constraint failed in a portable way, so the message names
    both causes rather than guessing one.

    Experiments are imported before their runs and logged models, registered models before
    their versions and aliases; a write out of that order is refused whole (its transaction is
    rolled back by the caller's ``write_transaction``).
    """
    try:
        with values_fit(what):
            yield
    except (peewee.IntegrityError, peewee.DoesNotExist) as exc:
        raise InvalidParameter(
            f"Cannot import {what}: it refers to an experiment, run or registered model that is"
            " not imported here (import experiments before their runs and logged models,"
            " registered models before their versions), or it conflicts with a row held here"
            " (a name or id already taken, a required field missing)."
        ) from exc


@contextmanager
def values_fit(what: str) -> Iterator[None]:
    """Turn a value the database cannot hold under ``what`` into a 400.

    The wire checks every number against int64 and every string against its column; an
    experiment id above 2**31 still overflows the INTEGER id columns of PostgreSQL and MySQL.
    """
    try:
        yield
    except (peewee.DataError, OverflowError) as exc:
        raise InvalidParameter(
            f"Cannot import {what}: a value does not fit this server's columns."
        ) from exc
