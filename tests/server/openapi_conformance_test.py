#!/usr/bin/env python3
"""Conformance of `gpupool serve` to its API description (docs/api.md, data/api/openapi.json).

Starts the real server on a free port of 127.0.0.1 with a fresh data directory and the demo
inventory (data/inventory/demo.yaml: 2 x 8 H100-SXM + 4 x 4 L40S + 2 x 8 A100-SXM-80GB, all
simulated), then exercises every operation of the document and checks each answer twice:
  1. the status code is the one docs/api.md promises for that request;
  2. the status is documented for that path and method, and the body validates against the
     schema the document gives for that status (JSON Schema 2020-12, $refs resolved against the
     whole document).
It also checks the document itself (every schema a valid 2020-12 schema, every $ref resolves)
and that every operation in it was exercised.

Usage: openapi_conformance_test.py --gpupool PATH/TO/gpupool [--verbose]
Needs only the Python standard library and python3-jsonschema (Debian), version 4.10 or newer.
Exit status 0 when every check passed, 1 when one failed, 2 when the test could not run.
The server is always stopped (SIGTERM, then SIGKILL) and the temporary directory removed.
"""

import argparse
import ctypes
import http.client
import json
import math
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
from pathlib import Path

try:
    import jsonschema
    from jsonschema import Draft202012Validator
except ImportError:
    sys.stderr.write("openapi_conformance_test: needs the Python module jsonschema "
                     "(Debian: apt-get install python3-jsonschema; see scripts/install-deps.sh)\n")
    sys.exit(2)
try:  # jsonschema >= 4.18 resolves $ref through a `referencing` registry
    import referencing
    import referencing.jsonschema
except ImportError:  # Debian 12 ships 4.10: RefResolver
    referencing = None

ROOT = Path(__file__).resolve().parents[2]
# The base URI the document is registered under; nothing is ever fetched from it.
DOC_URI = "https://gpupool.invalid/api/v1/openapi.json"
HTTP_TIMEOUT_S = 15
START_TIMEOUT_S = 30
STATE_TIMEOUT_S = 20
JOB_STATES = {"pending", "running", "succeeded", "failed", "cancelled", "timed_out", "lost"}
TERMINAL = JOB_STATES - {"pending", "running"}
# A valid-looking token that was never issued.
BOGUS_TOKEN = "gp_" + "0" * 64
PROM_LINE = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*(\{.*\})?[ \t]+[^ \t]+([ \t]+-?[0-9]+)?$")


class Fatal(Exception):
    """A check whose failure makes the rest of its section meaningless."""


def _pointer_escape(s):
    return s.replace("~", "~0").replace("/", "~1")


def _excerpt(data, n=300):
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8", "replace")
    data = data.replace("\n", " ")
    return data if len(data) <= n else data[:n] + "..."


# --------------------------------------------------------------------------------------------
# The document


class Spec:
    """data/api/openapi.json: schema lookup by (path, method, status) and validation."""

    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self._validators = {}
        self._routes = []  # (regex, template), templates with fewer parameters first
        for template in self.doc.get("paths", {}):
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            self._routes.append((re.compile(regex), template))
        self._routes.sort(key=lambda r: r[1].count("{"))

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise KeyError(f"$ref {ref!r} does not point into this document")
        node = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def self_check(self):
        """Every schema a valid 2020-12 schema, every $ref resolving. Returns a list of problems."""
        problems, schemas, refs = [], [], []

        def walk(node, where, in_schema):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "$ref" and isinstance(v, str):
                        refs.append((where, v))
                    if k == "schema" and not in_schema:
                        schemas.append((where + "/schema", v))
                        walk(v, where + "/schema", True)
                    else:
                        walk(v, where + "/" + _pointer_escape(k), in_schema)
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}/{i}", in_schema)

        if not str(self.doc.get("openapi", "")).startswith("3.1."):
            problems.append(f"openapi is {self.doc.get('openapi')!r}, not 3.1.x")
        for name, s in self.doc.get("components", {}).get("schemas", {}).items():
            schemas.append(("#/components/schemas/" + name, s))
        walk(self.doc, "#", False)
        for where, s in schemas:
            try:
                Draft202012Validator.check_schema(s)
            except jsonschema.exceptions.SchemaError as e:
                problems.append(f"{where}: not a valid 2020-12 schema: {e.message}")
        for where, ref in refs:
            try:
                self.resolve(ref)
            except (KeyError, IndexError, ValueError, TypeError) as e:
                problems.append(f"{where}: $ref {ref} does not resolve ({e})")
        return problems, len(schemas), len(refs)

    def operations(self):
        for template, item in self.doc["paths"].items():
            for method in item:
                if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                    yield template, method

    def match(self, path):
        path = urllib.parse.urlsplit(path).path
        for regex, template in self._routes:
            if regex.match(path):
                return template
        return None

    def response(self, template, method, status):
        """(pointer to the response object, the response object) or (None, None)."""
        op = self.doc["paths"][template].get(method.lower())
        if op is None:
            return None, None
        responses = op.get("responses", {})
        key = str(status) if str(status) in responses else ("default" if "default" in responses
                                                             else None)
        if key is None:
            return None, None
        pointer = (f"#/paths/{_pointer_escape(template)}/{method.lower()}/responses/"
                   f"{_pointer_escape(key)}")
        resp = responses[key]
        while "$ref" in resp:
            pointer = resp["$ref"]
            resp = self.resolve(pointer)
        return pointer, resp

    def request_pointer(self, template, method, media="application/json"):
        return (f"#/paths/{_pointer_escape(template)}/{method.lower()}/requestBody/content/"
                f"{_pointer_escape(media)}/schema")

    def validator(self, pointer):
        """A validator for the schema at `pointer` (in this document), its $refs resolved."""
        if pointer not in self._validators:
            schema = {"$ref": DOC_URI + pointer}
            checker = getattr(Draft202012Validator, "FORMAT_CHECKER", None) or \
                jsonschema.FormatChecker()
            if referencing is not None:
                resource = referencing.Resource.from_contents(
                    self.doc, default_specification=referencing.jsonschema.DRAFT202012)
                registry = referencing.Registry().with_resource(DOC_URI, resource)
                v = Draft202012Validator(schema, registry=registry, format_checker=checker)
            else:
                resolver = jsonschema.RefResolver(base_uri=DOC_URI, referrer=self.doc)
                v = Draft202012Validator(schema, resolver=resolver, format_checker=checker)
            self._validators[pointer] = v
        return self._validators[pointer]

    def errors(self, pointer, instance, limit=5):
        """The validation errors of `instance` against the schema at `pointer`, as text."""
        errs = sorted(self.validator(pointer).iter_errors(instance),
                      key=lambda e: [str(p) for p in e.absolute_path])
        out = []
        for e in errs[:limit]:
            loc = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                                for p in e.absolute_path)
            out.append(f"{loc}: {_excerpt(e.message, 400)}")
        if len(errs) > limit:
            out.append(f"... and {len(errs) - limit} more")
        return out


# --------------------------------------------------------------------------------------------
# The server


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """Runs in the child before exec: SIGKILL it when this test dies (Linux prctl)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    def __init__(self, gpupool, inventory, tmp):
        self.gpupool = gpupool
        self.inventory = inventory
        self.tmp = tmp
        self.data_dir = tmp / "data"
        self.log_path = tmp / "server.log"
        self.proc = None
        self.port = None

    def start(self):
        self.data_dir.mkdir(mode=0o700)
        self.port = _free_port()
        argv = [str(self.gpupool), "serve", "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", str(self.data_dir), "--inventory", str(self.inventory)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.tmp,
                                         preexec_fn=_die_with_parent)
        return argv

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sys.stderr.write("openapi_conformance_test: the server ignored SIGTERM for 10 s; "
                             "SIGKILL\n")
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:]) or "(the server wrote nothing)"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        self.json = None
        self.json_error = None
        if self.media_type == "application/json" or (body[:1] in (b"{", b"[")):
            try:
                self.json = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                self.json_error = str(e)

    @property
    def media_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


# --------------------------------------------------------------------------------------------
# The checks


class Conformance:
    def __init__(self, spec, server, verbose):
        self.spec = spec
        self.server = server
        self.verbose = verbose
        self.passed = 0
        self.failed = []
        self.section = ""
        self.exercised = set()
        self.admin = None
        self.admin_user = None
        self.jobs = {}            # label -> job id (admin's jobs)
        self.submitted = 0        # jobs the server answered 201 for
        self.alice = None         # TokenCreated of the user token

    # ---- bookkeeping

    def check(self, cond, what):
        if cond:
            self.passed += 1
            if self.verbose:
                print(f"  ok   {what}")
        else:
            self.fail(what)
        return bool(cond)

    def fail(self, what):
        line = f"FAIL [{self.section}] {what}"
        self.failed.append(line)
        print(line, flush=True)

    def require(self, cond, what):
        if not self.check(cond, what):
            raise Fatal(what)

    # ---- HTTP

    def _send(self, method, path, body, headers):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=HTTP_TIMEOUT_S)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            conn.close()

    def call(self, method, path, *, expect, token="admin", body=None, raw=None,
             content_type="application/json", headers=None, what=None):
        """Sends a request, checks the status against `expect` (an int or a tuple of ints) and
        the answer against the document. Returns the Response; raises Fatal when there is none."""
        expect = (expect,) if isinstance(expect, int) else tuple(expect)
        h = {"Accept": "application/json", "Connection": "close"}
        if token == "admin":
            token = self.admin
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
        elif raw is not None:
            data = raw
        if data is not None and content_type:
            h["Content-Type"] = content_type
        if method in ("POST", "PUT", "PATCH") and data is None:
            data = b""
        h.update(headers or {})
        label = f"{method} {path}" + (f" ({what})" if what else "")
        try:
            r = self._send(method, path, data, h)
        except (OSError, http.client.HTTPException) as e:
            alive = "" if self.server.alive() else \
                f"; the server has exited ({self.server.proc.returncode})"
            self.fail(f"{label}: no answer: {e!r}{alive}")
            raise Fatal(label) from e
        if self.verbose:
            print(f"  {label} -> {r.status} {_excerpt(r.body, 160)}")
        self.check(r.status in expect,
                   f"{label}: expected HTTP {'/'.join(map(str, expect))}, got {r.status}: "
                   f"{_excerpt(r.body)}")
        self.conforms(method, path, r, label)
        return r

    def conforms(self, method, path, r, label):
        template = self.spec.match(path)
        if not self.check(template is not None, f"{label}: the path is not in the document"):
            return
        self.exercised.add((template, method.lower()))
        pointer, resp = self.spec.response(template, method, r.status)
        if not self.check(resp is not None, f"{label} -> {r.status}: status {r.status} is not "
                                            f"documented for {method} {template}"):
            return
        content = resp.get("content", {})
        if not content:
            self.check(r.body == b"", f"{label} -> {r.status}: documented without a body, got "
                                      f"{_excerpt(r.body)}")
            return
        if not self.check(r.media_type in content,
                          f"{label} -> {r.status}: Content-Type {r.media_type!r}, documented: "
                          f"{', '.join(content)}"):
            return
        if r.media_type != "application/json":
            return
        if not self.check(r.json_error is None,
                          f"{label} -> {r.status}: body is not JSON ({r.json_error}): "
                          f"{_excerpt(r.body)}"):
            return
        schema_pointer = f"{pointer}/content/application~1json/schema"
        errors = self.spec.errors(schema_pointer, r.json)
        if errors:
            schema = self.spec.resolve(schema_pointer)
            name = schema.get("$ref", schema_pointer) if isinstance(schema, dict) else ""
            self.fail(f"{label} -> {r.status}: the body does not match {name}:\n" +
                      "\n".join("    " + e for e in errors) +
                      f"\n    body: {_excerpt(r.body, 600)}")
        else:
            self.passed += 1

    def request_valid(self, template, method, body):
        return not self.spec.errors(self.spec.request_pointer(template, method), body)

    def error_member(self, r):
        try:
            return r.json["error"].get("member")
        except (TypeError, KeyError, AttributeError):
            return None

    def error_message(self, r):
        try:
            return r.json["error"]["message"]
        except (TypeError, KeyError):
            return None

    def job(self, job_id, token="admin"):
        return self.call("GET", f"/api/v1/jobs/{job_id}", token=token, expect=200).json

    def job_total(self, what):
        r = self.call("GET", "/api/v1/jobs?limit=1", expect=200, what=what)
        return r.json.get("total") if isinstance(r.json, dict) else None

    def wait_state(self, job_id, accept, timeout=STATE_TIMEOUT_S):
        """Polls the job until its state is in `accept`; returns the last job object."""
        deadline = time.monotonic() + timeout
        while True:
            j = self.job(job_id)
            if not isinstance(j, dict) or j.get("state") in accept:
                return j
            if time.monotonic() > deadline:
                return j
            time.sleep(0.2)

    # ---- the sections

    def run(self, sections):
        for name, fn in sections:
            self.section = name
            try:
                fn()
            except Fatal:
                pass
            except Exception:  # a bug here or an answer of an unexpected shape
                self.fail("the test itself raised:\n" + traceback.format_exc())
            if not self.server.alive():
                self.fail(f"the server exited (status {self.server.proc.returncode}) during "
                          f"this section")
                return

    def unauthenticated(self):
        r = self.call("GET", "/healthz", token=None, expect=200)
        self.check(r.json == {"status": "ok"}, f"GET /healthz: body {r.json!r}")
        r = self.call("GET", "/metrics", token=None, expect=200)
        self.metrics_look_right(r)
        for path in ["/api/v1/jobs", "/api/v1/jobs/1", "/api/v1/jobs/1/events",
                     "/api/v1/jobs/1/logs", "/api/v1/nodes", "/api/v1/pool",
                     "/api/v1/pool/history", "/api/v1/queues",
                     "/api/v1/tokens", "/api/v1/whoami", "/api/v1/openapi.json",
                     "/api/v1/events/stream"]:
            self.call("GET", path, token=None, expect=401, what="no token")
        self.call("GET", "/api/v1/whoami", token=BOGUS_TOKEN, expect=401, what="unknown token")
        self.call("GET", "/api/v1/whoami", token=None, expect=401, what="Basic auth",
                  headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
        self.call("GET", "/api/v1/whoami", token=None, expect=401, what="empty bearer",
                  headers={"Authorization": "Bearer "})
        self.call("POST", "/api/v1/jobs", token=None, body={"command": ["true"]}, expect=401,
                  what="no token")
        self.call("DELETE", "/api/v1/jobs/1", token=None, expect=401, what="no token")
        self.call("POST", "/api/v1/nodes/h100-0/cordon", token=None, expect=401, what="no token")
        self.call("POST", "/api/v1/tokens", token=None, body={"user": "mallory"}, expect=401,
                  what="no token")
        self.call("DELETE", "/api/v1/tokens/1", token=None, expect=401, what="no token")
        self.call("PUT", "/api/v1/queues", token=None, raw=b"queues: []\n",
                  content_type="application/yaml", expect=401, what="no token")

    def metrics_look_right(self, r):
        text = r.body.decode("utf-8", "replace")
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        self.check(lines, "GET /metrics: no samples")
        bad = [ln for ln in lines if not PROM_LINE.match(ln)]
        self.check(not bad, f"GET /metrics: not Prometheus text: {bad[:3]!r}")

    def whoami_admin(self):
        r = self.call("GET", "/api/v1/whoami", expect=200)
        self.require(isinstance(r.json, dict) and isinstance(r.json.get("user"), str),
                     "GET /api/v1/whoami: no user")
        self.check(r.json.get("admin") is True, f"whoami with the admin token: {r.json!r}")
        self.admin_user = r.json["user"]

    def openapi(self):
        r = self.call("GET", "/api/v1/openapi.json", expect=200)
        self.check(r.json == self.spec.doc,
                   f"GET /api/v1/openapi.json is not {self.spec.path} (the server must serve "
                   f"that file)")

    def submit(self, body, label, expect=201, token="admin"):
        self.check(self.request_valid("/api/v1/jobs", "post", body),
                   f"the test's own '{label}' submission does not match the request schema: "
                   f"{self.spec.errors(self.spec.request_pointer('/api/v1/jobs', 'post'), body)}")
        r = self.call("POST", "/api/v1/jobs", body=body, token=token, expect=expect, what=label)
        if r.status == 201:
            self.submitted += 1
            if token == "admin":
                self.jobs[label] = r.json.get("id") if isinstance(r.json, dict) else None
        return r

    def submissions(self):
        # The gang first, on the empty pool: 2 replicas x 8 GPUs fill both H100 nodes (8 each).
        gang = self.submit({"name": "gang", "command": ["sleep", "30"], "gpus": 8,
                            "replicas": 2, "gpu_models": ["H100"]}, "gang")
        self.require(gang.status == 201, "the gang was not accepted")
        g = gang.json
        res = g.get("resources", {})
        self.check(res.get("replicas") == 2 and res.get("num_gpu") == 8 and
                   res.get("gpu_milli") == 1000 and res.get("gpus") == 8,
                   f"gang resources: {res!r}")
        self.check(len(res.get("gpu_models", [])) == 1 and
                   res["gpu_models"][0].upper().startswith("H100"),
                   f"gang gpu_models H100 -> {res.get('gpu_models')!r}")
        self.check(g.get("user") == self.admin_user, f"gang user {g.get('user')!r}")
        self.check(g.get("state") in ("pending", "running"), f"new job state {g.get('state')!r}")
        j = self.wait_state(g["id"], JOB_STATES - {"pending"})
        self.check(j.get("state") == "running",
                   f"gang {g['id']} on an empty pool: state {j.get('state')!r} after "
                   f"{STATE_TIMEOUT_S} s (reason {j.get('reason')!r})")
        if j.get("state") == "running":
            p = j.get("placement") or []
            self.check(sorted(x.get("replica") for x in p) == [0, 1],
                       f"gang placement replicas: {p!r}")
            self.check(len({x.get("node") for x in p}) == 2, "gang replicas share a node")
            for x in p:
                gpus = x.get("gpus", [])
                self.check(len(gpus) == 8 and all(gp.get("milli") == 1000 for gp in gpus),
                           f"gang replica {x.get('replica')}: {len(gpus)} GPUs {gpus!r}")
                self.check(str(x.get("node", "")).startswith("h100"),
                           f"gang replica placed on {x.get('node')!r}, not an H100 node")
            self.check(j.get("started_at") is not None, "running gang has no started_at")
        self.gang = j

        whole = self.submit({"name": "whole", "command": ["sleep", "30"], "gpus": 1,
                             "cpu_milli": 2000, "memory_mib": 4096}, "whole")
        if whole.status == 201:
            w = whole.json
            self.check(w.get("name") == "whole" and w.get("command") == ["sleep", "30"],
                       f"whole: name/command echoed as {w.get('name')!r} {w.get('command')!r}")
            res = w.get("resources", {})
            self.check((res.get("gpus"), res.get("num_gpu"), res.get("gpu_milli"),
                        res.get("cpu_milli"), res.get("memory_mib"), res.get("replicas")) ==
                       (1, 1, 1000, 2000, 4096, 1), f"whole resources: {res!r}")
            self.check(w.get("queue") == "default" and w.get("priority") == 0 and
                       w.get("time_limit_s") == 0 and w.get("preemptible") is False and
                       w.get("requeue") is False and w.get("env") == {},
                       f"whole: defaults queue/priority/time_limit_s/preemptible/requeue/env: "
                       f"{w!r}")
            self.check(w.get("exit_code") is None and w.get("finished_at") is None,
                       f"new job has exit_code/finished_at: {w!r}")

        frac = self.submit({"command": ["true"], "gpus": 0.5, "env": {"KEY": "value"},
                            "priority": 5, "time_limit_s": 600, "preemptible": True,
                            "requeue": True}, "fractional")
        if frac.status == 201:
            f = frac.json
            res = f.get("resources", {})
            self.check((res.get("gpus"), res.get("num_gpu"), res.get("gpu_milli")) ==
                       (0.5, 1, 500), f"fractional resources: {res!r}")
            self.check(f.get("env") == {"KEY": "value"} and f.get("priority") == 5 and
                       f.get("time_limit_s") == 600 and f.get("preemptible") is True and
                       f.get("requeue") is True, f"fractional members echoed: {f!r}")
            self.check(f.get("name") == "true", f"default name is the program's base name, "
                                                f"got {f.get('name')!r}")

        # Every member of the submission. H100s are full (the gang), so it waits: "not now".
        full_body = {"name": "train", "command": ["python3", "train.py", "--epochs", "3"],
                     "env": {"KEY": "value"}, "workdir": str(self.server.tmp),
                     "gpus": 2, "gpu_memory_mib": 20480, "gpu_models": ["H100-SXM"],
                     "cpu_milli": 8000, "memory_mib": 65536, "replicas": 1, "topology": "any",
                     "queue": "default", "priority": 0, "time_limit_s": 7200,
                     "preemptible": False, "requeue": False}
        full = self.submit(full_body, "every member")
        if full.status == 201:
            f = full.json
            for k in ("name", "command", "env", "workdir", "queue", "priority", "time_limit_s",
                      "preemptible", "requeue"):
                self.check(f.get(k) == full_body[k], f"every member: {k} echoed as {f.get(k)!r}")
            res = f.get("resources", {})
            self.check((res.get("gpus"), res.get("num_gpu"), res.get("gpu_memory_mib"),
                        res.get("gpu_models"), res.get("cpu_milli"), res.get("memory_mib"),
                        res.get("replicas"), res.get("topology")) ==
                       (2, 2, 20480, ["H100-SXM"], 8000, 65536, 1, "any"),
                       f"every member: resources {res!r}")

        # Can never fit: the L40S nodes have 4 GPUs each.
        before = self.job_total("before the 409")
        never = self.submit({"command": ["true"], "gpus": 8, "gpu_models": ["L40S"]},
                            "8 x L40S never fits", expect=409)
        self.check(self.error_message(never), f"409 without a reason: {never.json!r}")
        self.check(self.job_total("after the 409") == before, "a refused job was stored")

        # The whole-GPU job starts (an empty A100/L40S GPU is free); "every member" waits.
        if "whole" in self.jobs:
            w = self.wait_state(self.jobs["whole"], JOB_STATES - {"pending"})
            self.check(w.get("state") == "running",
                       f"whole-GPU job: state {w.get('state')!r} after {STATE_TIMEOUT_S} s "
                       f"(reason {w.get('reason')!r})")
            if w.get("state") == "running":
                p = w.get("placement") or []
                self.check(len(p) == 1 and len(p[0].get("gpus", [])) == 1 and
                           p[0]["gpus"][0].get("milli") == 1000 and
                           p[0].get("cpu_milli") == 2000 and p[0].get("memory_mib") == 4096,
                           f"whole-GPU placement: {p!r}")
        if "every member" in self.jobs and self.gang.get("state") == "running":
            f = self.job(self.jobs["every member"])
            self.check(f.get("state") == "pending" and isinstance(f.get("reason"), str) and
                       f["reason"] != "",
                       f"2 x H100 while the gang holds every H100: state {f.get('state')!r} "
                       f"reason {f.get('reason')!r} (expected pending with a reason)")
            self.check(not f.get("placement"), f"a pending job has a placement: {f!r}")

    def bad_bodies(self):
        before = self.job_total("before the bad bodies")
        raw_cases = [
            (b'{"command": ["true"]', "malformed JSON"),
            (b'', "empty body"),
            (b'[1, 2]', "not an object"),
            (b'{"command": ["true"], "gpus": NaN}', "NaN"),
        ]
        for raw, what in raw_cases:
            self.call("POST", "/api/v1/jobs", raw=raw, expect=400, what=what)
        # (body, the member the error must name, whether the schema itself rejects it)
        cases = [
            ({"command": ["true"], "bogus": 1}, "bogus", "unknown member"),
            ({"gpus": 1}, "command", "no command"),
            ({"command": []}, "command", "empty command"),
            ({"command": "true"}, "command", "command not an array"),
            ({"command": ["true", 3]}, "command[1]", "command[1] not a string"),
            ({"command": ["true"], "gpus": "two"}, "gpus", "gpus a string"),
            ({"command": ["true"], "gpus": -1}, "gpus", "gpus negative"),
            ({"command": ["true"], "gpus": 1.5}, "gpus", "gpus 1.5"),
            ({"command": ["true"], "cpu_milli": -1}, "cpu_milli", "cpu_milli negative"),
            ({"command": ["true"], "memory_mib": -1}, "memory_mib", "memory_mib negative"),
            ({"command": ["true"], "gpus": 1, "gpu_memory_mib": -1}, "gpu_memory_mib",
             "gpu_memory_mib negative"),
            ({"command": ["true"], "time_limit_s": -1}, "time_limit_s", "time_limit_s negative"),
            ({"command": ["true"], "replicas": 0}, "replicas", "replicas 0"),
            ({"command": ["true"], "replicas": 4097}, "replicas", "replicas 4097"),
            ({"command": ["true"], "replicas": 1.5}, "replicas", "replicas 1.5"),
            ({"command": ["true"], "priority": "high"}, "priority", "priority a string"),
            ({"command": ["true"], "preemptible": "yes"}, "preemptible", "preemptible a string"),
            ({"command": ["true"], "gpus": 2, "topology": "nv"}, "topology", "topology unknown"),
            ({"command": ["true"], "env": {"A": 1}}, "env.A", "env value a number"),
            ({"command": ["true"], "env": ["A=1"]}, "env", "env an array"),
            ({"command": ["true"], "gpu_models": "H100", "gpus": 1}, "gpu_models",
             "gpu_models a string"),
        ]
        for body, member, what in cases:
            self.check(not self.request_valid("/api/v1/jobs", "post", body),
                       f"the document accepts the bad body '{what}': {body!r}")
            r = self.call("POST", "/api/v1/jobs", body=body, expect=400, what=what)
            if r.status == 400:
                self.check(self.error_member(r) == member,
                           f"POST /api/v1/jobs ({what}): error member "
                           f"{self.error_member(r)!r}, expected {member!r}")
        # Valid by the schema; refused by the server: the pool has no such model.
        body = {"command": ["true"], "gpus": 1, "gpu_models": ["NoSuchGPU-9000"]}
        r = self.call("POST", "/api/v1/jobs", body=body, expect=400, what="unknown GPU model")
        if r.status == 400:
            self.check(str(self.error_member(r)).startswith("gpu_models"),
                       f"unknown GPU model: error member {self.error_member(r)!r}")
        self.call("POST", "/api/v1/jobs", raw=json.dumps({"command": ["true"]}).encode(),
                  content_type="text/plain", expect=415, what="Content-Type text/plain")
        self.check(self.job_total("after the bad bodies") == before,
                   "a refused submission was stored")

    def oversized(self):
        before = self.job_total("before the oversized body")
        status, body = self.send_oversized("/api/v1/jobs", self.oversize_bytes)
        label = f"POST /api/v1/jobs ({self.oversize_bytes} bytes)"
        self.check(status == 413, f"{label}: expected HTTP 413, got {status}: {_excerpt(body)}")
        if status is not None:
            self.conforms("POST", "/api/v1/jobs", Response(status, self._last_headers, body),
                          label)
        self.check(self.job_total("after the oversized body") == before,
                   "an oversized submission was stored")

    def send_oversized(self, path, size):
        """POSTs a `size`-byte JSON body on a raw socket, stopping as soon as the server answers
        (a server may answer 413 from Content-Length alone). Returns (status, body)."""
        prefix, suffix = b'{"command": ["true"], "name": "', b'"}'
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.server.port}\r\n"
                f"Authorization: Bearer {self.admin}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {size}\r\nConnection: close\r\n\r\n").encode()
        filler = b"x" * (1 << 20)
        self._last_headers = []
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=HTTP_TIMEOUT_S)
        try:
            sock.sendall(head)
            # A server that checks Content-Length first answers before any of the body is sent.
            readable, _, _ = select.select([sock], [], [], 1.0)
            if not readable:
                sock.setblocking(False)
                pending = memoryview(prefix)
                left = size - len(prefix) - len(suffix)
                deadline = time.monotonic() + 60
                while True:
                    if not pending:
                        if left > 0:
                            n = min(left, len(filler))
                            pending, left = memoryview(filler)[:n], left - n
                        elif left == 0:
                            pending, left = memoryview(suffix), -1
                        else:
                            break
                    r, w, _ = select.select([sock], [sock], [], 5.0)
                    if r or time.monotonic() > deadline:
                        break
                    if w:
                        try:
                            pending = pending[sock.send(pending):]
                        except BlockingIOError:
                            pass
                        except (BrokenPipeError, ConnectionResetError):
                            break
                sock.setblocking(True)
                sock.settimeout(HTTP_TIMEOUT_S)
            data = b""
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    head_end = data.find(b"\r\n\r\n")
                    if head_end >= 0:
                        m = re.search(rb"(?im)^content-length:\s*(\d+)", data[:head_end])
                        if m and len(data) >= head_end + 4 + int(m.group(1)):
                            break
            except (ConnectionResetError, socket.timeout):
                pass
        finally:
            sock.close()
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        if not m:
            return None, b"(no HTTP answer; the connection was closed or reset: " + data[:100] + \
                b")"
        head_end = data.find(b"\r\n\r\n")
        for line in data[:head_end].split(b"\r\n")[1:]:
            k, _, v = line.decode("latin-1").partition(":")
            self._last_headers.append((k.strip(), v.strip()))
        return int(m.group(1)), data[head_end + 4:] if head_end >= 0 else b""

    def one_job(self):
        jid = self.jobs.get("whole") or self.jobs.get("gang")
        self.require(jid is not None, "no job was submitted; cannot read one")
        j = self.job(jid)
        self.check(j.get("id") == jid, f"GET /api/v1/jobs/{jid}: id {j.get('id')!r}")
        r = self.call("GET", f"/api/v1/jobs/{jid}/events", expect=200)
        ev = r.json.get("events", []) if isinstance(r.json, dict) else []
        self.check(ev and ev[0].get("state") == "pending",
                   f"events of job {jid}: the first is not 'pending': {ev!r}")
        self.check([e.get("time") for e in ev] == sorted(e.get("time") for e in ev),
                   f"events of job {jid} are not in time order: {ev!r}")
        if j.get("state") == "running":
            self.check(any(e.get("state") == "running" for e in ev),
                       f"running job {jid} has no 'running' event: {ev!r}")
        for q in ("", "?stream=stdout", "?stream=stderr&offset=0", "?stream=stdout&limit=1"):
            r = self.call("GET", f"/api/v1/jobs/{jid}/logs{q}", expect=200)
            if r.status == 200 and isinstance(r.json, dict) and isinstance(r.json.get("data"),
                                                                           str):
                n = len(r.json["data"].encode("utf-8"))
                self.check(r.json.get("offset") == n,
                           f"logs{q}: offset {r.json.get('offset')!r} after {n} bytes from 0")
                if "limit=1" in q:
                    self.check(n <= 1, f"logs{q}: {n} bytes")
        for q, what in (("?stream=bogus", "unknown stream"), ("?offset=-1", "negative offset"),
                        ("?offset=abc", "offset not a number")):
            self.call("GET", f"/api/v1/jobs/{jid}/logs{q}", expect=400, what=what)
        # A checkpoint: 200 with checkpoint_at for a running job, 409 for any other.
        running = j.get("state") == "running"
        r = self.call("POST", f"/api/v1/jobs/{jid}/checkpoint", expect=200 if running else 409)
        if running and r.status == 200 and isinstance(r.json, dict):
            self.check(isinstance(r.json.get("checkpoint_at"), str),
                       f"checkpoint of job {jid}: checkpoint_at {r.json.get('checkpoint_at')!r}")
        missing = 987654321
        for method, suffix in (("GET", ""), ("GET", "/events"), ("GET", "/logs"),
                               ("DELETE", ""), ("POST", "/checkpoint")):
            self.call(method, f"/api/v1/jobs/{missing}{suffix}", expect=404, what="no such job")

    def listing(self):
        r = self.call("GET", "/api/v1/jobs", expect=200)
        self.require(isinstance(r.json, dict) and isinstance(r.json.get("jobs"), list),
                     "GET /api/v1/jobs: no list")
        everything = r.json
        ids = [j.get("id") for j in everything["jobs"]]
        self.check(everything.get("total") == self.submitted,
                   f"total {everything.get('total')!r}, {self.submitted} jobs were submitted")
        self.check(len(ids) == self.submitted and everything.get("next_cursor") is None,
                   f"one page of {len(ids)} jobs (next_cursor {everything.get('next_cursor')!r})"
                   f" for {self.submitted} submitted")
        self.check(ids == sorted(ids, reverse=True), f"not newest first: {ids}")
        # Paging by 2: the pages together are the whole list, in the same order.
        paged, cursor, pages = [], None, 0
        while pages <= self.submitted + 1:
            q = "?limit=2" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            r = self.call("GET", "/api/v1/jobs" + q, expect=200)
            if r.status != 200 or not isinstance(r.json, dict):
                break
            pages += 1
            page = r.json.get("jobs", [])
            self.check(len(page) <= 2, f"limit=2 gave {len(page)} jobs")
            self.check(r.json.get("total") == self.submitted,
                       f"total on page {pages}: {r.json.get('total')!r}")
            paged += [j.get("id") for j in page]
            cursor = r.json.get("next_cursor")
            if not cursor:
                break
        self.check(paged == ids, f"pages of 2 give {paged}, the whole list {ids}")
        # The last page may come back empty when the one before it was full.
        self.check(pages <= math.ceil(self.submitted / 2) + 1,
                   f"{pages} pages of 2 for {self.submitted} jobs")
        for q, what in (("?limit=0", "limit 0"), ("?limit=1001", "limit 1001"),
                        ("?limit=abc", "limit not a number"), ("?state=bogus", "unknown state")):
            self.call("GET", "/api/v1/jobs" + q, expect=400, what=what)
        self.call("GET", "/api/v1/jobs?limit=1000", expect=200)
        for key, value in (("state", "pending"), ("state", "running"),
                           ("user", self.admin_user), ("queue", "default")):
            q = urllib.parse.urlencode({key: value})
            r = self.call("GET", "/api/v1/jobs?" + q, expect=200)
            if r.status == 200 and isinstance(r.json, dict):
                got = r.json.get("jobs", [])
                self.check(all(j.get(key) == value for j in got),
                           f"?{q} gave {[(j.get('id'), j.get(key)) for j in got]}")
                self.check(r.json.get("total") == len(got),
                           f"?{q}: total {r.json.get('total')!r} for {len(got)} jobs")
        # Sorted on the server: pages of 2 by name ascending give every job once, in the order
        # (name as bytes, id) computed here from the whole list; an unknown key is a 400 naming it.
        whole = self.call("GET", "/api/v1/jobs?limit=1000", expect=200).json.get("jobs", [])
        want = [j.get("id") for j in sorted(whole, key=lambda j: (j.get("name", "").encode(), j.get("id")))]
        got, cursor = [], None
        for _ in range(len(whole) + 2):
            q = {"sort": "name", "order": "asc", "limit": 2}
            if cursor:
                q["cursor"] = cursor
            r = self.call("GET", "/api/v1/jobs?" + urllib.parse.urlencode(q), expect=200)
            got += [j.get("id") for j in r.json.get("jobs", [])]
            cursor = r.json.get("next_cursor")
            if not cursor:
                break
        self.check(got == want, f"sort=name&order=asc in pages of 2: {got}, by hand {want}")
        r = self.call("GET", "/api/v1/jobs?sort=gpus", expect=400, what="unknown sort key")
        self.check(self.error_member(r) == "sort", f"sort=gpus: member {self.error_member(r)!r}")

    def nodes(self):
        r = self.call("GET", "/api/v1/nodes", expect=200)
        self.require(isinstance(r.json, dict) and isinstance(r.json.get("nodes"), list),
                     "GET /api/v1/nodes: no list")
        nodes = {n.get("name"): n for n in r.json["nodes"]}
        # data/inventory/demo.yaml: h100 x2 (8 GPUs), l40s x4 (4), a100 x2 (8) = 8 nodes, 48 GPUs.
        want = {"h100-0": 8, "h100-1": 8, "l40s-0": 4, "l40s-1": 4, "l40s-2": 4, "l40s-3": 4,
                "a100-0": 8, "a100-1": 8}
        self.check({k: len(n.get("gpus", [])) for k, n in nodes.items()} == want,
                   f"nodes and their GPU counts: "
                   f"{ {k: len(n.get('gpus', [])) for k, n in nodes.items()} }")
        self.check(all(n.get("simulated") is True for n in nodes.values()),
                   "demo inventory nodes are not all simulated")
        self.check(all(n.get("condition") == "ready" for n in nodes.values()),
                   f"conditions at start: { {k: n.get('condition') for k, n in nodes.items()} }")
        self.node_gpus = sum(len(n.get("gpus", [])) for n in nodes.values())
        # The running gang's GPUs are shown as used by it.
        gang = getattr(self, "gang", {})
        if gang.get("state") == "running":
            for p in gang.get("placement") or []:
                n = nodes.get(p.get("node"), {})
                self.check(gang["id"] in n.get("jobs", []),
                           f"node {p.get('node')} jobs {n.get('jobs')!r} lack gang {gang['id']}")
                by_index = {g.get("index"): g for g in n.get("gpus", [])}
                for pg in p.get("gpus", []):
                    g = by_index.get(pg.get("index"), {})
                    self.check(g.get("milli_used") == 1000 and gang["id"] in g.get("jobs", []),
                               f"{p.get('node')} GPU {pg.get('index')}: {g!r} (gang {gang['id']})")
        for action, condition in (("cordon", ("cordoned",)), ("uncordon", ("ready",)),
                                  ("drain", ("draining", "cordoned")), ("uncordon", ("ready",))):
            r = self.call("POST", f"/api/v1/nodes/l40s-3/{action}", expect=200)
            if r.status == 200 and isinstance(r.json, dict):
                self.check(r.json.get("name") == "l40s-3" and
                           r.json.get("condition") in condition,
                           f"{action}: node {r.json.get('name')!r} condition "
                           f"{r.json.get('condition')!r}, expected {'/'.join(condition)}")
                r2 = self.call("GET", "/api/v1/nodes", expect=200)
                now = {n.get("name"): n.get("condition") for n in r2.json.get("nodes", [])} \
                    if isinstance(r2.json, dict) else {}
                self.check(now.get("l40s-3") == r.json.get("condition"),
                           f"after {action}, GET /api/v1/nodes says {now.get('l40s-3')!r}")
        for action in ("cordon", "drain", "uncordon"):
            self.call("POST", f"/api/v1/nodes/no-such-node/{action}", expect=404,
                      what="no such node")

    def pool(self):
        r = self.call("GET", "/api/v1/pool", expect=200)
        self.require(isinstance(r.json, dict), "GET /api/v1/pool: not an object")
        p = r.json
        total = p.get("gpus", {}).get("total")
        self.check(total == 48, f"pool gpus.total {total!r}; demo.yaml: 2x8 + 4x4 + 2x8 = 48")
        if hasattr(self, "node_gpus"):
            self.check(total == self.node_gpus,
                       f"pool gpus.total {total!r}, GET /api/v1/nodes shows {self.node_gpus}")
        self.check(p.get("milli", {}).get("capacity") == 1000 * (total or 0),
                   f"milli.capacity {p.get('milli', {}).get('capacity')!r} for {total} GPUs")
        self.check(len(p.get("gpu_list", [])) == total,
                   f"gpu_list has {len(p.get('gpu_list', []))} GPUs for total {total}")
        by_model = {m.get("model"): m for m in p.get("by_model", [])}
        self.check({k: m.get("gpus") for k, m in by_model.items()} ==
                   {"H100-SXM": 16, "L40S": 16, "A100-SXM-80GB": 16},
                   f"by_model: {p.get('by_model')!r}")
        self.check(all(m.get("capacity_milli") == 1000 * (m.get("gpus") or 0)
                       for m in by_model.values()), f"by_model capacity_milli: {by_model!r}")
        self.check(p.get("simulated") is True, "demo pool is not simulated")
        if getattr(self, "gang", {}).get("state") == "running":
            self.check(p.get("gpus", {}).get("allocated", 0) >= 16,
                       f"the gang holds 16 whole GPUs; gpus.allocated "
                       f"{p.get('gpus', {}).get('allocated')!r}")
            self.check(by_model.get("H100-SXM", {}).get("free_gpus") == 0,
                       f"the gang holds every H100; by_model H100-SXM {by_model.get('H100-SXM')!r}")
            self.check(p.get("jobs", {}).get("running", 0) >= 1,
                       f"jobs.running {p.get('jobs', {}).get('running')!r}")

    def pool_history(self):
        """GET /api/v1/pool/history: the service sampled the pool at its start, so the last hour
        has a point of 48 GPUs; every range answers; a bad range or model is 400 naming it."""
        r = self.call("GET", "/api/v1/pool/history", expect=200)
        h = r.json if isinstance(r.json, dict) else {}
        series = h.get("series", {})
        times = series.get("time_ms", [])
        self.check(h.get("range") == "1h" and len(times) >= 1,
                   f"history: range {h.get('range')!r}, {len(times)} point(s) of the last hour")
        self.check(all(len(v) == len(times) for v in series.values()),
                   "history: every series has one value per time")
        self.check(series.get("gpus", [None])[-1] == 48, f"history: gpus {series.get('gpus')!r}")
        self.check(all(v is None for v in series.get("in_use_milli", [])),
                   "history: in use is unknown (null) on the simulated demo pool, never 0")
        for rng in ("6h", "24h", "7d", "30d"):
            r = self.call("GET", f"/api/v1/pool/history?range={rng}", expect=200)
            self.check(isinstance(r.json, dict) and r.json.get("range") == rng,
                       f"history?range={rng}: {_excerpt(r.body)}")
        r = self.call("GET", "/api/v1/pool/history?range=1h&model=L40S", expect=200)
        self.check(isinstance(r.json, dict) and r.json.get("model") == "L40S" and
                   r.json.get("series", {}).get("gpus", [None])[-1] == 16,
                   f"history?model=L40S: {_excerpt(r.body)}")
        for query, member in (("range=2h", "range"), ("model=V100", "model"),
                              ("every=1m", "every")):
            r = self.call("GET", f"/api/v1/pool/history?{query}", expect=400, what=query)
            got = r.json.get("error", {}).get("member") if isinstance(r.json, dict) else None
            self.check(got == member, f"history?{query}: member {got!r}, expected {member!r}")

    def event_stream(self):
        """GET /api/v1/events/stream: 401 without a token; with one, a text/event-stream whose
        first event is the snapshot (a StreamSnapshot of the demo pool); a bogus Last-Event-ID
        also starts with a snapshot. The stream never ends, so it is read up to its first event."""
        self.call("GET", "/api/v1/events/stream", token=None, expect=401, what="no token")
        for last_id in (None, "0-12345"):
            label = "GET /api/v1/events/stream" + (f" (Last-Event-ID {last_id})" if last_id else "")
            h = {"Authorization": f"Bearer {self.admin}", "Accept": "text/event-stream"}
            if last_id:
                h["Last-Event-ID"] = last_id
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                              timeout=HTTP_TIMEOUT_S)
            try:
                conn.request("GET", "/api/v1/events/stream", headers=h)
                r = conn.getresponse()
                body = b""
                while b"\n\n" not in body:
                    chunk = r.read1(65536)
                    if not chunk:
                        break
                    body += chunk
                resp = Response(r.status, r.getheaders(), body)
            finally:
                conn.close()
            self.check(resp.status == 200, f"{label}: expected HTTP 200, got {resp.status}")
            self.conforms("GET", "/api/v1/events/stream", resp, label)
            first = body.split(b"\n\n", 1)[0].decode("utf-8", "replace")
            fields = dict(line.split(": ", 1) for line in first.splitlines() if ": " in line)
            self.check(fields.get("event") == "snapshot",
                       f"{label}: the first event is {fields.get('event')!r}, not snapshot")
            self.check(re.fullmatch(r"\d+-\d+", fields.get("id", "")) is not None,
                       f"{label}: the snapshot's id {fields.get('id')!r} is not EPOCH-SEQ")
            try:
                snap = json.loads(fields.get("data", ""))
            except ValueError as e:
                self.fail(f"{label}: the snapshot's data is not JSON: {e}")
                continue
            errors = self.spec.errors("#/components/schemas/StreamSnapshot", snap)
            self.check(not errors, f"{label}: the snapshot does not match StreamSnapshot: {errors}")
            total = snap.get("pool", {}).get("gpus", {}).get("total")
            gpus = sum(len(n.get("gpus", [])) for n in snap.get("nodes", {}).values())
            self.check(total == 48 and gpus == 48 and len(snap.get("nodes", {})) == 8,
                       f"{label}: the snapshot has {total} GPUs in the pool, {gpus} on "
                       f"{len(snap.get('nodes', {}))} nodes; demo.yaml: 48 GPUs on 8 nodes")

    def user_token(self):
        for body, member, what in (({}, "user", "no user"),
                                   ({"user": "bob", "bogus": 1}, "bogus", "unknown member"),
                                   ({"user": "bob", "admin": "no"}, "admin", "admin a string")):
            self.check(not self.request_valid("/api/v1/tokens", "post", body),
                       f"the document accepts the bad token request '{what}'")
            r = self.call("POST", "/api/v1/tokens", body=body, expect=400, what=what)
            if r.status == 400:
                self.check(self.error_member(r) == member,
                           f"POST /api/v1/tokens ({what}): member {self.error_member(r)!r}, "
                           f"expected {member!r}")
        self.call("POST", "/api/v1/tokens", raw=b'{"user": ', expect=400, what="malformed JSON")
        body = {"user": "alice", "queues": ["default"], "admin": False}
        r = self.call("POST", "/api/v1/tokens", body=body, expect=201)
        self.require(r.status == 201 and isinstance(r.json, dict) and
                     isinstance(r.json.get("token"), str), "no user token; the rest needs one")
        self.alice = r.json
        self.check((r.json.get("user"), r.json.get("queues"), r.json.get("admin")) ==
                   ("alice", ["default"], False), f"created token: {r.json!r}")
        alice = r.json["token"]
        r = self.call("GET", "/api/v1/whoami", token=alice, expect=200)
        self.check(r.json == {"user": "alice", "admin": False, "queues": ["default"]},
                   f"whoami as alice: {r.json!r}")
        # A user sees only their own jobs: the admin's are not found.
        jid = self.jobs.get("whole") or self.jobs.get("gang")
        if jid is not None:
            for method, suffix in (("GET", ""), ("GET", "/events"), ("GET", "/logs"),
                                   ("DELETE", "")):
                self.call(method, f"/api/v1/jobs/{jid}{suffix}", token=alice, expect=404,
                          what="alice, the admin's job")
            self.check(self.job(jid).get("state") != "cancelled",
                       "alice's DELETE cancelled the admin's job")
        r = self.call("GET", "/api/v1/jobs", token=alice, expect=200, what="alice, before")
        self.check(isinstance(r.json, dict) and r.json.get("jobs") == [] and
                   r.json.get("total") == 0, f"alice sees jobs not hers: {_excerpt(r.body)}")
        self.submit({"command": ["sleep", "30"], "queue": "other"}, "alice, queue not allowed",
                    expect=403, token=alice)
        r = self.submit({"name": "alice-job", "command": ["sleep", "30"]}, "alice's job",
                        token=alice)
        if r.status == 201 and isinstance(r.json, dict):
            mine = r.json.get("id")
            self.check(r.json.get("user") == "alice" and r.json.get("queue") == "default",
                       f"alice's job: user {r.json.get('user')!r} queue {r.json.get('queue')!r}")
            self.job(mine, token=alice)
            self.job(mine)  # the admin may read every job
            r = self.call("GET", "/api/v1/jobs", token=alice, expect=200, what="alice, after")
            self.check(isinstance(r.json, dict) and
                       [j.get("id") for j in r.json.get("jobs", [])] == [mine] and
                       r.json.get("total") == 1, f"alice's list: {_excerpt(r.body)}")
            self.call("GET", f"/api/v1/jobs/{mine}/events", token=alice, expect=200)
            self.call("GET", f"/api/v1/jobs/{mine}/logs", token=alice, expect=200)
            r = self.call("DELETE", f"/api/v1/jobs/{mine}", token=alice, expect=200,
                          what="alice cancels her job")
            if r.status == 200 and isinstance(r.json, dict):
                self.check(r.json.get("state") in ("cancelled", "running"),
                           f"cancelled job state {r.json.get('state')!r}")
        # Admin only.
        self.call("POST", "/api/v1/nodes/l40s-2/cordon", token=alice, expect=403, what="alice")
        self.call("POST", "/api/v1/nodes/l40s-2/drain", token=alice, expect=403, what="alice")
        self.call("POST", "/api/v1/nodes/l40s-2/uncordon", token=alice, expect=403, what="alice")
        self.call("GET", "/api/v1/tokens", token=alice, expect=403, what="alice")
        self.call("POST", "/api/v1/tokens", token=alice, body={"user": "alice", "admin": True},
                  expect=403, what="alice makes herself admin")
        self.call("DELETE", f"/api/v1/tokens/{self.alice.get('id')}", token=alice, expect=403,
                  what="alice")
        self.call("PUT", "/api/v1/queues", token=alice, raw=b"queues: []\n",
                  content_type="application/yaml", expect=403, what="alice")
        # Not admin only.
        self.call("GET", "/api/v1/nodes", token=alice, expect=200, what="alice")
        self.call("GET", "/api/v1/pool", token=alice, expect=200, what="alice")
        self.call("GET", "/api/v1/queues", token=alice, expect=200, what="alice")
        self.call("GET", "/api/v1/openapi.json", token=alice, expect=200, what="alice")

    def tokens(self):
        self.require(self.alice is not None, "no user token was created")
        r = self.call("GET", "/api/v1/tokens", expect=200)
        listed = {t.get("id"): t for t in r.json.get("tokens", [])} \
            if isinstance(r.json, dict) else {}
        a = listed.get(self.alice.get("id"), {})
        self.check((a.get("user"), a.get("queues"), a.get("admin"), a.get("revoked")) ==
                   ("alice", ["default"], False, False), f"alice's token as listed: {a!r}")
        self.check(any(t.get("admin") is True and t.get("user") == self.admin_user
                       for t in listed.values()), f"the admin token is not listed: {listed!r}")
        self.check(all("token" not in t for t in listed.values()), "a listed token shows its "
                                                                   "secret")
        r = self.call("DELETE", f"/api/v1/tokens/{self.alice['id']}", expect=200)
        if r.status == 200 and isinstance(r.json, dict):
            self.check(r.json.get("id") == self.alice["id"] and r.json.get("revoked") is True,
                       f"revoked token: {r.json!r}")
        r = self.call("GET", "/api/v1/tokens", expect=200, what="after the revocation")
        listed = {t.get("id"): t for t in r.json.get("tokens", [])} \
            if isinstance(r.json, dict) else {}
        self.check(listed.get(self.alice["id"], {}).get("revoked") is True,
                   f"alice's token after the revocation: {listed.get(self.alice['id'])!r}")
        self.call("GET", "/api/v1/whoami", token=self.alice["token"], expect=401,
                  what="revoked token")
        self.call("DELETE", "/api/v1/tokens/987654321", expect=404, what="no such token")

    def cancel(self):
        self.require(self.jobs, "no admin job to cancel")
        if "every member" in self.jobs:
            jid = self.jobs["every member"]
            before = self.job(jid).get("state")
            r = self.call("DELETE", f"/api/v1/jobs/{jid}", expect=200, what="pending job")
            if before == "pending" and r.status == 200 and isinstance(r.json, dict):
                self.check(r.json.get("state") == "cancelled",
                           f"a pending job, cancelled: state {r.json.get('state')!r}")
        for label in ("whole", "gang"):
            jid = self.jobs.get(label)
            if jid is None:
                continue
            r = self.call("DELETE", f"/api/v1/jobs/{jid}", expect=200, what=label)
            if r.status != 200:
                continue
            j = self.wait_state(jid, TERMINAL)
            self.check(j.get("state") == "cancelled",
                       f"{label} job {jid}: state {j.get('state')!r} {STATE_TIMEOUT_S} s after "
                       f"the cancel")
            if j.get("state") != "cancelled":
                continue
            self.check(j.get("finished_at") is not None, f"cancelled job {jid}: no finished_at")
            r = self.call("GET", f"/api/v1/jobs/{jid}/events", expect=200, what="cancelled")
            ev = r.json.get("events", []) if isinstance(r.json, dict) else []
            self.check(ev and ev[-1].get("state") == "cancelled",
                       f"events of cancelled job {jid} do not end with 'cancelled': {ev!r}")
            # An ended job's log reaches eof once everything was read.
            offset, eof = 0, False
            for _ in range(100):
                r = self.call("GET", f"/api/v1/jobs/{jid}/logs?offset={offset}", expect=200,
                              what="cancelled")
                if r.status != 200 or not isinstance(r.json, dict):
                    break
                eof = r.json.get("eof") is True
                if eof or r.json.get("offset") == offset:
                    break
                offset = r.json.get("offset")
            self.check(eof, f"log of cancelled job {jid} never reaches eof (offset {offset})")
        r = self.call("GET", "/api/v1/jobs?state=cancelled", expect=200)
        if r.status == 200 and isinstance(r.json, dict):
            got = {j.get("id") for j in r.json.get("jobs", [])}
            want = {self.jobs.get(k) for k in ("whole", "gang", "every member") if k in self.jobs}
            self.check(want <= got, f"?state=cancelled gives {sorted(got)}, "
                                    f"expected at least {sorted(want)}")

    def queues(self):
        # The demo server starts without --queues: none, and nothing applied yet.
        r = self.call("GET", "/api/v1/queues", expect=200, what="none yet")
        self.check(r.json == {"queues": [], "preemptions": [], "order": "priority",
                              "order_source": "start options",
                              "applied_at": None, "applied_by": None, "source": None},
                   f"GET /api/v1/queues before any: {r.json!r}")
        # A bad body: 400 naming line and member; nothing changes.
        r = self.call("PUT", "/api/v1/queues", raw=b"queues:\n  - name: default\n    limit: lots\n",
                      content_type="application/yaml", expect=400, what="limit not a number")
        self.check(self.error_member(r) == "queues[0].limit" and
                   self.error_message(r) == "request body:3: queues[0].limit: 'lots' is not a "
                                            "number", f"bad queue file: {_excerpt(r.body)}")
        bad = {"queues": [{"name": "default", "limits": 4}]}
        self.check(not self.request_valid("/api/v1/queues", "put", bad),
                   "the document accepts a queue with the unknown member 'limits'")
        r = self.call("PUT", "/api/v1/queues", body=bad, expect=400, what="unknown member, JSON")
        self.check(self.error_member(r) == "queues[0].limits", f"member: {_excerpt(r.body)}")
        self.call("PUT", "/api/v1/queues", raw=b"queues: [\n", content_type="application/yaml",
                  expect=400, what="malformed YAML")
        self.call("PUT", "/api/v1/queues", raw=b"<queues/>", content_type="application/xml",
                  expect=415, what="XML")
        r = self.call("GET", "/api/v1/queues", expect=200, what="after the bad bodies")
        self.check(r.json.get("queues") == [], f"a refused change changed the queues: {r.json!r}")
        # A good one, applied at once; it is what GET shows.
        text = (b"queues:\n  - name: default\n    guaranteed: 8\n"
                b"  - name: research\n    limit: 4\n    weight: 2\n")
        r = self.call("PUT", "/api/v1/queues", raw=text, content_type="application/yaml",
                      expect=200, what="two queues")
        if r.status == 200:
            self.check(r.json.get("changes") ==
                       ["added 'default' (guaranteed 8, limit none, weight 1)",
                        "added 'research' (guaranteed 0, limit 4, weight 2)"] and
                       r.json.get("source") == "api" and
                       r.json.get("applied_by") == self.admin_user,
                       f"PUT /api/v1/queues: {_excerpt(r.body)}")
        r = self.call("GET", "/api/v1/queues", expect=200, what="two queues")
        got = {q.get("name"): (q.get("guaranteed"), q.get("limit"), q.get("weight"))
               for q in r.json.get("queues", [])}
        self.check(got == {"default": (8, None, 1), "research": (0, 4, 2)},
                   f"GET /api/v1/queues after the change: {r.json!r}")
        # Per GPU model shares: in the document, and shown per model (every queue then has
        # `models`, the models it has shares of and those it uses).
        per_model = {"queues": [{"name": "default", "guaranteed": 8,
                                 "models": {"H100-SXM": {"guaranteed": 4, "limit": 12}}},
                                {"name": "research", "limit": 4, "weight": 2}]}
        self.check(self.request_valid("/api/v1/queues", "put", per_model),
                   "the document refuses a queue with per-model shares")
        self.check(not self.request_valid(
            "/api/v1/queues", "put",
            {"queues": [{"name": "default", "models": {"H100-SXM": {"limits": 1}}}]}),
            "the document accepts a per-model share with the unknown member 'limits'")
        r = self.call("PUT", "/api/v1/queues", body=per_model, expect=200, what="per-model shares")
        if r.status == 200:
            self.check(r.json.get("changes") ==
                       ["'default': models.H100-SXM added (guaranteed 4, limit 12)"],
                       f"PUT /api/v1/queues per model: {_excerpt(r.body)}")
        r = self.call("GET", "/api/v1/queues", expect=200, what="per-model shares")
        got = {q.get("name"): q.get("models") for q in r.json.get("queues", [])}
        self.check(got == {"default": {"H100-SXM": {"guaranteed": 4, "limit": 12, "used": 0,
                                                     "borrowed": 0}},
                           "research": {}},
                   f"GET /api/v1/queues per model: {r.json!r}")
        # A queue with a job cannot be left out (409), nothing changes; then the job ends.
        j = self.submit({"name": "in-research", "command": ["sleep", "30"], "queue": "research"},
                        "a job of research")
        if j.status == 201 and isinstance(j.json, dict):
            jid = j.json.get("id")
            r = self.call("PUT", "/api/v1/queues", raw=b"queues:\n  - name: default\n",
                          content_type="application/yaml", expect=409, what="research has a job")
            self.check(self.error_member(r) is None and
                       "queue 'research' is missing from the new queues but has 1 job(s)" in
                       (self.error_message(r) or ""), f"409: {_excerpt(r.body)}")
            self.call("DELETE", f"/api/v1/jobs/{jid}", expect=200, what="the research job")
            self.wait_state(jid, TERMINAL)
        # No queues again, as JSON; the same body twice changes nothing the second time.
        for what, changes in (("none again", 2), ("none, twice", 0)):
            r = self.call("PUT", "/api/v1/queues", body={"queues": []}, expect=200, what=what)
            self.check(r.status == 200 and r.json.get("queues") == [] and
                       len(r.json.get("changes", [])) == changes, f"{what}: {_excerpt(r.body)}")

    def plan_and_experiments(self):
        r = self.call("POST", "/api/v1/plan", expect=200,
                      body={"model": "llama-3-8b", "gpu": "H100", "context": 4096})
        self.check(r.json.get("gpus") == 1 and len(r.json.get("nodes", [])) > 0,
                   f"POST /api/v1/plan: {_excerpt(r.body)}")
        r = self.call("POST", "/api/v1/plan", expect=400, body={"model": "llama-3-8b", "gpu": "Z9"},
                      what="unknown GPU")
        self.check(r.json.get("error", {}).get("member") == "gpu", f"plan: {_excerpt(r.body)}")
        self.call("POST", "/api/v1/plan", expect=415, raw=b"model: x", content_type="text/yaml",
                  what="not JSON")
        self.call("POST", "/api/v1/plan", token=None, expect=401, body={"model": "llama-3-8b"},
                  what="no token")
        self.call("GET", "/api/v1/plan/models", expect=200)
        r = self.call("GET", "/api/v1/experiments", expect=200)
        self.check(r.json.get("experiments") == [], f"no experiments yet: {_excerpt(r.body)}")
        self.call("GET", "/api/v1/experiments/none.json", expect=404)
        self.call("GET", "/api/v1/experiments/notes.txt", expect=400, what="not a .json name")

    def metrics_again(self):
        r = self.call("GET", "/metrics", token=None, expect=200, what="after the traffic")
        self.metrics_look_right(r)
        self.call("GET", "/healthz", token=None, expect=200, what="after the traffic")

    def coverage(self):
        missing = [f"{m.upper()} {t}" for t, m in self.spec.operations()
                   if (t, m) not in self.exercised]
        self.check(not missing, f"operations of the document never exercised: {missing}")


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpupool", required=True, help="the gpupool binary")
    ap.add_argument("--openapi", default=str(ROOT / "data/api/openapi.json"))
    ap.add_argument("--inventory", default=str(ROOT / "data/inventory/demo.yaml"))
    ap.add_argument("--oversized-bytes", type=int, default=64 * 1024 * 1024 + 1,
                    help="size of the body that must get 413 (default 64 MiB + 1)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every request")
    args = ap.parse_args()

    gpupool = Path(args.gpupool).resolve()
    if not (gpupool.is_file() and os.access(gpupool, os.X_OK)):
        print(f"openapi_conformance_test: {args.gpupool} is not an executable file",
              file=sys.stderr)
        return 2
    try:
        spec = Spec(args.openapi)
    except (OSError, ValueError) as e:
        print(f"openapi_conformance_test: cannot read {args.openapi}: {e}", file=sys.stderr)
        return 2

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    tmp = Path(tempfile.mkdtemp(prefix="gpupool-openapi-"))
    server = Server(gpupool, Path(args.inventory).resolve(), tmp)
    t = Conformance(spec, server, args.verbose)
    t.oversize_bytes = args.oversized_bytes
    t.section = "document"
    problems, n_schemas, n_refs = spec.self_check()
    for p in problems:
        t.fail(f"{args.openapi}: {p}")
    t.check(not problems, f"{n_schemas} schemas are valid 2020-12 and {n_refs} $refs resolve")
    interrupted = False
    try:
        t.section = "start"
        argv = server.start()
        print("openapi_conformance_test: " + " ".join(argv), flush=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        ready = False
        while time.monotonic() < deadline and server.alive():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
                conn.request("GET", "/healthz")
                ready = conn.getresponse().status == 200
                conn.close()
            except (OSError, http.client.HTTPException):
                pass
            if ready:
                break
            time.sleep(0.1)
        if not ready:
            why = (f"exited with status {server.proc.returncode}" if not server.alive()
                   else f"did not answer GET /healthz with 200 within {START_TIMEOUT_S} s")
            t.fail(f"the server {why}")
        else:
            token_file = server.data_dir / "admin.token"
            for _ in range(100):
                if token_file.exists():
                    break
                time.sleep(0.1)
            try:
                t.admin = token_file.read_text(encoding="utf-8").strip()
                mode = stat.S_IMODE(token_file.stat().st_mode)
                t.check(mode == 0o600, f"{token_file}: mode {mode:o}, docs/api.md says 0600")
                t.check(t.admin, f"{token_file} is empty")
            except OSError as e:
                t.fail(f"cannot read the admin token: {e}")
            if t.admin:
                t.run([("unauthenticated", t.unauthenticated), ("whoami", t.whoami_admin),
                       ("openapi", t.openapi), ("submit", t.submissions),
                       ("bad bodies", t.bad_bodies), ("oversized", t.oversized),
                       ("one job", t.one_job), ("list", t.listing), ("nodes", t.nodes),
                       ("pool", t.pool), ("pool history", t.pool_history),
                       ("event stream", t.event_stream),
                       ("user token", t.user_token), ("tokens", t.tokens),
                       ("cancel", t.cancel), ("queues", t.queues),
                       ("plan and experiments", t.plan_and_experiments),
                       ("metrics", t.metrics_again),
                       ("coverage", t.coverage)])
    except KeyboardInterrupt as e:
        interrupted = True
        t.fail(f"interrupted ({e})")
    finally:
        server.stop()
        if t.failed:
            print(f"--- server log ({server.log_path}), last lines:\n{server.log_tail()}\n---",
                  file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{t.passed} passed, {len(t.failed)} failed")
    if t.failed:
        print("failures:\n" + "\n".join(t.failed), file=sys.stderr)
    return 1 if (t.failed or interrupted) else 0


if __name__ == "__main__":
    sys.exit(main())
