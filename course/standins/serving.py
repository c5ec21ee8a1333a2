"""A local stand-in for Databricks Model Serving: ``get_deploy_client("databricks")`` endpoints.

**What it imitates.** The calls of MLflow's Databricks deployments client that create, update,
read, query and delete a serving endpoint for a registered model (``create_endpoint``,
``update_endpoint_config``, ``get_endpoint``, ``list_endpoints``, ``predict``,
``delete_endpoint``), with the endpoint configuration Databricks documents: ``served_entities``
(``name``, ``entity_name``, ``entity_version``, ``workload_size``, ``scale_to_zero_enabled``) and
``traffic_config`` (``routes`` of ``served_model_name`` and ``traffic_percentage``, integers that
add up to 100). Each served entity is a real MLflow scoring server, started with
``mlflow models serve -m models:/<entity_name>/<entity_version> --env-manager local`` on
127.0.0.1 and a free port, one uvicorn worker, answering real HTTP requests on ``/invocations``
with the request formats of Databricks (``dataframe_split``, ``dataframe_records``, ``instances``,
``inputs``). ``predict(endpoint=..., inputs=...)`` routes each request to one served entity by
the configured percentages, as the endpoint's traffic split does; the choice is drawn from a
seeded random generator, so a run is reproducible (``split_requests`` gives the same choices
without any server). ``update_endpoint_config`` keeps the servers of entities whose model and
version did not change, starts the new ones and stops the removed ones. ``ModelServer`` is the
single server, usable on its own.

**What it does not.** No Databricks workspace, no authentication or tokens, no Unity Catalog
permissions (the model is read from the MLflow registry that ``mlflow.get_registry_uri()`` names,
locally the course's sqlite store), no container build (the server runs in this Python
environment: ``--env-manager local``), no workload sizes (``workload_size`` is validated, not
applied: one worker each), no scale to zero and no cold starts, no autoscaling, no GPUs, no
route optimization, no inference tables (``request_log`` is a plain in-memory list, an addition
of this stand-in), no AI Gateway, rate limits, tags, external or foundation models, no
``served_models`` (the legacy field), no per-entity query URL, and no monitoring UI. Endpoints
live as long as the Python process: every server is stopped by ``delete_endpoint``, by leaving
the client's ``with`` block, by ``close()``, and at interpreter exit; each runs in its own process
group, which is killed as a whole. ``seed`` (of ``get_deploy_client``) and ``timeout`` are
additions of this stand-in.
"""
from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import weakref
from pathlib import Path

WORKLOAD_SIZES = ("Small", "Medium", "Large")
REQUEST_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
START_TIMEOUT = 120.0   # seconds: a loaded 2-core machine needs about 10 s per server


class ServingError(RuntimeError):
    """A server did not start, or an endpoint refused a request or a configuration."""

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


def free_port() -> int:
    """A TCP port that nothing listens on at 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_dir() -> Path:
    try:
        from course import paths

        return paths.sub_dir("serving")
    except Exception:  # the course folder is not writable: a temp folder will do
        return Path(tempfile.mkdtemp(prefix="serving-"))


def _stop_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop a server and everything it started (its process group): SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.terminate()
        process.wait(grace)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            process.kill()
        process.wait(5)


class ModelServer:
    """One real ``mlflow models serve`` process for one model URI, bound to 127.0.0.1.

    ``ModelServer(uri).start()`` returns when ``/ping`` answers, or raises ``ServingError`` with
    the tail of the server's log when the process exits or ``timeout`` seconds pass. It is a
    context manager; ``stop()`` kills the whole process group, and so does interpreter exit.
    """

    def __init__(self, model_uri: str, *, port: int | None = None, timeout: float = START_TIMEOUT,
                 workers: int = 1):
        self.model_uri = model_uri
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.timeout = timeout
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self._finalizer = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "mlflow", "models", "serve", "-m", self.model_uri,
                "--env-manager", "local", "--host", self.host, "--port", str(self.port),
                "--workers", str(self.workers)]

    def environment(self) -> dict[str, str]:
        """This process's environment, plus what the server needs: the registry a ``models:/``
        URI resolves against, and this interpreter's scripts folder (``uvicorn``) on PATH."""
        import mlflow

        env = dict(os.environ)
        env["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()
        env["MLFLOW_REGISTRY_URI"] = mlflow.get_registry_uri()
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        return env

    def start(self) -> ModelServer:
        """Start the server and wait until it answers (or raise ServingError)."""
        self.launch()
        self._wait_ready()
        return self

    def launch(self) -> ModelServer:
        """Start the process without waiting (``start`` waits); several servers start side by side."""
        if self.running:
            return self
        self.log_path = _log_dir() / f"server-{self.port}.log"
        log = open(self.log_path, "w")
        try:
            self.process = subprocess.Popen(self.command(), env=self.environment(), stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        finally:
            log.close()
        # Stopped at interpreter exit too, and when this object is garbage-collected.
        self._finalizer = weakref.finalize(self, _stop_group, self.process)
        return self

    def _wait_ready(self) -> None:
        if self.process is None:
            raise ServingError("the server was never launched")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServingError(f"the model server for {self.model_uri} exited with code "
                                   f"{self.process.returncode} before it was ready. Its log ends with:\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise ServingError(f"the model server for {self.model_uri} did not answer /ping within "
                           f"{self.timeout:.0f} s; it was stopped. Its log ends with:\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The server's processes: the ``mlflow models serve`` command and the uvicorn it runs."""
        if not self.running:
            return []
        try:
            import psutil

            parent = psutil.Process(self.process.pid)
            return [parent.pid, *(p.pid for p in parent.children(recursive=True))]
        except Exception:
            return [self.process.pid]

    def invocations(self, body, timeout: float = 30.0) -> dict:
        """POST ``body`` (a dict, or JSON text) to ``/invocations``; the parsed answer, or
        ``ServingError`` with the server's status code and message."""
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}/invocations", data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            try:
                text = json.loads(text).get("message", text)
            except (ValueError, AttributeError):
                pass
            raise ServingError(f"{error.code}: {text}", status_code=error.code) from None

    def stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()          # runs _stop_group once, then never again (not even at exit)

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- configuration and routing --------------------------------------------------------------------

def _entity_name(entity: dict) -> str:
    return entity.get("name") or f"{str(entity['entity_name']).split('.')[-1]}-{entity['entity_version']}"


def validate_config(config: dict) -> dict:
    """Check an endpoint configuration as Databricks would; return it normalised (every served
    entity named, versions as strings, a single entity given 100% when no traffic_config is set).
    Raises ServingError naming the first problem."""
    if not isinstance(config, dict):
        raise ServingError(f"the endpoint config must be a dict; got {type(config).__name__}")
    if "served_models" in config:
        raise ServingError("`served_models` is the legacy field: this stand-in takes `served_entities`")
    entities = config.get("served_entities")
    if not isinstance(entities, list) or not entities:
        raise ServingError("the config needs `served_entities`: a non-empty list of dicts")
    normal = []
    for entity in entities:
        if not isinstance(entity, dict):
            raise ServingError("each served entity must be a dict")
        for key in ("entity_name", "entity_version"):
            if entity.get(key) in (None, ""):
                raise ServingError(f"a served entity has no `{key}`")
        if "@" in str(entity["entity_name"]):
            raise ServingError("`entity_name` is the registered model's name; an endpoint serves a version "
                               "(`entity_version`), not an alias")
        if not str(entity["entity_version"]).isdigit():
            raise ServingError(f"`entity_version` must be a version number; got {entity['entity_version']!r}")
        size = entity.get("workload_size", "Small")
        if size not in WORKLOAD_SIZES:
            raise ServingError(f"`workload_size` must be one of {', '.join(WORKLOAD_SIZES)}; got {size!r}")
        scale = entity.get("scale_to_zero_enabled", False)
        if not isinstance(scale, bool):
            raise ServingError("`scale_to_zero_enabled` must be True or False")
        normal.append({**entity, "name": _entity_name(entity), "entity_version": str(entity["entity_version"]),
                       "workload_size": size, "scale_to_zero_enabled": scale})
    names = [e["name"] for e in normal]
    if len(set(names)) != len(names):
        raise ServingError("two served entities have the same name")
    traffic = config.get("traffic_config")
    if traffic is None:
        if len(normal) > 1:
            raise ServingError("an endpoint with several served entities needs a `traffic_config`")
        traffic = {"routes": [{"served_model_name": names[0], "traffic_percentage": 100}]}
    routes = traffic.get("routes") if isinstance(traffic, dict) else None
    if not isinstance(routes, list) or not routes:
        raise ServingError("`traffic_config` needs `routes`: a list of {served_model_name, traffic_percentage}")
    for route in routes:
        if not isinstance(route, dict) or route.get("served_model_name") not in names:
            raise ServingError(f"a route names {route.get('served_model_name') if isinstance(route, dict) else route!r}, "
                               f"which is not a served entity of this endpoint ({', '.join(names)})")
        share = route.get("traffic_percentage")
        if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= 100:
            raise ServingError(f"`traffic_percentage` must be an integer from 0 to 100; got {share!r}")
    if sum(r["traffic_percentage"] for r in routes) != 100:
        raise ServingError(f"the traffic percentages add up to {sum(r['traffic_percentage'] for r in routes)}, not 100")
    return {**config, "served_entities": normal, "traffic_config": {"routes": [dict(r) for r in routes]}}


class Router:
    """Picks a served entity per request with the configured percentages, from a seeded generator."""

    def __init__(self, routes: list[dict], seed: int | None = 0):
        self.routes = [(r["served_model_name"], r["traffic_percentage"]) for r in routes]
        self.rng = random.Random(seed)

    def next(self) -> str:
        draw, total = self.rng.random() * 100, 0
        for name, share in self.routes:
            total += share
            if draw < total:
                return name
        return [name for name, share in self.routes if share > 0][-1]


def split_requests(routes: list[dict], n: int, seed: int | None = 0) -> list[str]:
    """The served entity each of ``n`` requests goes to: what ``predict`` does, without a server."""
    router = Router(routes, seed)
    return [router.next() for _ in range(n)]


# --- the deployments client ---------------------------------------------------------------------

class Endpoint:
    def __init__(self, name: str, config: dict, servers: dict[str, ModelServer], seed):
        self.name, self.config, self.servers = name, config, servers
        self.router = Router(config["traffic_config"]["routes"], seed)
        self.log: list[dict] = []

    def describe(self) -> dict:
        entities = [{**e, "state": {"deployment": "DEPLOYMENT_READY" if self.servers[e["name"]].running
                                    else "DEPLOYMENT_FAILED"},
                     "local_url": self.servers[e["name"]].url}
                    for e in self.config["served_entities"]]
        ready = all(s.running for s in self.servers.values())
        return {"name": self.name, "state": {"ready": "READY" if ready else "NOT_READY",
                                             "config_update": "NOT_UPDATING"},
                "config": {"served_entities": entities, "traffic_config": self.config["traffic_config"]}}


class DeploymentClient:
    """Local counterpart of ``mlflow.deployments.get_deploy_client("databricks")`` for custom models."""

    def __init__(self, target: str = "databricks", seed: int | None = 0, timeout: float = START_TIMEOUT):
        if target not in ("databricks", "local"):
            raise ValueError(f"this stand-in imitates the 'databricks' target; got {target!r}")
        self.target, self.seed, self.timeout = target, seed, timeout
        self._endpoints: dict[str, Endpoint] = {}

    def _start(self, entities: list[dict], keep: dict[str, ModelServer] | None = None) -> dict[str, ModelServer]:
        keep = dict(keep or {})
        servers, started = {}, []
        try:
            for entity in entities:
                uri = f"models:/{entity['entity_name']}/{entity['entity_version']}"
                reuse = next((n for n, s in keep.items() if s.model_uri == uri and s.running), None)
                if reuse is not None:
                    servers[entity["name"]] = keep.pop(reuse)
                    continue
                server = ModelServer(uri, timeout=self.timeout)
                started.append(server)
                servers[entity["name"]] = server.launch()      # all new servers start side by side
            for server in started:
                server._wait_ready()
        except BaseException:
            for server in started:
                server.stop()
            raise
        return servers

    def create_endpoint(self, name: str | None = None, config: dict | None = None, route_optimized: bool = False) -> dict:
        """Create an endpoint and start one server per served entity. Pass the request payload,
        ``config={"name": ..., "config": {"served_entities": [...], "traffic_config": {...}}}``;
        ``name=`` with ``config=`` the inner config is the older form, deprecated in MLflow 3 (it warns)."""
        if config and "config" in config:
            payload = dict(config)
            if name is not None and payload.get("name", name) != name:
                raise ServingError(f"name mismatch: {name!r} and {payload.get('name')!r}")
            payload.setdefault("name", name)
        else:
            warnings.warn("Passing 'name', 'config', and 'route_optimized' as separate parameters is deprecated. "
                          "Please pass the full API request payload as a single dictionary in the 'config' "
                          "parameter.", UserWarning, stacklevel=2)
            payload = {"name": name, "config": config or {}}
        name = payload.get("name")
        if not name:
            raise ServingError("the endpoint needs a `name`")
        if name in self._endpoints:
            raise ServingError(f"endpoint {name!r} already exists: update it with update_endpoint_config, or "
                               "delete it first", status_code=409)
        normal = validate_config(payload["config"])
        servers = self._start(normal["served_entities"])
        self._endpoints[name] = Endpoint(name, normal, servers, self.seed)
        return self._endpoints[name].describe()

    def update_endpoint_config(self, endpoint: str, config: dict) -> dict:
        """Replace the served entities and traffic split; unchanged entities keep their server."""
        current = self._get(endpoint)
        normal = validate_config(config)
        servers = self._start(normal["served_entities"], keep=current.servers)
        for old in current.servers.values():
            if all(old is not s for s in servers.values()):
                old.stop()
        self._endpoints[endpoint] = Endpoint(endpoint, normal, servers, self.seed)
        self._endpoints[endpoint].log = current.log
        return self._endpoints[endpoint].describe()

    def _get(self, endpoint: str) -> Endpoint:
        if endpoint not in self._endpoints:
            raise ServingError(f"no endpoint named {endpoint!r}", status_code=404)
        return self._endpoints[endpoint]

    def get_endpoint(self, endpoint: str) -> dict:
        return self._get(endpoint).describe()

    def list_endpoints(self) -> list[dict]:
        return [e.describe() for e in self._endpoints.values()]

    def predict(self, deployment_name=None, inputs: dict | None = None, endpoint: str | None = None) -> dict:
        """Send ``inputs`` (a request body) to the endpoint; the traffic split picks the served entity."""
        target = self._get(endpoint or deployment_name)
        served = target.router.next()
        started = time.perf_counter()
        status = 200
        try:
            return target.servers[served].invocations(inputs)
        except ServingError as error:
            status = error.status_code
            raise
        finally:
            target.log.append({"request": len(target.log), "served_model": served, "status": status,
                               "latency_ms": round(1000 * (time.perf_counter() - started), 2)})

    def request_log(self, endpoint: str):
        """Which served entity answered each request (an addition; Databricks has inference tables)."""
        import pandas as pd

        return pd.DataFrame(self._get(endpoint).log, columns=["request", "served_model", "status", "latency_ms"])

    def delete_endpoint(self, endpoint: str) -> None:
        for server in self._get(endpoint).servers.values():
            server.stop()
        del self._endpoints[endpoint]

    def close(self) -> None:
        for name in list(self._endpoints):
            self.delete_endpoint(name)

    def __enter__(self) -> DeploymentClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def get_deploy_client(target: str = "databricks", seed: int | None = 0, timeout: float = START_TIMEOUT) -> DeploymentClient:
    """The local stand-in for ``mlflow.deployments.get_deploy_client("databricks")``."""
    return DeploymentClient(target, seed=seed, timeout=timeout)
