"""Call a V2 server with KServe's own InferenceRESTClient; print what each call returned.

Usage: python kserve_client.py TENSOR_URL COLUMN_URL CLASSIFIER_URL
(the models of tests/e2e/test_serving_clients.py). The client's defaults are kept, except the
protocol: ``RESTConfig`` speaks KServe's V1 unless told ``v2``.
"""

import asyncio
import json
import sys

import httpx
import numpy as np
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

ROWS = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def tensor(rows, binary=True):
    given = InferInput("input-0", list(rows.shape), "FP64")
    if binary:
        given.set_data_from_numpy(rows)  # the default: binary_data=True
    else:
        given.set_data_from_numpy(rows, binary_data=False)
    return given


def outputs(response):
    return {
        o.name: {
            "data": o.as_numpy().tolist(),
            "shape": list(o.shape),
            "datatype": o.datatype,
        }
        for o in response.outputs
    }


async def error(call):
    try:
        await call
    except httpx.HTTPStatusError as err:
        return {"status": err.response.status_code, "message": str(err)}
    return None


async def main(tensor_url, column_url, classifier_url):
    client = InferenceRESTClient(RESTConfig(protocol="v2"))
    results = {
        "live": await client.is_server_live(tensor_url),
        "ready": await client.is_server_ready(tensor_url),
        "model_ready": await client.is_model_ready(tensor_url, "model"),
    }
    binary = await client.infer(tensor_url, InferRequest("model", [tensor(ROWS)]), "model")
    results["binary"] = outputs(binary)
    as_json = InferRequest("model", [tensor(ROWS, binary=False)], request_id="r-1")
    results["json"] = outputs(await client.infer(tensor_url, as_json, "model"))
    columns = []
    for i, name in enumerate(["a", "b", "c"]):
        column = InferInput(name, [len(ROWS)], "FP64")
        column.set_data_from_numpy(np.ascontiguousarray(ROWS[:, i]))
        columns.append(column)
    named = await client.infer(column_url, InferRequest("model", columns), "model")
    results["columns"] = outputs(named)
    asked = [RequestedOutput("predict_proba"), RequestedOutput("predict")]
    methods = InferRequest("model", [tensor(ROWS)], request_outputs=asked)
    results["methods"] = outputs(await client.infer(classifier_url, methods, "model"))
    as_dict = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}
    results["dict"] = await client.infer(tensor_url, as_dict, "model")
    results["dict"] = outputs(results["dict"])
    unknown = InferRequest("model", [tensor(ROWS)], request_outputs=[RequestedOutput("output0")])
    results["unknown_output"] = await error(client.infer(tensor_url, unknown, "model"))
    no_proba = InferRequest("model", [tensor(ROWS)], request_outputs=[asked[0]])
    results["regressor_proba"] = await error(client.infer(tensor_url, no_proba, "model"))
    other = InferRequest("other", [tensor(ROWS)])
    results["unknown_model"] = await error(client.infer(tensor_url, other, "other"))
    wide = InferRequest("model", [tensor(np.ones((2, 4)))])
    results["wrong_shape"] = await error(client.infer(tensor_url, wide, "model"))
    await client.close()
    return results


print(json.dumps(asyncio.run(main(*sys.argv[1:4]))))
