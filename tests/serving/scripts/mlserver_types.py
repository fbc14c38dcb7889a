"""Validate a V2 server's bodies with MLServer's own types, and send MLServer's requests.

Usage: python mlserver_types.py TENSOR_URL COLUMN_URL CLASSIFIER_URL
Requests are built by MLServer's codecs (``NumpyRequestCodec``, ``PandasCodec``) or as
``InferenceRequest`` objects, sent as MLServer's clients send them (the pydantic JSON), and each
answer is parsed with ``InferenceResponse`` / ``Metadata*Response`` / ``InferenceErrorResponse``
(pydantic raises on a body that does not fit). Prints what was decoded.
"""

import json
import sys
import urllib.error
import urllib.request

import numpy as np
import pandas as pd
from mlserver.codecs import NumpyCodec, NumpyRequestCodec, PandasCodec
from mlserver.types import (
    InferenceErrorResponse,
    InferenceRequest,
    InferenceResponse,
    MetadataModelResponse,
    MetadataServerResponse,
    RequestInput,
    RequestOutput,
)

ROWS = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def get(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def infer(url, request):
    sent = urllib.request.Request(
        f"{url}/v2/models/model/infer",
        data=request.model_dump_json(exclude_none=True).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(sent, timeout=30) as answer:
            return answer.status, InferenceResponse.model_validate_json(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, InferenceErrorResponse.model_validate_json(err.read())


def decoded(response):
    return {o.name: NumpyCodec.decode_output(o).tolist() for o in response.outputs}


def main(tensor_url, column_url, classifier_url):
    results = {}
    server = MetadataServerResponse.model_validate_json(get(f"{tensor_url}/v2"))
    results["server_extensions"] = server.extensions
    for name, url in (("tensor", tensor_url), ("columns", column_url)):
        body = get(f"{url}/v2/models/model")
        metadata = MetadataModelResponse.model_validate_json(body)
        results[f"{name}_metadata"] = {
            "inputs": [t.model_dump(exclude_none=True) for t in metadata.inputs or []],
            "outputs": [t.model_dump(exclude_none=True) for t in metadata.outputs or []],
        }
    status, response = infer(tensor_url, NumpyRequestCodec.encode_request(ROWS))
    results["numpy"] = {"status": status, "id": response.id, "outputs": decoded(response)}
    frame = pd.DataFrame(ROWS, columns=["a", "b", "c"])
    status, response = infer(column_url, PandasCodec.encode_request(frame))
    results["pandas"] = {"status": status, "outputs": decoded(response)}
    request = InferenceRequest(
        id="mine",
        inputs=[RequestInput(name="x", shape=[2, 3], datatype="FP64", data=ROWS.ravel().tolist())],
        outputs=[RequestOutput(name="predict_proba"), RequestOutput(name="predict")],
    )
    status, response = infer(classifier_url, request)
    results["methods"] = {"status": status, "id": response.id, "outputs": decoded(response)}
    request.outputs = [RequestOutput(name="transform")]
    status, error = infer(classifier_url, request)
    results["unknown_output"] = {"status": status, "error": error.error}
    print(json.dumps(results))


main(*sys.argv[1:4])
