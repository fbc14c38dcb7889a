"""Predict on a decoded request: its params checked, the model's own errors translated.

Which path the input takes (one float array, or a DataFrame with the signature enforced) is the
Predictor's decision (``Predictor.predict_input``); here the micro-batcher only gets the array
the Predictor hands out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from registry.errors import BadRequest, RegistryError
from registry.models.enforcement import enforce_params
from registry.models.model_input import ModelInput
from serving.loader import Predictor

if TYPE_CHECKING:
    from serving.batching import MicroBatcher

logger = logging.getLogger(__name__)


def with_params(
    params: dict[str, Any] | None, predictor: Predictor
) -> tuple[dict[str, Any] | None, str | None]:
    """A request's params checked against the signature's params schema, and a Warning header.

    Undeclared params are dropped, as MLflow does, and the returned ``Warning`` value names
    them (None when nothing was dropped).

    Raises:
        InvalidParameter: a declared param has a value of the wrong type.
    """
    if not params:
        return params, None
    signature = predictor.signature
    checked, dropped = enforce_params(params, signature.params if signature else None)
    if not dropped:
        return checked, None
    logger.info("ignoring params not in the model's signature: %s", dropped)
    # A param's name comes from the body: only printable ASCII may reach a header (gunicorn
    # refuses control characters and anything past Latin-1), the rest goes as escapes.
    names = ascii(", ".join(dropped))[1:-1]
    return checked, f'299 - "Ignored params not in the model\'s signature: {names}"'


def with_input_params(inp: ModelInput, predictor: Predictor) -> tuple[ModelInput, str | None]:
    """``with_params`` for a decoded request.

    In an LLM-style body, the keys the params schema declares are params; the rest is data.
    """
    if inp.kind == "llm":
        signature = predictor.signature
        declared = {str(p.get("name")) for p in (signature.params or [])} if signature else set()
        data = {k: v for k, v in inp.data.items() if k not in declared}
        given = {k: v for k, v in inp.data.items() if k in declared}
        inp = ModelInput("llm", data, params=given or None)
    if not inp.params:
        return inp, None
    params, warning = with_params(inp.params, predictor)
    return inp.with_params(params), warning


def predict(
    predictor: Predictor,
    inp: ModelInput,
    *,
    drop_extra: bool = False,
    batcher: MicroBatcher | None = None,
) -> Any:
    """Predict on one request; with a ``batcher``, an array request joins a shared batch.

    Columns the signature does not declare are a 400, or dropped as MLflow drops them when
    ``drop_extra`` (``SERVING_EXTRA_COLUMNS=drop``).

    Raises:
        InvalidParameter: the input breaks the model's signature (the message names the column).
        BadRequest: the model raised on the input (the message is the model's).
    """
    if batcher is not None:
        array = predictor.input_array(inp)
        if array is not None:
            return batcher.predict_array(predictor, array)
    return guarded(predictor.predict_input, inp, drop_extra=drop_extra)


def guarded(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a predict function; a model's own exception becomes a 400 with its message.

    Raises:
        RegistryError: the predictor's own errors, unchanged.
        BadRequest: any other exception the model raised.
    """
    try:
        return function(*args, **kwargs)
    except RegistryError:
        raise
    except Exception as err:
        logger.info("model raised on input: %r", err)
        raise BadRequest(
            f"The model could not predict on this input: {type(err).__name__}: {err}"
        ) from None
