"""The local Model Serving stand-in (course.standins.serving) does what its docstring says: real
``mlflow models serve`` processes on 127.0.0.1, real HTTP answers, a seeded traffic split, and no
process left behind. One small scikit-learn model, logged to the course's test MLflow store."""
import os

import mlflow
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from course import datasets, tracking
from course.standins import serving

MODEL = "serving_standin_test"
ROUTES = [{"served_model_name": "a", "traffic_percentage": 70}, {"served_model_name": "b", "traffic_percentage": 30}]


@pytest.fixture(scope="module")
def versions():
    tracking.start_tracking("unit-serving")
    data = datasets.load("diabetes")
    X, y = data[["bmi", "bp"]], data["target"]
    found = []
    for columns in (["bmi"], ["bmi", "bp"]):
        model = LinearRegression().fit(X[columns], y)
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(model, name="model", input_example=X[columns].head(2),
                                            pip_requirements=["scikit-learn"], registered_model_name=MODEL)
        found.append((info.registered_model_version, model.predict(X[columns].head(2))))
    return found


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_split_requests_is_seeded_and_follows_the_percentages():
    first = serving.split_requests(ROUTES, 2000, seed=3)
    assert first == serving.split_requests(ROUTES, 2000, seed=3)
    assert first != serving.split_requests(ROUTES, 2000, seed=4)
    assert abs(first.count("b") / 2000 - 0.30) < 0.04


@pytest.mark.parametrize("change, message", [
    ({"traffic_percentage": 50}, "add up to"),
    ({"traffic_percentage": 0.7}, "integer"),
    ({"served_model_name": "c"}, "not a served entity"),
])
def test_validate_config_refuses_what_databricks_refuses(change, message):
    entities = [{"name": n, "entity_name": "m", "entity_version": "1"} for n in "ab"]
    routes = [{**ROUTES[0], **change}, ROUTES[1]]
    with pytest.raises(serving.ServingError, match=message):
        serving.validate_config({"served_entities": entities, "traffic_config": {"routes": routes}})


def test_a_server_answers_http_and_is_stopped(versions):
    version, expected = versions[0]
    with serving.ModelServer(f"models:/{MODEL}/{version}") as server:
        pids = server.pids()
        rows = datasets.load("diabetes")[["bmi"]].head(2)
        answer = server.invocations({"dataframe_split": rows.to_dict(orient="split")})
        assert answer["predictions"] == pytest.approx(list(expected))
        with pytest.raises(serving.ServingError) as bad:
            server.invocations({"columns": ["bmi"], "data": [[0.1]]})
        assert bad.value.status_code == 400
    server.process.wait(10)
    assert pids and not any(_alive(p) for p in pids[:1])


def test_start_up_failure_shows_the_log():
    with pytest.raises(serving.ServingError, match="exited with code|did not answer"):
        serving.ModelServer(f"models:/{MODEL}_missing/1", timeout=60).start()


def test_endpoint_splits_traffic_between_two_versions(versions):
    (v1, p1), (v2, p2) = versions
    config = {"served_entities": [{"name": "a", "entity_name": MODEL, "entity_version": v1},
                                  {"name": "b", "entity_name": MODEL, "entity_version": v2}],
              "traffic_config": {"routes": ROUTES}}
    rows = datasets.load("diabetes")[["bmi", "bp"]].head(1)
    with serving.get_deploy_client("databricks", seed=5) as client:
        client.create_endpoint(config={"name": "split", "config": config})
        answers = [client.predict(endpoint="split", inputs={"dataframe_records": rows.to_dict(orient="records")})
                   for _ in range(40)]
        log = client.request_log("split")
        assert list(log["served_model"]) == serving.split_requests(ROUTES, 40, seed=5)
        for answer, served in zip(answers, log["served_model"]):
            assert answer["predictions"][0] == pytest.approx((p1 if served == "a" else p2)[0])
        servers = [s for s in client._endpoints["split"].servers.values()]
    assert not any(s.running for s in servers)
