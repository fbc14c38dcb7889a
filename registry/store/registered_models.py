"""Registered models: create, read, rename, update, delete, tags."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import peewee

from registry.errors import AlreadyExists, NotFound
from registry.store import lock_for_update, write_transaction
from registry.store.events import forget_model, record_event
from registry.store.models import RegisteredModel, RegisteredModelTag
from registry.wire import events as ev


def now_ms() -> int:
    """The current time in milliseconds since the epoch."""
    return int(time.time() * 1000)


def create_registered_model(
    name: str,
    *,
    description: str = "",
    tags: Sequence[tuple[str, str]] = (),
    user_id: str = "",
    exclusive_stages: bool = False,
) -> RegisteredModel:
    """Create a registered model.

    Raises:
        AlreadyExists: a model of that name exists.
    """
    now = now_ms()
    try:
        with write_transaction():
            model = RegisteredModel.create(
                name=name,
                description=description,
                user_id=user_id,
                creation_timestamp=now,
                last_updated_timestamp=now,
                exclusive_stages=exclusive_stages,
            )
            given = dict(tags)
            for key, value in given.items():
                RegisteredModelTag.create(registered_model=model, key=key, value=value)
            data = {"name": name, "tags": given, "description": description}
            record_event(
                entity=ev.REGISTERED_MODEL,
                action=ev.CREATED,
                model_name=name,
                data=data,
                user_id=user_id,
                timestamp=now,
            )
    except peewee.IntegrityError:
        raise AlreadyExists(f"Registered Model (name={name}) already exists.") from None
    return model


def get_registered_model(name: str) -> RegisteredModel:
    """The registered model called ``name``.

    Raises:
        NotFound: no model has that name.
    """
    model = RegisteredModel.get_or_none(RegisteredModel.name == name)
    if model is None:
        raise NotFound(f"Registered Model with name={name} not found")
    return model


def lock_registered_model(name: str) -> RegisteredModel:
    """The model row, locked until the surrounding transaction ends (serialises writers).

    Raises:
        NotFound: no model has that name.
    """
    query: Any = RegisteredModel.select().where(RegisteredModel.name == name)
    query = lock_for_update(query)
    model = query.first()
    if model is None:
        raise NotFound(f"Registered Model with name={name} not found")
    return model  # type: ignore[no-any-return]


def touch_registered_model(model: RegisteredModel, now: int | None = None) -> None:
    """Set the model's ``last_updated_timestamp`` to now."""
    model.last_updated_timestamp = now or now_ms()
    RegisteredModel.update(last_updated_timestamp=model.last_updated_timestamp).where(
        RegisteredModel.id == model.id
    ).execute()


def rename_registered_model(name: str, new_name: str, *, user_id: str = "") -> RegisteredModel:
    """Give a model a new name; its versions, aliases and history follow it.

    Raises:
        NotFound: no model has that name.
        AlreadyExists: ``new_name`` is taken.
    """
    try:
        with write_transaction():
            model = lock_registered_model(name)
            model.name = new_name
            model.last_updated_timestamp = now_ms()
            model.save()
            record_event(
                entity=ev.REGISTERED_MODEL,
                action=ev.RENAMED,
                model_name=new_name,
                data={"name": new_name, "old_name": name},
                user_id=user_id,
                timestamp=model.last_updated_timestamp,
            )
    except peewee.IntegrityError:
        raise AlreadyExists(f"Registered Model (name={new_name}) already exists.") from None
    return model


def update_registered_model(name: str, description: str, *, user_id: str = "") -> RegisteredModel:
    """Replace a model's description.

    Raises:
        NotFound: no model has that name.
    """
    with write_transaction():
        model = lock_registered_model(name)
        model.description = description
        model.last_updated_timestamp = now_ms()
        model.save()
        record_model_updated(model, user_id)
    return model


def record_model_updated(model: RegisteredModel, user_id: str) -> None:
    """Record ``registered_model.updated`` with the model's settings as they are now."""
    record_event(
        entity=ev.REGISTERED_MODEL,
        action=ev.UPDATED,
        model_name=model.name,
        data={
            "name": model.name,
            "description": model.description,
            "exclusive_stages": bool(model.exclusive_stages),
        },
        user_id=user_id,
        timestamp=model.last_updated_timestamp,
    )


def set_exclusive_flag(model: RegisteredModel, exclusive: bool) -> None:
    """Store the model's ``exclusive_stages`` flag (the caller keeps versions consistent)."""
    model.exclusive_stages = exclusive
    model.last_updated_timestamp = now_ms()
    model.save()


def delete_registered_model(name: str, *, user_id: str = "") -> None:
    """Delete a model with its versions, tags, aliases and history (a hard delete).

    Raises:
        NotFound: no model has that name.
    """
    with write_transaction():
        model = lock_registered_model(name)
        record_event(
            entity=ev.REGISTERED_MODEL,
            action=ev.DELETED,
            model_name=name,
            data={"name": name},
            user_id=user_id,
        )
        forget_model(model.id)
        model.delete_instance()


def set_registered_model_tag(name: str, key: str, value: str, *, user_id: str = "") -> None:
    """Set (or overwrite) a tag on a model.

    Raises:
        NotFound: no model has that name.
    """
    with write_transaction():
        model = lock_registered_model(name)
        query = RegisteredModelTag.update(value=value).where(
            (RegisteredModelTag.registered_model == model.id) & (RegisteredModelTag.key == key)
        )
        if not query.execute():
            RegisteredModelTag.create(registered_model=model, key=key, value=value)
        record_event(
            entity=ev.REGISTERED_MODEL_TAG,
            action=ev.SET,
            model_name=name,
            data={"name": name, "key": key, "value": value},
            user_id=user_id,
        )


def delete_registered_model_tag(name: str, key: str, *, user_id: str = "") -> None:
    """Remove a tag from a model.

    Raises:
        NotFound: no model has that name, or it has no such tag.
    """
    with write_transaction():
        model = lock_registered_model(name)
        deleted = (
            RegisteredModelTag.delete()
            .where(
                (RegisteredModelTag.registered_model == model.id) & (RegisteredModelTag.key == key)
            )
            .execute()
        )
        if deleted:
            record_event(
                entity=ev.REGISTERED_MODEL_TAG,
                action=ev.DELETED,
                model_name=name,
                data={"name": name, "key": key},
                user_id=user_id,
            )
    if not deleted:
        raise NotFound(f"No tag with name: {key} in registered model {name}.")


def tags_by_model(model_ids: Iterable[int]) -> dict[int, list[RegisteredModelTag]]:
    """The tags of each model id, in one query."""
    ids = list(model_ids)
    found: dict[int, list[RegisteredModelTag]] = {i: [] for i in ids}
    if not ids:
        return found
    query = RegisteredModelTag.select().where(RegisteredModelTag.registered_model.in_(ids))
    for tag in query.order_by(RegisteredModelTag.key):
        found[tag.registered_model_id].append(tag)
    return found
