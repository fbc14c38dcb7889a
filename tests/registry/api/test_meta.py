from flask.testing import FlaskClient


def test_health_answers_ok_as_text(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.text == "OK"


def test_server_info_reports_no_multipart(client: FlaskClient) -> None:
    body = client.get("/api/3.0/mlflow/server-info").get_json()
    assert body["multipart_uploads_enabled"] is False
    assert body["multipart_downloads_enabled"] is False


def test_unknown_route_is_a_json_404(client: FlaskClient) -> None:
    response = client.get("/api/2.0/mlflow/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error_code"] == "ENDPOINT_NOT_FOUND"
