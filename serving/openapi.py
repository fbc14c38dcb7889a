"""The OpenAPI 3.1 document of the serving process (``GET /openapi.json``)."""

from __future__ import annotations

from typing import Any

from serving.version import __version__

_ERROR = {"$ref": "#/components/responses/Error"}
_JSON_OK = {"description": "OK", "content": {"application/json": {}}}


def _op(
    summary: str,
    responses: dict[str, Any],
    body: dict[str, Any] | None = None,
    required: bool = True,
) -> Any:
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": required, "content": body}
    return operation


def _v2_name(path_params: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in path_params
    ]


_INVOCATIONS_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "description": "Exactly one of dataframe_split, dataframe_records, instances, inputs;"
            " optional params.",
            "properties": {
                "dataframe_split": {
                    "type": "object",
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "data": {"type": "array", "items": {"type": "array"}},
                    },
                },
                "dataframe_records": {"type": "array", "items": {"type": "object"}},
                "instances": {},
                "inputs": {},
                "params": {"type": "object"},
            },
        },
        "example": {"dataframe_split": {"columns": ["x1", "x2"], "data": [[1.0, 2.0]]}},
    },
    "text/csv": {"schema": {"type": "string"}, "example": "x1,x2\n1.0,2.0\n"},
}
_INFER_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": {"type": "object"},
                "inputs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "shape", "datatype", "data"],
                        "properties": {
                            "name": {"type": "string"},
                            "shape": {"type": "array", "items": {"type": "integer"}},
                            "datatype": {"type": "string", "example": "FP64"},
                            "data": {"type": "array"},
                        },
                    },
                },
            },
        }
    }
}
_PREDICT_ERRORS = {"400": _ERROR, "404": _ERROR, "413": _ERROR, "415": _ERROR, "503": _ERROR}
_CHANGE_ERRORS = {"400": _ERROR, "401": _ERROR, "403": _ERROR, "404": _ERROR}
_MODEL_HEADER = {
    "name": "X-Model-Name",
    "in": "header",
    "required": False,
    "description": "The model to predict with; needed when several models are served.",
    "schema": {"type": "string"},
}
_V1_BODY = {
    "application/json": {
        "schema": {"type": "object", "properties": {"instances": {"type": "array"}}},
        "example": {"instances": [[1.0, 2.0]]},
    }
}
_INDEX_BODY = {
    "application/json": {
        "schema": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
    }
}
_LOAD_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {
                "parameters": {
                    "type": "object",
                    "properties": {"uri": {"type": "string", "example": "models:/churn@champion"}},
                }
            },
        },
    }
}


def openapi_document() -> dict[str, Any]:
    """Describe every endpoint of the serving process."""
    ready = {"200": _JSON_OK, "503": _ERROR}
    invocations = _op(
        "Predict (MLflow scoring protocol): {'predictions': [...]}",
        {"200": _JSON_OK, **_PREDICT_ERRORS},
        _INVOCATIONS_BODY,
    )
    named = _v2_name(("name",))
    paths: dict[str, Any] = {
        "/invocations": {"post": {**invocations, "parameters": [_MODEL_HEADER]}},
        "/invocations/{name}": {"post": {**invocations, "parameters": named}},
        "/ping": {"get": _op("200 once every model is loaded", ready)},
        "/health": {"get": _op("Served versions and last reload errors", ready)},
        "/v1/models": {"get": _op("KServe V1: the names of the models served", {"200": _JSON_OK})},
        "/v1/models/{name}": {
            "get": {
                **_op("KServe V1 model readiness", {**ready, "404": _ERROR}),
                "parameters": named,
            }
        },
        "/v1/models/{name}:predict": {
            "post": {
                **_op(
                    "KServe V1 predict: {'instances': [...]} in, {'predictions': [...]} out",
                    {"200": _JSON_OK, **_PREDICT_ERRORS},
                    _V1_BODY,
                ),
                "parameters": named,
            }
        },
        "/v2/repository/index": {
            "post": _op(
                "Model repository: every model's name, version, state and reason",
                {"200": _JSON_OK, "400": _ERROR},
                _INDEX_BODY,
                required=False,
            )
        },
        "/v2/repository/models/{name}/load": {
            "post": {
                **_op(
                    "Model repository: load a model again, or add one at parameters.uri",
                    {"200": _JSON_OK, **_CHANGE_ERRORS},
                    _LOAD_BODY,
                    required=False,
                ),
                "parameters": named,
            }
        },
        "/v2/repository/models/{name}/unload": {
            "post": {
                **_op(
                    "Model repository: stop serving a model", {"200": _JSON_OK, **_CHANGE_ERRORS}
                ),
                "parameters": named,
            }
        },
        "/version": {"get": _op("MLflow protocol version", {"200": {"description": "OK"}})},
        "/metrics": {
            "get": _op("Prometheus metrics of all workers", {"200": {"description": "OK"}})
        },
        "/openapi.json": {"get": _op("This document", {"200": _JSON_OK})},
        "/v2": {"get": _op("V2 server metadata", {"200": _JSON_OK})},
        "/v2/health/live": {"get": _op("V2 liveness", {"200": _JSON_OK})},
        "/v2/health/ready": {"get": _op("V2 readiness", ready)},
    }
    for prefix, params in (
        ("/v2/models/{name}", ("name",)),
        ("/v2/models/{name}/versions/{version}", ("name", "version")),
    ):
        parameters = _v2_name(params)
        paths[prefix] = {
            "get": {**_op("V2 model metadata", {**ready, "404": _ERROR}), "parameters": parameters}
        }
        paths[f"{prefix}/ready"] = {
            "get": {**_op("V2 model readiness", {**ready, "404": _ERROR}), "parameters": parameters}
        }
        paths[f"{prefix}/infer"] = {
            "post": {
                **_op("V2 inference", {"200": _JSON_OK, **_PREDICT_ERRORS}, _INFER_BODY),
                "parameters": parameters,
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Modelyard serving", "version": __version__},
        "paths": paths,
        "components": {
            "responses": {
                "Error": {
                    "description": "Error body",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["error_code", "message"],
                                "properties": {
                                    "error_code": {"type": "string"},
                                    "message": {"type": "string"},
                                    "details": {"type": "object"},
                                },
                            }
                        }
                    },
                }
            }
        },
    }
