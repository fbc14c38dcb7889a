"""One way to reach the server: an httpx client over HTTP, or over WSGI to the app in-process.

``http(s)://`` URIs get a keep-alive session with bounded retries and the MLflow auth variables;
database URIs (``sqlite:///``, ``postgresql://``, ``mysql://`` or a bare ``*.db`` path) build the
real server app once per URI and call it through ``httpx.WSGITransport``. Everything above this
module sends the same requests either way.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import tenacity

from registry import __version__
from registry.errors import InvalidParameter, RegistryError, TemporarilyUnavailable
from registry.retry import policy, retry_after_seconds

logger = logging.getLogger(__name__)

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
OURS = "/api/2.0/modelyard"
DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
ACCEPTED_SCHEMES = ("http://", "https://", "sqlite:///", "postgresql://", "mysql://", "a *.db path")
_DB_SCHEMES = ("sqlite:", "postgresql:", "postgres:", "mysql:", "mysql+pymysql:")
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_ERRORS = (httpx.TransportError,)
_MAX_DELAY = 8.0
_CHUNK = 1 << 20
_apps: dict[str, Any] = {}
_apps_lock = threading.Lock()


def _new_apps_lock() -> None:
    # A forked child has only the forking thread: a lock another thread held stays held.
    global _apps_lock
    _apps_lock = threading.Lock()


os.register_at_fork(after_in_child=_new_apps_lock)


def normalize_tracking_uri(uri: str) -> str:
    """Turn a tracking URI into its canonical form (a bare ``x.db`` path becomes sqlite).

    Raises:
        InvalidParameter: the scheme is none of the accepted ones.
    """
    uri = uri.strip()
    if uri.startswith(("http://", "https://", *_DB_SCHEMES)):
        return uri
    if "://" not in uri and uri.endswith((".db", ".sqlite", ".sqlite3")):
        return f"sqlite:///{Path(uri).expanduser()}"
    raise InvalidParameter(
        f"Unsupported tracking URI {uri!r}: use one of {', '.join(ACCEPTED_SCHEMES)}."
    )


def is_embedded(uri: str) -> bool:
    """Whether ``uri`` names a database the client opens in-process."""
    return normalize_tracking_uri(uri).startswith(_DB_SCHEMES)


def embedded_artifact_root(uri: str) -> str:
    """Where an embedded store keeps artifacts: ``mlartifacts`` beside the SQLite file.

    For server databases (PostgreSQL, MySQL) it is ``./mlartifacts`` unless
    ``MLFLOW_ARTIFACTS_DESTINATION`` says otherwise.
    """
    explicit = os.environ.get("MLFLOW_ARTIFACTS_DESTINATION")
    if explicit:
        return explicit
    if uri.startswith("sqlite:///"):
        db_path = uri[len("sqlite:///") :].split("?", 1)[0]
        if db_path and db_path != ":memory:":
            return str(Path(db_path).expanduser().resolve().parent / "mlartifacts")
    return str(Path("mlartifacts").resolve())


def _embedded_app(uri: str) -> Any:
    # One app per URI, each bound to its own database: two URIs never share a store.
    with _apps_lock:
        app = _apps.get(uri)
        if app is None:
            from registry.config import Config
            from registry.server.app import create_app

            config = Config(
                database_url=uri,
                artifact_root=embedded_artifact_root(uri),
                serve_ui=False,
                auto_migrate=True,
            )
            app = _apps[uri] = create_app(config)
        return app


def _auth_headers(environ: Mapping[str, str]) -> dict[str, str]:
    token = _token(environ)
    if token:
        return {"Authorization": f"Bearer {token}"}
    return {}


def _token(environ: Mapping[str, str]) -> str:
    """The bearer token: ``MLFLOW_TRACKING_TOKEN``, else the file's first line.

    The file is the one ``MODELYARD_TRACKING_TOKEN_FILE`` names (a mounted Kubernetes or Docker
    secret); empty when neither is set.

    Raises:
        InvalidParameter: the token file cannot be read.
    """
    token = environ.get("MLFLOW_TRACKING_TOKEN", "")
    path = environ.get("MODELYARD_TRACKING_TOKEN_FILE", "")
    if token or not path:
        return token
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as err:
        raise InvalidParameter(f"MODELYARD_TRACKING_TOKEN_FILE={path!r}: {err.strerror}") from None
    return lines[0].strip() if lines else ""


def _basic_auth(environ: Mapping[str, str]) -> httpx.BasicAuth | None:
    user, password = (
        environ.get("MLFLOW_TRACKING_USERNAME"),
        environ.get("MLFLOW_TRACKING_PASSWORD"),
    )
    if user and password is not None and not _token(environ):
        return httpx.BasicAuth(user, password)
    return None


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


class Transport:
    """Sends JSON and artifact requests to one tracking URI, retrying what may succeed later.

    Args:
        tracking_uri: an ``http(s)://`` server or a database URI run in-process.
        max_retries: attempts after the first on 429, 5xx and dropped connections.
        backoff: the wait before the first retry, in seconds; it doubles each time (capped at
            8 s), plus a random jitter. A response's ``Retry-After`` (seconds or a date, up
            to 60 s) is the shortest wait before the next attempt (``registry.retry``).
        timeout: seconds per HTTP request.
    """

    def __init__(
        self,
        tracking_uri: str,
        *,
        max_retries: int = 5,
        backoff: float = 0.2,
        timeout: float = 120.0,
    ) -> None:
        self.tracking_uri = normalize_tracking_uri(tracking_uri)
        self.embedded = self.tracking_uri.startswith(_DB_SCHEMES)
        self.max_retries = max_retries
        self.backoff = backoff
        headers = {"User-Agent": f"modelyard-python-client/{__version__}"}
        if self.embedded:
            wsgi = httpx.WSGITransport(app=_embedded_app(self.tracking_uri))
            self._http = httpx.Client(transport=wsgi, base_url="http://embedded", headers=headers)
        else:
            headers.update(_auth_headers(os.environ))
            self._http = httpx.Client(
                base_url=self.tracking_uri.rstrip("/"),
                headers=headers,
                auth=_basic_auth(os.environ),
                timeout=timeout,
            )

    def close(self) -> None:
        """Close the HTTP session."""
        self._http.close()

    def call(
        self,
        method: str,
        endpoint: str,
        body: dict[str, Any] | None = None,
        *,
        prefix: str = API,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Send one API request (query parameters for GET, a JSON body otherwise).

        Raises:
            RegistryError: the server's error, rebuilt as the same class.
        """
        path = f"{prefix}/{endpoint}"
        if method == "GET":
            params = {k: v for k, v in (body or {}).items() if v is not None}
            response = self._send(method, path, retry, params=params)
        else:
            content = json.dumps(_encode(body or {}), allow_nan=False)
            hdrs = {"Content-Type": "application/json"}
            response = self._send(method, path, retry, content=content, headers=hdrs)
        if not response.content:
            return {}
        data: dict[str, Any] = response.json()
        return data

    def upload(self, artifact_path: str, src: Path) -> None:
        """PUT one local file's bytes to the artifact proxy at ``artifact_path``, streamed.

        Raises:
            RegistryError: the server refused the upload.
        """
        path = artifact_url(artifact_path)
        hdrs = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(src.stat().st_size),
        }

        def attempt() -> httpx.Response:
            # Reopened per attempt: a retry sends the file from its start again.
            with src.open("rb") as stream:
                chunks = iter(lambda: stream.read(_CHUNK), b"")
                return self._http.request("PUT", path, content=chunks, headers=hdrs)

        response = self._retrying(f"PUT {path}", True, attempt)
        if response.status_code >= 400:
            raise _error(response)

    def download(self, artifact_path: str, dst: Path) -> None:
        """Stream one artifact to ``dst`` (written to a temp name, then renamed).

        Raises:
            ArtifactNotFound: nothing is stored at that path.
        """
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".part")
        path = artifact_url(artifact_path)

        def attempt() -> httpx.Response:
            with self._http.stream("GET", path) as response:
                if response.status_code >= 400:
                    response.read()
                    return response
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
            tmp.replace(dst)
            return response

        response = self._retrying(f"GET {path}", True, attempt)
        if response.status_code >= 400:
            raise _error(response)

    def list_artifacts(self, artifact_dir: str) -> list[dict[str, Any]]:
        """The entries of one artifact directory (basename paths, as MLflow's proxy lists them).

        Raises:
            RegistryError: the server refused the listing.
        """
        response = self._send("GET", ARTIFACTS, True, params={"path": artifact_dir})
        files: list[dict[str, Any]] = response.json().get("files") or [] if response.content else []
        return files

    def _send(self, method: str, path: str, retry: bool, **kwargs: Any) -> httpx.Response:
        response = self._retrying(
            f"{method} {path}", retry, lambda: self._http.request(method, path, **kwargs)
        )
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _retrying(
        self, name: str, retry: bool, attempt: Callable[[], httpx.Response]
    ) -> httpx.Response:
        # The project's retry policy: on 429/5xx and dropped connections, up to max_retries
        # times, waiting at least what the server's Retry-After asks. Once the attempts are
        # spent, the last response is the answer (or the last connection error is raised).
        retrying = policy(
            retry=tenacity.retry_if_exception_type(_RETRY_ERRORS)
            | tenacity.retry_if_result(_retryable),
            attempts=self.max_retries + 1 if retry else 1,
            first=self.backoff,
            cap=_MAX_DELAY,
            retry_after=_retry_after,
            name=name,
            # The caller raises the final outcome; each attempt is detail for --debug logs.
            log_level=logging.DEBUG,
            retry_error_callback=_last_outcome,
        )
        try:
            return retrying(attempt)
        except _RETRY_ERRORS as err:
            raise TemporarilyUnavailable(
                f"{name}: cannot reach {self.tracking_uri}: {err}"
            ) from err


def artifact_url(artifact_path: str) -> str:
    """The artifact proxy URL path of ``artifact_path``, percent-encoded (``#``, ``?``, ``%``)."""
    return f"{ARTIFACTS}/{quote(artifact_path, safe='/')}"


def _retryable(response: httpx.Response) -> bool:
    return response.status_code in _RETRY_STATUSES


def _retry_after(state: tenacity.RetryCallState) -> float:
    outcome = state.outcome
    if outcome is None or outcome.failed:
        return 0.0
    response: httpx.Response = outcome.result()
    return retry_after_seconds(response.headers.get("Retry-After"))


def _last_outcome(state: tenacity.RetryCallState) -> httpx.Response:
    assert state.outcome is not None  # tenacity calls this only after an attempt
    response: httpx.Response = state.outcome.result()  # raises the last error, if any
    return response


def _error(response: httpx.Response) -> RegistryError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "error_code" not in body:
        text = response.text[:500].strip()
        body = {"message": f"HTTP {response.status_code} from {response.request.url}: {text}"}
    return RegistryError.from_dict(body, response.status_code)
