"""A Mesos operator-API client written from Mesos's docs/operator-http-api.md
wire format, with the Python standard library only (no rmesos code): it
makes every read call the master serves, then watches the SUBSCRIBE event
stream (RecordIO: "<length>\\n<json>") and prints one line per event, until
the framework it is told to wait for is removed.

    python3 operator_api.py <master ip:port> calls
    python3 operator_api.py <master ip:port> watch <framework name>
    python3 operator_api.py <master ip:port> garbage
"""

import http.client
import json
import socket
import sys

HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
READS = [
    "GET_HEALTH", "GET_FLAGS", "GET_VERSION", "GET_METRICS", "GET_LOGGING_LEVEL",
    "GET_STATE", "GET_AGENTS", "GET_FRAMEWORKS", "GET_EXECUTORS", "GET_TASKS",
    "GET_ROLES", "GET_MASTER", "GET_MAINTENANCE_STATUS",
]


def connect(master):
    host, port = master.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=60)


def call(conn, body):
    conn.request("POST", "/api/v1", json.dumps(body), HEADERS)
    resp = conn.getresponse()
    return resp.status, resp.read()


def calls(master):
    # One keep-alive connection for every call, as operator tools do.
    conn = connect(master)
    for ty in READS:
        status, body = call(conn, {"type": ty})
        assert status == 200, (ty, status, body)
        answer = json.loads(body)
        assert answer["type"] == ty, answer
        print("OK", ty, json.dumps(answer[ty.lower()], sort_keys=True)[:200], flush=True)
    state = json.loads(call(conn, {"type": "GET_STATE"})[1])["get_state"]
    print("AGENTS", len(state["get_agents"]["agents"]), flush=True)


def read_record(resp):
    """One RecordIO record: decimal length, newline, that many bytes."""
    digits = b""
    while True:
        c = resp.read(1)
        if not c:
            return None
        if c == b"\n":
            break
        digits += c
    return json.loads(resp.read(int(digits)))


def watch(master, framework):
    conn = connect(master)
    conn.request("POST", "/api/v1", json.dumps({"type": "SUBSCRIBE"}), HEADERS)
    resp = conn.getresponse()
    assert resp.status == 200, resp.status
    assert resp.getheader("Transfer-Encoding") == "chunked", resp.getheaders()
    first = read_record(resp)
    assert first["type"] == "SUBSCRIBED", first
    state = first["subscribed"]["get_state"]
    print("SUBSCRIBED agents=%d" % len(state["get_agents"]["agents"]), flush=True)
    names = {}
    while True:
        event = read_record(resp)
        if event is None:
            print("STREAM ENDED", flush=True)
            sys.exit(1)
        ty = event["type"]
        if ty == "HEARTBEAT":
            print("HEARTBEAT", flush=True)
        elif ty in ("FRAMEWORK_ADDED", "FRAMEWORK_UPDATED"):
            info = event[ty.lower()]["framework"]["framework_info"]
            names[info["id"]["value"]] = info["name"]
            print(ty, info["name"], flush=True)
        elif ty == "TASK_ADDED":
            task = event["task_added"]["task"]
            print(ty, names.get(task["framework_id"]["value"]), task["state"], flush=True)
        elif ty == "TASK_UPDATED":
            u = event["task_updated"]
            # `status` is the update; `state` the task's latest state,
            # which may be ahead of it (an update still being delivered).
            print(ty, names.get(u["framework_id"]["value"]), u["status"]["state"], "latest=" + u["state"],
                  flush=True)
        elif ty == "FRAMEWORK_REMOVED":
            name = event["framework_removed"]["framework_info"]["name"]
            print(ty, name, flush=True)
            if name == framework:
                return
        else:
            print(ty, flush=True)


def garbage(master):
    """Bad input: each gets a clear 4xx, and the master keeps serving."""
    conn = connect(master)
    for body, ctype, want in [
        (b'{"type":', "application/json", 400),
        (b'{"type":"DANCE"}', "application/json", 400),
        (b"\x00\xff\xfe garbage", "application/json", 400),
        (b'{"type":"GET_STATE"}', "application/x-protobuf", 415),
    ]:
        conn.request("POST", "/api/v1", body, {"Content-Type": ctype})
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace").strip()
        assert resp.status == want, (body, resp.status, text)
        print("REFUSED", resp.status, text, flush=True)
    # A request whose body stops short of its Content-Length, then the
    # client goes away: the master must drop it and keep serving.
    host, port = master.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=30)
    s.sendall(b"POST /api/v1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100\r\n\r\n{\"type\":\"GET_")
    s.close()
    status, body = call(connect(master), {"type": "GET_HEALTH"})
    assert status == 200 and json.loads(body)["get_health"]["healthy"], (status, body)
    print("STILL SERVING", flush=True)


if __name__ == "__main__":
    master, mode = sys.argv[1], sys.argv[2]
    if mode == "calls":
        calls(master)
    elif mode == "watch":
        watch(master, sys.argv[3])
    elif mode == "garbage":
        garbage(master)
    print("DONE", flush=True)
