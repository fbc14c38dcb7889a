from __future__ import annotations

import pytest

from registry.errors import InvalidParameter
from registry.search.ast import BoolOp, Comparison, OrderKey
from registry.search.parser import parse_filter, parse_logged_model_order_by, parse_order_by


def one(text: str, entity: str = "runs") -> tuple[str, str, str, object]:
    node = parse_filter(text, entity)
    assert isinstance(node, Comparison), node
    return node.kind, node.key, node.op, node.value


# Every example of section 4 of the protocol notes, plus prefixes, aliases and quoting.
@pytest.mark.parametrize(
    ("text", "entity", "expected"),
    [
        ("metrics.rmse < 6.8", "runs", ("metric", "rmse", "<", 6.8)),
        ("tags.mlflow.runName LIKE 'page-%'", "runs", ("tag", "mlflow.runName", "LIKE", "page-%")),
        (
            "attributes.run_name ILIKE 'PAGE-%'",
            "runs",
            ("attribute", "run_name", "ILIKE", "PAGE-%"),
        ),
        ("attribute.status = 'RUNNING'", "runs", ("attribute", "status", "=", "RUNNING")),
        ("attributes.start_time > 0", "runs", ("attribute", "start_time", ">", 0)),
        ("attributes.run_id IN ('ed2a')", "runs", ("attribute", "run_id", "IN", ("ed2a",))),
        ("tags.`mlflow.runName` = 'page-1'", "runs", ("tag", "mlflow.runName", "=", "page-1")),
        ("tags.\"mlflow.runName\" = 'page-1'", "runs", ("tag", "mlflow.runName", "=", "page-1")),
        ("run_name = 'page-1'", "runs", ("attribute", "run_name", "=", "page-1")),
        ("version_number > 1", "model_versions", ("attribute", "version_number", ">", 1)),
        ("run_id IN ('a', 'b')", "model_versions", ("attribute", "run_id", "IN", ("a", "b"))),
        ("name ILIKE '%EXP%'", "experiments", ("attribute", "name", "ILIKE", "%EXP%")),
        ("tags.owner = 'me'", "registered_models", ("tag", "owner", "=", "me")),
        ("params.`train-data path` = 'x'", "runs", ("param", "train-data path", "=", "x")),
        ("metric.acc >= 1e3", "runs", ("metric", "acc", ">=", 1000.0)),
        ("metrics.loss > -0.5", "runs", ("metric", "loss", ">", -0.5)),
        ("param.a = 'x'", "runs", ("param", "a", "=", "x")),
        ("parameter.a = 'x'", "runs", ("param", "a", "=", "x")),
        ("parameters.a = 'x'", "runs", ("param", "a", "=", "x")),
        ("tag.a != 'x'", "runs", ("tag", "a", "!=", "x")),
        ("attr.user_id = 'ana'", "runs", ("attribute", "user_id", "=", "ana")),
        ("run.status = 'FINISHED'", "runs", ("attribute", "status", "=", "FINISHED")),
        ("dataset.name = 'train'", "runs", ("dataset", "name", "=", "train")),
        (
            "datasets.context IN ('train', 'eval')",
            "runs",
            ("dataset", "context", "IN", ("train", "eval")),
        ),
        ("run name = 'x'", "runs", ("attribute", "run_name", "=", "x")),
        ("`Run Name` = 'x'", "runs", ("attribute", "run_name", "=", "x")),
        ("attributes.`run name` = 'x'", "runs", ("attribute", "run_name", "=", "x")),
        ("created > 5", "runs", ("attribute", "start_time", ">", 5)),
        ("Created > 5", "runs", ("attribute", "start_time", ">", 5)),
        ('params.a = "double"', "runs", ("param", "a", "=", "double")),
        ("params.a = 'it''s'", "runs", ("param", "a", "=", "it's")),
        ("params.a <> 'x'", "runs", ("param", "a", "!=", "x")),
        ("metrics.a == 1", "runs", ("metric", "a", "=", 1)),
        ("metrics.m=1", "runs", ("metric", "m", "=", 1)),
        ("experiment_id = '3'", "experiments", ("attribute", "experiment_id", "=", 3)),
        ("experiment_id IN (1, '2')", "experiments", ("attribute", "experiment_id", "IN", (1, 2))),
        (
            "source_path = 's3://b/x'",
            "model_versions",
            ("attribute", "source_path", "=", "s3://b/x"),
        ),
        (
            "current_stage = 'Production'",
            "model_versions",
            ("attribute", "current_stage", "=", "Production"),
        ),
        ("creation_time > 5", "logged_models", ("attribute", "creation_timestamp", ">", 5)),
        ("last_updated_time < 5", "logged_models", ("attribute", "last_updated_timestamp", "<", 5)),
        ("metrics.acc > 0.5", "logged_models", ("metric", "acc", ">", 0.5)),
        ("source_run_id = 'r'", "logged_models", ("attribute", "source_run_id", "=", "r")),
    ],
)
def test_comparisons(text: str, entity: str, expected: tuple[str, str, str, object]) -> None:
    assert one(text, entity) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.a IN ('x', 'y')", ("param", "a", "IN", ("x", "y"))),
        ("tags.a not in ('x')", ("tag", "a", "NOT IN", ("x",))),
        ("metrics.a IN (1, 2.5)", ("metric", "a", "IN", (1, 2.5))),
        ("metrics.a NOT IN (1)", ("metric", "a", "NOT IN", (1,))),
        ("tags.a IS NULL", ("tag", "a", "IS NULL", None)),
        ("tags.a is not null", ("tag", "a", "IS NOT NULL", None)),
        ("metrics.a IS NULL", ("metric", "a", "IS NULL", None)),
        ("end_time IS NULL", ("attribute", "end_time", "IS NULL", None)),
        ("status NOT IN ('FAILED')", ("attribute", "status", "NOT IN", ("FAILED",))),
        ("start_time in (1, 2)", ("attribute", "start_time", "IN", (1, 2))),
        ("params.a like 'x%'", ("param", "a", "LIKE", "x%")),
    ],
)
def test_extensions_in_and_null_on_any_field(text: str, expected: tuple[str, ...]) -> None:
    assert one(text) == expected


def test_and_binds_tighter_than_or() -> None:
    node = parse_filter("metrics.a > 1 or metrics.b > 2 AND params.c = 'x'", "runs")
    assert isinstance(node, BoolOp)
    assert node.op == "OR"
    first, second = node.operands
    assert first == Comparison("metric", "a", ">", 1, 0)
    assert isinstance(second, BoolOp)
    assert second.op == "AND"
    assert [c.key for c in second.operands if isinstance(c, Comparison)] == ["b", "c"]


def test_parentheses_override_precedence() -> None:
    node = parse_filter("(metrics.a > 1 OR metrics.b > 2) and params.c = 'x'", "runs")
    assert isinstance(node, BoolOp)
    assert node.op == "AND"
    assert isinstance(node.operands[0], BoolOp)
    assert node.operands[0].op == "OR"


def test_positions_point_at_each_key() -> None:
    node = parse_filter("metrics.rmse < 6.8 and params.alpha = '0.1'", "runs")
    assert isinstance(node, BoolOp)
    assert [c.position for c in node.operands if isinstance(c, Comparison)] == [0, 23]


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_filter_is_none(text: str | None) -> None:
    assert parse_filter(text, "runs") is None


@pytest.mark.parametrize(
    ("text", "entity", "position", "token", "message"),
    [
        ("metrics.x = '5'", "runs", 12, "'5'", "Expected numeric value"),
        ("params.x > 0.1", "runs", 9, ">", "Invalid comparator '>'"),
        ("params.x = 0.1", "runs", 11, "0.1", "Expected a quoted string value"),
        ("params.x LIKE 5", "runs", 14, "5", "Expected a quoted pattern"),
        ("foo = 'x'", "runs", 0, "foo", "Invalid attribute key 'foo' specified. Valid keys are"),
        ("lifecycle_stage = 'active'", "runs", 0, "lifecycle_stage", "Invalid attribute key"),
        ("foo = 'x'", "registered_models", 0, "foo", "Valid keys are '{'name'}'"),
        ("metrics.rmse < 1 and metrics.", "runs", 29, "", "expected a key after 'metrics.'"),
        ("metrics.rmse 1", "runs", 13, "1", "expected a comparison operator"),
        ("metrics.rmse < 1 metrics.a < 2", "runs", 17, "metrics.a", "expected AND, OR"),
        ("(metrics.a < 1", "runs", 14, "", "expected ')'"),
        ("metrics.a < 1)", "runs", 13, ")", "unbalanced ')'"),
        ("params.a = 'open", "runs", 11, "'open", "unterminated quote"),
        ("params.a = 'x' and", "runs", 18, "", "expected a key"),
        ("bogus.a = 'x'", "runs", 0, "bogus.a", "Invalid entity type 'bogus'"),
        ("metrics.a > 1", "registered_models", 0, "metrics.a", "registered_models have no metrics"),
        ("datasets.size = 'x'", "runs", 0, "datasets.size", "Invalid dataset key 'size'"),
        ("params.a IN 'x'", "runs", 12, "'x'", "expected '('"),
        ("params.a IN ('x' 'y')", "runs", 17, "'y'", "expected ',' or ')'"),
        ("params.a IN ()", "runs", 13, ")", "expected a value"),
        ("params.a IS 'x'", "runs", 12, "'x'", "expected NULL"),
        ("params.a NOT LIKE 'x'", "runs", 9, "NOT", "expected a comparison operator"),
        ("metrics.a > 1 ; drop", "runs", 14, ";", "unexpected character ';'"),
        ("experiment_id = 'abc'", "experiments", 16, "'abc'", "Expected an integer id"),
        ("version_number > '1'", "model_versions", 17, "'1'", "Expected numeric value"),
        ("start_time LIKE '1%'", "runs", 11, "LIKE", "Invalid comparator 'LIKE'"),
    ],
)
def test_errors_point_at_the_offending_token(
    text: str, entity: str, position: int, token: str, message: str
) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_filter(text, entity)
    err = info.value
    assert err.error_code == "INVALID_PARAMETER_VALUE"
    assert err.details == {"position": position, "token": token}
    assert f"at position {position}" in err.message
    assert message in err.message


def test_nesting_is_bounded() -> None:
    assert parse_filter("(" * 16 + "metrics.a > 1" + ")" * 16, "runs") is not None
    with pytest.raises(InvalidParameter, match="nested deeper than 16") as info:
        parse_filter("(" * 17 + "metrics.a > 1" + ")" * 17, "runs")
    assert info.value.details == {"position": 16, "token": "("}


def test_error_message_quotes_the_token() -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_filter("metrics.rmse < 1 and metrics.x 5", "runs")
    assert info.value.message == (
        "Invalid filter at position 31 near '5': expected a comparison operator"
    )


@pytest.mark.parametrize(
    ("items", "entity", "expected"),
    [
        (["metrics.rmse ASC"], "runs", [OrderKey("metric", "rmse", True)]),
        (["metrics.rmse desc"], "runs", [OrderKey("metric", "rmse", False)]),
        (["attribute.start_time"], "runs", [OrderKey("attribute", "start_time", True)]),
        (["params.`a b` DESC"], "runs", [OrderKey("param", "a b", False)]),
        (["tags.t", "run_name"], "runs", [OrderKey("tag", "t"), OrderKey("attribute", "run_name")]),
        (["`Run Name` DESC"], "runs", [OrderKey("attribute", "run_name", False)]),
        (["creation_time DESC"], "experiments", [OrderKey("attribute", "creation_time", False)]),
        (["name"], "registered_models", [OrderKey("attribute", "name")]),
        (
            ["timestamp DESC"],
            "registered_models",
            [OrderKey("attribute", "last_updated_timestamp", False)],
        ),
        (
            ["version_number DESC"],
            "model_versions",
            [OrderKey("attribute", "version_number", False)],
        ),
        (["", "  "], "runs", []),
    ],
)
def test_order_by(items: list[str], entity: str, expected: list[OrderKey]) -> None:
    assert parse_order_by(items, entity) == expected


@pytest.mark.parametrize(
    ("items", "entity", "position", "token"),
    [
        (["metrics.rmse sideways"], "runs", 13, "sideways"),
        (["foo"], "runs", 0, "foo"),
        (["datasets.name"], "runs", 0, "datasets.name"),
        (["version_number"], "registered_models", 0, "version_number"),
        (["tags.a"], "experiments", 0, "tags.a"),
        (["metrics."], "runs", 8, ""),
    ],
)
def test_bad_order_by(items: list[str], entity: str, position: int, token: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_order_by(items, entity)
    assert info.value.message.startswith("Invalid ordering key")
    assert info.value.details == {"position": position, "token": token}


def test_logged_model_order_by_dicts() -> None:
    keys = parse_logged_model_order_by(
        [
            {"field_name": "metrics.acc", "ascending": False, "dataset_name": "d"},
            {"field_name": "creation_time"},
            {"field_name": "name", "ascending": True},
        ]
    )
    assert keys == [
        OrderKey("metric", "acc", False, dataset_name="d"),
        OrderKey("attribute", "creation_timestamp", True),
        OrderKey("attribute", "name", True),
    ]


@pytest.mark.parametrize("item", [{}, {"field_name": ""}, {"field_name": "bogus"}, "name"])
def test_bad_logged_model_order_by(item: dict[str, object]) -> None:
    with pytest.raises(InvalidParameter, match="Invalid ordering key"):
        parse_logged_model_order_by([item])


def test_unknown_entity_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown entity"):
        parse_filter("name = 'x'", "pipelines")
