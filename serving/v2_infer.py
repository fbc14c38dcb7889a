"""One Open Inference Protocol V2 inference, whatever the transport (REST or gRPC).

``infer`` takes a decoded ``InferRequest`` and the model taken for it, checks its params,
predicts (through the micro-batcher when it is on and the input is one array it can merge, as
``/invocations`` does), calls the methods the request asks for as outputs (``predict_proba``)
and counts the rows. The transports only decode the request and encode the ``Inference``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from registry.errors import BadRequest
from registry.models.model_input import ModelInput
from serving import metrics, scoring
from serving.loader import LoadedModel, Predictor
from serving.protocols.v2 import InferRequest, method_outputs, output_names

if TYPE_CHECKING:
    from serving.batching import MicroBatcher


@dataclasses.dataclass(frozen=True, slots=True)
class Inference:
    """What a model answered to one V2 request.

    Attributes:
        predictions: the model's output; None when the request asks only for method outputs.
        names: the signature's output names, if it names them (they name the output tensors).
        methods: each method output asked for (``predict_proba``) and what it returned.
        warning: a ``Warning`` value naming the params that were ignored, or None.
    """

    predictions: Any
    names: list[str] | None
    methods: dict[str, Any]
    warning: str | None


def infer(
    model_name: str,
    served: LoadedModel,
    req: InferRequest,
    batcher: MicroBatcher | None = None,
) -> Inference:
    """Predict on ``req`` with ``served``'s model, served as ``model_name``.

    Raises:
        InvalidParameter: a declared param has a value of the wrong type, or the input breaks
            the model's signature.
        BadRequest: an output names a method the model lacks or whose answer is not one
            tensor, or the model raised on the input.
    """
    predictor = served.predictor
    params, warning = scoring.with_params(req.parameters, predictor)
    inp = req.model_input().with_params(params)
    signature = predictor.signature
    names = output_names(signature.outputs if signature else None)
    methods = {m: _by_method(predictor, m, inp) for m in method_outputs(req, names)}
    only_methods = req.outputs is not None and len(methods) == len(req.outputs)
    predictions = None if only_methods else scoring.predict(predictor, inp, batcher=batcher)
    metrics.count_rows(model_name, inp.row_count)
    return Inference(predictions, names, methods, warning)


def _by_method(predictor: Predictor, method: str, inp: ModelInput) -> Any:
    found = predictor.for_method(method)
    if found is None:
        raise BadRequest(
            f"Invalid input. Unknown output '{method}': the model has no {method} method."
        )
    out = scoring.predict(found, inp)
    try:
        return np.asarray(out)
    except ValueError as err:  # ragged, e.g. a multi-output classifier's per-target classes
        raise BadRequest(
            f"Invalid input. Output '{method}' of this model is not one tensor ({err});"
            " ask for another output."
        ) from None
