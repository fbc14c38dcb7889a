"""The models one serving process serves, by name: ``ModelTable``.

Each ``ServedModel`` has its own ``ModelSlot`` and ``Watcher`` (so each follows its own stage or
alias). The table is built in the gunicorn master (loading every model there when preloading)
and copied into each worker by fork; ``start`` then starts the watchers in the worker.

A request finds its model with one dict lookup. Changes (the Open Inference Protocol's model
repository ``load`` and ``unload``) replace the dict, never mutate it, so a reader never sees a
half-made change.

Across workers, the wanted state (which models, at which URI, loaded or not) lives in one JSON
file in the process's work directory, changed under a file lock with a generation number. The
worker that takes a change applies it at once, then wakes the others through a datagram socket
each worker binds in that directory; each worker also re-reads the file every
``poll_interval`` seconds (a safety net, and how a worker started later catches up).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from registry.errors import InvalidParameter, InvalidState, ModelNotReady, NotFound, RegistryError
from serving import metrics
from serving.config import ServingConfig
from serving.loader import LoadedModel, ModelSource, registered_name
from serving.slot import ModelSlot
from serving.specs import check_name, model_specs
from serving.watcher import Watcher

logger = logging.getLogger(__name__)

READY, LOADING, UNAVAILABLE = "READY", "LOADING", "UNAVAILABLE"
LOAD_WAIT_SECONDS = 10.0
"""How long a repository load waits for a load of the same model already in progress in its
worker before answering 409."""


class ModelFailed(Exception):
    """A configured model that did not load or resolve at start-up (its URI, and why)."""

    def __init__(self, uri: str, message: str) -> None:
        super().__init__(f"{uri}: {message}")
        self.uri = uri
        self.message = message


@dataclasses.dataclass
class ServedModel:
    """One served model: its name, URI, slot and watcher; ``wanted`` False once unloaded.

    ``required`` False: it does not count for readiness until loaded (a model another worker
    loaded through the repository, which this worker loads in the background).
    """

    name: str
    uri: str
    slot: ModelSlot
    watcher: Watcher
    wanted: bool = True
    required: bool = True

    @classmethod
    def create(
        cls,
        config: ServingConfig,
        name: str,
        uri: str,
        model: LoadedModel | None = None,
        wanted: bool = True,
        *,
        required: bool = True,
        remote_only: bool = False,
    ) -> ServedModel:
        """A ServedModel serving ``model`` (None: its watcher loads it once started).

        ``remote_only``: its URI came from the network, so files on this host are refused.
        """
        slot = ModelSlot(model, served_as=name)
        watcher = Watcher(config, slot, uri, remote_only=remote_only)
        return cls(name, uri, slot, watcher, wanted, required)

    def state(self) -> tuple[str, str]:
        """Its repository state (``READY``, ``LOADING``, ``UNAVAILABLE``) and the reason."""
        if not self.wanted:
            return UNAVAILABLE, "unloaded"
        if self.slot.current is not None:
            return READY, self.slot.load_error
        return LOADING, self.slot.load_error

    def start(self) -> None:
        """Publish the model in metrics and start following it (once per worker)."""
        if self.wanted:
            self.slot.publish()
            self.watcher.start()

    def retire(self) -> None:
        """Stop following and serving it."""
        self.watcher.stop()
        self.slot.retire()


class ModelTable:
    """The models of a serving process, by name (also what the gRPC server serves).

    Args:
        config: the process configuration.
        models: the models, in the order they were configured.
        state_file: where workers share the wanted state ("" in one process: changes stay in it).
    """

    def __init__(
        self, config: ServingConfig, models: Iterable[ServedModel], state_file: str = ""
    ) -> None:
        self.config = config
        self._models: dict[str, ServedModel] = {}
        self.single: ServedModel | None = None
        """The one model, when exactly one is configured (requests need not name it)."""
        self._install({m.name: m for m in models})
        self._lock = threading.Lock()
        self._pending: dict[str, ServedModel] = {}
        """Models another worker changed, loading here beside what this worker serves."""
        self._loading: dict[str, threading.Lock] = {}
        """One repository load of a name at a time in this worker."""
        self._shared = _SharedState(state_file, config.poll_interval) if state_file else None
        self._generation = 0
        if self._shared is not None:
            self._shared.write(0, {m.name: (m.uri, m.wanted) for m in self._models.values()})

    @classmethod
    def from_config(
        cls,
        config: ServingConfig,
        model: LoadedModel | None = None,
        *,
        load: bool = False,
        resolve: bool = False,
        state_file: str = "",
    ) -> ModelTable:
        """The table of every model the configuration names.

        Args:
            config: the process configuration.
            model: the URI argument's model, loaded already.
            load: load every other model now (in the master, before fork).
            resolve: without ``load``, resolve each URI now (it must name something).
            state_file: as for ``ModelTable``.

        Raises:
            ValueError: as ``model_specs``, or two models end up with one name.
            ModelFailed: a model did not load (with ``load``) or resolve (with ``resolve``).
        """
        served: list[ServedModel] = []
        for spec in model_specs(config):
            loaded = model if not spec.name and model is not None else None
            found = loaded.name if loaded else registered_name(spec.uri)
            if loaded is None and (load or resolve):
                source = ModelSource(
                    spec.uri, config.tracking_uri, allow_pickle=config.allow_pickle
                )
                try:
                    if load:
                        loaded = source.load()
                        metrics.LOAD_SECONDS.observe(loaded.load_seconds)
                        found = loaded.name
                    else:
                        target = source.resolve()
                        found = target.name if target else ""
                except RegistryError as err:
                    raise ModelFailed(spec.uri, err.message) from err
                except Exception as err:
                    raise ModelFailed(spec.uri, f"{type(err).__name__}: {err}") from err
            name = spec.name or config.model_name or found or "model"
            if any(s.name == name for s in served):
                raise ValueError(f"model {name!r} is named twice")
            served.append(ServedModel.create(config, name, spec.uri, loaded))
        return cls(config, served, state_file)

    def _install(self, models: dict[str, ServedModel]) -> None:
        # One assignment each: a request sees the old table or the new one.
        self._models = models
        self.single = next(iter(models.values())) if len(models) == 1 else None

    # The protocol the gRPC server calls: model(), names(), ready().

    def model(self, name: str, version: str | None = None) -> LoadedModel:
        """The model served as ``name`` now (of ``version``, when given).

        Raises:
            NotFound: no model of that name (or not that version) is served.
            ModelNotReady: the model is not loaded (yet, or any more).
        """
        served = self._models.get(name)
        if served is None:
            raise NotFound(f"Model '{name}' is not served here.")
        return current_of(served, version)

    def names(self) -> list[str]:
        """The names of the models served (unloaded ones included)."""
        return list(self._models)

    def ready(self) -> bool:
        """True when every model that should be loaded is.

        A model that another worker added or loaded again counts only once loaded here: an
        operator's load never makes a ready worker unready.
        """
        return not self.waiting()

    def waiting(self) -> list[ServedModel]:
        """The models readiness waits for: wanted, required and not loaded yet."""
        return [
            m for m in self._models.values() if m.wanted and m.required and m.slot.current is None
        ]

    def take(self, served: ServedModel, version: str | None = None) -> LoadedModel:
        """What ``served`` serves now, as ``current_of`` (retried on what replaced it).

        A request that looked ``served`` up just before a change replaced it gets the new model.

        Raises:
            NotFound: another version is served.
            ModelNotReady: the model is not loaded (yet, or any more).
        """
        try:
            return current_of(served, version)
        except ModelNotReady:
            again = self._models.get(served.name)
            if again is None or again is served:
                raise
            return current_of(again, version)

    def get(self, name: str) -> ServedModel | None:
        """The model served as ``name``, or None."""
        return self._models.get(name)

    def served(self) -> list[ServedModel]:
        """Every model, in configuration order."""
        return list(self._models.values())

    def start(self) -> None:
        """Start every model's watcher, and follow changes made in other workers."""
        for served in self._models.values():
            served.start()
        if self._shared is not None:
            self._shared.start(self.sync)

    # The model repository extension.

    def load(self, name: str, uri: str | None = None) -> LoadedModel:
        """Load ``name`` (again), or add it at ``uri``; every worker follows.

        The model loads in this worker before the change is shared, so a URI that does not
        load changes nothing. The load runs outside the table's locks (requests and other
        workers' changes go on meanwhile); they are taken only to publish it.

        Raises:
            NotFound: no such model, and no ``uri`` to add it.
            InvalidParameter: a bad name, or the model did not load (the message says why).
            InvalidState: a load of ``name`` in this worker did not end within
                ``LOAD_WAIT_SECONDS``.
        """
        with self._lock:
            serialised = self._loading.setdefault(name, threading.Lock())
        if not serialised.acquire(timeout=LOAD_WAIT_SECONDS):
            raise InvalidState(f"Model '{name}' is being loaded already; try again later.")
        try:
            return self._load(name, uri)
        finally:
            serialised.release()

    def _load(self, name: str, uri: str | None) -> LoadedModel:
        with self._lock:
            self._apply_shared()
            current = self._models.get(name)
        if uri is None and current is None:
            raise NotFound(f"Model '{name}' is not served here; give its URI to add it.")
        if current is None:
            try:
                check_name(name)
            except ValueError as err:
                raise InvalidParameter(str(err)) from None
        given = uri is not None
        uri = uri or (current.uri if current else "")
        keep = current is not None and current.wanted and current.uri == uri
        if keep and current:
            served = current
        else:
            served = ServedModel.create(self.config, name, uri, remote_only=given)
        if not served.watcher.check(timeout=LOAD_WAIT_SECONDS):
            raise InvalidState(f"Model '{name}' is being loaded already; try again later.")
        loaded = served.slot.current
        if loaded is None:
            if served is not current:
                served.retire()
            raise InvalidParameter(f"Model '{name}' did not load: {served.slot.load_error}")
        with self._changing():
            if served is not current:
                self._replace(served)
            self._commit()
        return loaded

    def unload(self, name: str) -> None:
        """Stop serving ``name`` in every worker (it stays listed, and may be loaded again).

        Raises:
            NotFound: no such model.
        """
        with self._changing():
            current = self._models.get(name)
            if current is None:
                raise NotFound(f"Model '{name}' is not served here.")
            if current.wanted:
                self._replace(ServedModel.create(self.config, name, current.uri, wanted=False))
            self._commit()

    def index(self) -> list[dict[str, str]]:
        """The repository index: name, version, state and reason of each model."""
        rows = []
        for served in self._models.values():
            state, reason = served.state()
            pending = self._pending.get(served.name)
            if pending is not None and pending.slot.load_error:
                reason = f"{pending.uri} did not load yet: {pending.slot.load_error}"
            current = served.slot.current
            version = current.version if current else ""
            rows.append({"name": served.name, "version": version, "state": state, "reason": reason})
        return rows

    def sync(self) -> None:
        """Apply the wanted state another worker shared, when it is newer than this one's."""
        with self._lock:
            self._apply_shared()

    def _apply_shared(self) -> None:
        shared = self._shared.read() if self._shared is not None else None
        if shared is None or shared[0] == self._generation:
            return
        generation, wanted = shared
        for name, (uri, loaded) in wanted.items():
            current = self._models.get(name)
            pending = self._pending.get(name)
            if not loaded and current is not None and current.wanted:
                self._replace(ServedModel.create(self.config, name, uri, wanted=False))
            elif not loaded or (current is not None and current.wanted and current.uri == uri):
                self._drop_pending(name)  # what it serves is what is wanted
            elif pending is not None and pending.uri == uri:
                pass  # loading already
            elif current is not None and current.wanted and current.slot.current is not None:
                self._load_beside(name, uri)  # the old model serves until the new one is loaded
            else:  # a new name, one unloaded or not loaded yet here: 503 for it until loaded
                required = current is not None and current.wanted and current.required
                self._replace(ServedModel.create(self.config, name, uri, required=required))
        self._generation = generation

    def _load_beside(self, name: str, uri: str) -> None:
        """Load ``name`` at ``uri`` in the background and swap it in once loaded.

        As a watcher swaps a new version: requests and readiness never wait for it.
        """
        self._drop_pending(name)
        served = ServedModel.create(self.config, name, uri, required=False)
        served.watcher.on_loaded = lambda: self._loaded_beside(served)
        self._pending[name] = served
        served.watcher.start()

    def _loaded_beside(self, served: ServedModel) -> None:
        with self._lock:
            if self._pending.get(served.name) is served:
                del self._pending[served.name]
                self._replace(served)

    def _drop_pending(self, name: str) -> None:
        pending = self._pending.pop(name, None)
        if pending is not None:
            pending.retire()

    def _replace(self, served: ServedModel) -> None:
        old = self._models.get(served.name)
        if self._pending.get(served.name) is not served:
            self._drop_pending(served.name)  # a newer change wins over one still loading
        self._install({**self._models, served.name: served})
        if old is not None and old is not served:
            old.retire()
        served.start()

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Hold the file lock (other workers' changes) and ours; start from the newest state."""
        shared = self._shared.locked() if self._shared is not None else contextlib.nullcontext()
        with shared, self._lock:
            self._apply_shared()
            yield

    def _commit(self) -> None:
        self._generation += 1
        if self._shared is not None:
            wanted = {m.name: (m.uri, m.wanted) for m in self._models.values()}
            self._shared.write(self._generation, wanted)
            self._shared.notify()


def current_of(served: ServedModel, version: str | None = None) -> LoadedModel:
    """The model ``served`` serves now (of ``version``, when given).

    Raises:
        NotFound: another version is served.
        ModelNotReady: the model is not loaded (yet, or any more).
    """
    current = served.slot.current
    if current is None:
        if not served.wanted:
            raise ModelNotReady(f"Model '{served.name}' is unloaded.")
        error = served.slot.load_error
        raise ModelNotReady(
            f"Model '{served.name}' is not loaded yet" + (f": {error}" if error else "")
        )
    if version is not None and version != current.version:
        raise NotFound(
            f"Model '{served.name}' version '{version}' is not served; {current.version} is."
        )
    return current


class _SharedState:
    """The wanted state in a file all workers read, and the sockets that wake them."""

    def __init__(self, path: str, poll_interval: float) -> None:
        self.path = Path(path)
        self.poll_interval = poll_interval
        self.wakeups = self.path.parent / "wakeups"
        self._socket: socket.socket | None = None

    def read(self) -> tuple[int, dict[str, tuple[str, bool]]] | None:
        """The generation and the wanted models, or None when the file is missing."""
        try:
            data: dict[str, Any] = json.loads(self.path.read_bytes())
        except (OSError, ValueError):
            return None
        wanted = {m["name"]: (m["uri"], bool(m["loaded"])) for m in data["models"]}
        return int(data["generation"]), wanted

    def write(self, generation: int, wanted: dict[str, tuple[str, bool]]) -> None:
        """Replace the file in one rename (a reader sees the old state or the new)."""
        models = [{"name": n, "uri": u, "loaded": loaded} for n, (u, loaded) in wanted.items()]
        body = json.dumps({"generation": generation, "models": models})
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        partial.write_text(body)
        os.replace(partial, self.path)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file lock that serialises changes across workers."""
        with open(self.path.with_suffix(".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(self, sync: Callable[[], None]) -> None:
        """In a worker: bind its wake-up socket and start the thread that calls ``sync``."""
        self.wakeups.mkdir(exist_ok=True)
        address = self.wakeups / f"{os.getpid()}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            address.unlink(missing_ok=True)
            sock.bind(str(address))
            sock.settimeout(self.poll_interval)
            self._socket = sock
        except OSError as err:  # e.g. a path over the 107 bytes of a socket address
            sock.close()
            logger.warning(
                "no wake-up socket (%s): model changes reach this worker by polling", err
            )
        sync()  # a worker started after a change serves the changed state from its first request
        threading.Thread(target=self._run, args=(sync,), name="model-table", daemon=True).start()

    def _run(self, sync: Callable[[], None]) -> None:
        while True:
            if self._socket is None:
                threading.Event().wait(self.poll_interval)
            else:
                try:
                    self._socket.recv(16)
                except TimeoutError:
                    pass  # the poll interval: read the file anyway
                except OSError as err:  # never let the thread die: poll from now on
                    logger.warning("wake-up socket failed (%s): polling for model changes", err)
                    broken, self._socket = self._socket, None
                    broken.close()
            try:
                sync()
            except Exception:  # never let the thread die: the next wake-up tries again
                logger.exception("could not apply the shared model state")

    def notify(self) -> None:
        """Wake every other worker; a socket nobody listens on any more is removed."""
        own = f"{os.getpid()}.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            for address in self.wakeups.glob("*.sock"):
                if address.name == own:
                    continue
                try:
                    sock.sendto(b"!", str(address))
                except (ConnectionRefusedError, FileNotFoundError):
                    address.unlink(missing_ok=True)
                except BlockingIOError:
                    pass  # a wake-up is pending already
