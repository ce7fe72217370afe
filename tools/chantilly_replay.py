#!/usr/bin/env python3
"""Replays Chantilly's own tests and README usage against a running `rivulet serve`.

Chantilly (online-ml/chantilly) is the server rivulet reimplements. Its tests
(tests/test_api.py, tests/test_scenarios.py) and README examples are replayed
here with the pickled models replaced by rivulet definitions; every answer is
compared, field by field, with what Chantilly returns. Python 3 and requests
only (no numpy), so that it runs anywhere a Chantilly client would.

    rivulet serve --port 0 --port-file /tmp/x.port --db /tmp/x.db &
    python3 tools/chantilly_replay.py http://127.0.0.1:$(cat /tmp/x.port)

It resets the server (POST /api/init) many times: point it at a scratch
server. Exit status 1 if any check fails; each failure is printed.
"""
import json
import socket
import sys
import threading
import time

import requests

LIN_REG = "preprocessing.StandardScaler() | linear_model.LinearRegression()"
LOG_REG = "preprocessing.StandardScaler() | linear_model.LogisticRegression()"
MULTI = "neighbors.KNNClassifier()"

failures = []


def check(label, got, want):
    if got != want:
        failures.append(label)
        print(f"FAIL {label}: got {got!r}, Chantilly gives {want!r}")


def post_json(s, path, payload):
    """As test_api.py posts: json.dumps with content_type='application/json'."""
    return requests.post(s + path, data=json.dumps(payload), headers={"Content-Type": "application/json"})


def init(s, flavor):
    check(f"init {flavor}", post_json(s, "/api/init", {"flavor": flavor}).status_code, 201)


def test_api(s):
    """tests/test_api.py, one block per test."""
    init(s, "regression")  # a clean slate; then a bad flavor
    r = post_json(s, "/api/init", {"flavor": "zugzug"})
    check("test_init_bad_flavor", (r.status_code, r.json()),
          (400, {"message": "Allowed flavors are 'regression', 'binary', 'multiclass'."}))
    init(s, "regression")
    j = requests.get(s + "/api/init").json()
    check("test_init fields", {"flavor", "storage", "river_version"} <= set(j), True)
    check("test_init flavor", j["flavor"], "regression")

    r = requests.post(s + "/api/model/healthy-banana", data="linear_model.LinearRegression()")
    check("test_model_upload", (r.status_code, r.json()), (201, {"name": "healthy-banana"}))
    check("test_model_upload GET by name", requests.get(s + "/api/model/healthy-banana").status_code, 200)
    check("test_model_upload GET default", requests.get(s + "/api/model").status_code, 200)
    check("test_delete_unknown_model", requests.delete(s + "/api/model/kayser-soze").status_code, 404)
    check("test_delete_model", requests.delete(s + "/api/model/healthy-banana").status_code, 204)
    check("test_delete_model gone", "healthy-banana" in requests.get(s + "/api/models").json()["models"], False)

    init(s, "regression")
    requests.post(s + "/api/model/ted-mosby", data="linear_model.LinearRegression()")
    requests.post(s + "/api/model/barney-stinson", data="linear_model.LinearRegression()")
    j = requests.get(s + "/api/models").json()
    check("test_models", (j["default"], j["models"]), ("barney-stinson", ["barney-stinson", "ted-mosby"]))

    init(s, "regression")
    check("test_predict_no_model", post_json(s, "/api/predict", {"features": {}}).json(),
          {"message": "No default model has been set."})
    requests.post(s + "/api/model/lin-reg", data=LIN_REG)
    check("test_predict_no_features", post_json(s, "/api/predict", {"id": 42}).json(),
          {"message": {"features": ["required field"]}})
    check("test_predict_unknown_model",
          post_json(s, "/api/predict", {"features": {}, "model": "healthy-banana"}).json(),
          {"message": "No model named 'healthy-banana'."})
    r = post_json(s, "/api/predict", {"features": {}})
    check("test_predict", (r.status_code, "prediction" in r.json()), (200, True))
    r = post_json(s, "/api/predict", {"features": {}, "id": "90210"})
    check("test_predict_with_id", (r.status_code, r.json()), (201, {"model": "lin-reg", "prediction": 0}))
    r = post_json(s, "/api/predict", {"features": {}, "model": "lin-reg"})
    check("test_predict_model_name", (r.status_code, r.json()), (200, {"model": "lin-reg", "prediction": 0.0}))
    check("test_learn_no_ground_truth", post_json(s, "/api/learn", {"features": {"x": 1}}).json(),
          {"message": {"ground_truth": ["required field"]}})
    check("test_learn_no_features", post_json(s, "/api/learn", {"ground_truth": True}).json(),
          {"message": "No features are stored and none were provided."})
    check("test_learn", post_json(s, "/api/learn", {"features": {"x": 1}, "ground_truth": True}).status_code, 201)
    post_json(s, "/api/predict", {"id": 42, "features": {"x": 1}})
    check("test_learn_with_id", post_json(s, "/api/learn", {"id": 42, "ground_truth": True}).status_code, 201)
    r = post_json(s, "/api/learn", {"id": 42, "features": {"x": 1}, "ground_truth": True})
    check("test_learn_unknown_id", (r.status_code, r.json()), (400, {"message": "No information stored for ID '42'."}))
    check("test_learn_model_name", post_json(s, "/api/learn", {"features": {}, "ground_truth": 7, "model": "lin-reg"}).status_code, 201)

    init(s, "regression")
    zero = {"ewm_duration": 0, "ewm_duration_human": "0ns", "mean_duration": 0, "mean_duration_human": "0ns", "n_calls": 0}
    j = requests.get(s + "/api/stats").json()
    check("test_stats", {k: {f: j[k][f] for f in zero} for k in ("learn", "predict")}, {"learn": zero, "predict": zero})
    init(s, "regression")
    check("test_learn_no_model", post_json(s, "/api/learn", {"features": {"x": 1}, "ground_truth": True}).json(),
          {"message": "No default model has been set."})
    init(s, "regression")
    requests.post(s + "/api/model/lin-reg", data=LIN_REG)
    post_json(s, "/api/predict", {"features": {}})
    post_json(s, "/api/learn", {"features": {}, "ground_truth": True})
    j = requests.get(s + "/api/stats").json()
    for k in ("predict", "learn"):
        check(f"test_stats_{k}", (j[k]["n_calls"], j[k]["mean_duration"] > 0, j[k]["ewm_duration"] > 0), (1, True, True))
    check("test_metrics_with_flavor", len(requests.get(s + "/api/metrics").json()) > 0, True)


def test_no_flavor(s):
    """The tests that need a fresh server: run first, before any init."""
    for path in ("/api/init", "/api/stats", "/api/metrics"):
        r = requests.get(s + path)
        check(f"{path} without flavor", (r.status_code, r.json()), (400, {"message": "No flavor has been set."}))
    r = requests.post(s + "/api/model", data="linear_model.LinearRegression()")
    check("test_model_no_flavor", (r.status_code, r.json()), (400, {"message": "No flavor has been set."}))


def test_scenarios(s):
    """tests/test_scenarios.py's flows, on synthetic features (no dataset offline)."""
    init(s, "binary")
    requests.post(s + "/api/model", data=LOG_REG)
    for i in range(30):
        x = {"a": i % 7, "b": (i * 3) % 5 / 5}
        r = post_json(s, "/api/predict", {"id": i, "features": x})
        p = r.json()["prediction"]
        check(f"phishing predict {i}", (r.status_code, sorted(p), abs(p["true"] + p["false"] - 1) < 1e-12),
              (201, ["false", "true"], True))
        check(f"phishing learn {i}", post_json(s, "/api/learn", {"id": i, "ground_truth": i % 3 == 0}).status_code, 201)
    j = requests.get(s + "/api/metrics").json()
    check("binary metric names", sorted(j), sorted(["Accuracy", "LogLoss", "Precision", "Recall", "F1"]))
    init(s, "multiclass")
    check("multiclass metric names", sorted(requests.get(s + "/api/metrics").json()),
          sorted(["Accuracy", "CrossEntropy", "MacroPrecision", "MacroRecall", "MacroF1",
                  "MicroPrecision", "MicroRecall", "MicroF1"]))
    check("multiclass upload", requests.post(s + "/api/model", data=MULTI).status_code, 201)


def read_sse(s, path, seconds, out):
    """The raw stream, parsed as sseclient does: blank-line separated, event defaults to 'message'."""
    host, port = s.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=seconds)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    raw, end = b"", time.time() + seconds
    try:
        while time.time() < end:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
    except socket.timeout:
        pass
    sock.close()
    body = raw.split(b"\r\n\r\n", 1)[1].decode()
    # undo chunked transfer coding
    text, rest = "", body
    while rest:
        size_line, _, rest = rest.partition("\r\n")
        size = int(size_line or "0", 16)
        if size == 0:
            break
        text, rest = text + rest[:size], rest[size + 2:]
    for block in text.split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            out.append((event, json.loads("\n".join(data))))


def test_streams(s):
    """README: sseclient on /api/stream/metrics (msg.data) and /api/stream/events (msg.event)."""
    init(s, "regression")
    requests.post(s + "/api/model", data=LIN_REG)
    got = {"/api/stream/metrics": [], "/api/stream/events": []}
    threads = [threading.Thread(target=read_sse, args=(s, p, 1.5, got[p])) for p in got]
    for t in threads:
        t.start()
    time.sleep(0.4)
    requests.post(s + "/api/predict", json={"id": 42, "features": {"shop": "Ikea", "x": 2}})
    requests.post(s + "/api/learn", json={"id": 42, "ground_truth": 10.21})
    for t in threads:
        t.join()
    metrics, events = got["/api/stream/metrics"], got["/api/stream/events"]
    check("metrics stream: unnamed messages", [e for e, _ in metrics], ["message"])
    check("metrics stream: the metrics", sorted(metrics[0][1]) if metrics else None, ["MAE", "RMSE", "SMAPE"])
    check("events stream: names", [e for e, _ in events], ["predict", "learn"])
    if len(events) == 2:
        check("predict event fields", {"model", "features", "prediction"} <= set(events[0][1]), True)
        check("learn event fields", {"model", "features", "prediction", "ground_truth"} <= set(events[1][1]), True)
        check("learn event prediction is the kept one", events[1][1]["prediction"], events[0][1]["prediction"])


def test_http(s):
    """What Python clients send: charsets, no or other content types, 100-continue, sessions, gzip."""
    init(s, "regression")
    requests.post(s + "/api/model", data=LIN_REG)
    body = json.dumps({"features": {"x": 1}})
    for ct in ("application/json", "application/json; charset=utf-8", None, "application/x-www-form-urlencoded"):
        r = requests.post(s + "/api/predict", data=body.encode(), headers={"Content-Type": ct} if ct else {})
        check(f"Content-Type {ct}", r.status_code, 200)
    r = requests.post(s + "/api/predict", data=body, headers={"Expect": "100-continue"})
    check("Expect: 100-continue", r.status_code, 200)
    with requests.Session() as session:
        check("keep-alive session", [session.post(s + "/api/predict", json={"features": {"x": i}}).status_code
                                     for i in range(5)], [200] * 5)
    r = requests.get(s + "/api/metrics", headers={"Accept-Encoding": "gzip, deflate"})
    check("Accept-Encoding gzip", (r.status_code, sorted(r.json())), (200, ["MAE", "RMSE", "SMAPE"]))


def main():
    s = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
    if requests.get(s + "/api/init").status_code == 400:
        test_no_flavor(s)
    for test in (test_api, test_scenarios, test_streams, test_http):
        test(s)
    print(f"{len(failures)} failures" if failures else "all checks match Chantilly")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
