"""An import write that refers to what is not imported here is the caller's mistake, not ours."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from registry.errors import InvalidParameter


@contextmanager
def parents_imported(what: str) -> Iterator[None]:
    """Turn a missing parent row (foreign key or lookup) under ``what`` into a 400.

    Experiments are imported before their runs and logged models, registered models before
    their versions and aliases; a write out of that order is refused whole (its transaction is
    rolled back by the caller's ``write_transaction``).
    """
    try:
        yield
    except (peewee.IntegrityError, peewee.DoesNotExist) as exc:
        raise InvalidParameter(
            f"Cannot import {what}: it refers to an experiment, run or registered model that is"
            " not imported here (import experiments before their runs and logged models,"
            " registered models before their versions)."
        ) from exc
