"""The HTTP server over a real socket, with a fast test double in place of the model."""

import base64
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest

import torch
from PIL import Image

from fluxbot_klein.errors import RequestError
from fluxbot_klein.pipeline import GeneratedImage
from fluxbot_klein.server import WorkerServer
from fluxbot_klein.validation import parse_request


def png_bytes(width=32, height=48, color=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


class FakePipeline:
    """Test double for KleinPipeline: real images of the requested size, made quickly.

    gate: when set to an Event, each batch waits for it before running. A prompt containing
    "FAIL_OOM" raises CUDA's out-of-memory error, "FAIL_INTERNAL" a ValueError.
    """

    max_references = 4
    max_prompt_tokens = 512

    def __init__(self, default_steps=4, default_guidance=None):
        self.model = types.SimpleNamespace(name="klein-4b", variant="distilled", device="cpu",
                                           dtype=torch.float32)
        self.default_steps = default_steps
        self.default_guidance = default_guidance
        self.gate = None
        self.batches = []
        self.entered = threading.Semaphore(0)

    def check_prompt(self, prompt):
        if len(prompt.split()) > 50:
            raise RequestError("prompt_too_long", f"the prompt has {len(prompt.split())} words; at most 50",
                               field="prompt")

    def decode_reference(self, data, field):
        try:
            img = Image.open(io.BytesIO(data))
            img.load()
        except Exception as e:
            raise RequestError("bad_image", f"{field} is not an image ({e})", field=field)
        return torch.zeros(3, img.height // 16 * 16, img.width // 16 * 16)

    def generate(self, requests, on_progress):
        self.batches.append([r.prompt for r in requests])
        self.entered.release()
        if self.gate is not None:
            self.gate.wait(10)
        if any("FAIL_OOM" in r.prompt for r in requests):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        if any("FAIL_INTERNAL" in r.prompt for r in requests):
            raise ValueError("exploded on purpose")
        steps = requests[0].steps
        for step in range(1, steps + 1):
            on_progress(step, steps)
        out = []
        for r in requests:
            digest = hashlib.sha256(f"{r.prompt}|{r.seed}".encode()).digest()
            buf = io.BytesIO()
            Image.new("RGB", (r.width, r.height), tuple(digest[:3])).save(buf, "PNG")
            out.append(GeneratedImage(buf.getvalue(), "png", r.width, r.height, r.seed, 5))
        return out


class RenderingPipeline(FakePipeline):
    """Like KleinPipeline: render() does the device part and returns per-image encoders."""

    def __init__(self):
        super().__init__()
        self.rendered = []

    def render(self, requests, on_progress):
        images = self.generate(requests, on_progress)
        self.rendered.append([r.prompt for r in requests])

        def finisher(request, image):
            def finish():
                if "FAIL_ENCODE" in request.prompt:
                    raise OSError("encoder broke")
                return image
            return finish

        return [finisher(r, i) for r, i in zip(requests, images)]


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.pipeline = FakePipeline()
        self.server = self.make_server(self.pipeline)

    def make_server(self, pipeline, **kwargs):
        self.log = io.StringIO()
        server = WorkerServer(pipeline, host="127.0.0.1", port=0, log=self.log, **kwargs).start()
        self.addCleanup(self.close_server, server)
        return server

    def close_server(self, server):
        if self.pipeline.gate is not None:
            self.pipeline.gate.set()
        server.close(timeout=10)

    # helpers ---------------------------------------------------------------------------------
    def conn(self, server=None):
        host, port = (server or self.server).address
        conn = http.client.HTTPConnection(host, port, timeout=20)
        self.addCleanup(conn.close)
        return conn

    def post(self, body, server=None, raw=None):
        conn = self.conn(server)
        data = raw if raw is not None else json.dumps(body).encode()
        conn.request("POST", "/v1/generate", body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        self.addCleanup(resp.close)
        return conn, resp

    def events(self, body, server=None):
        conn, resp = self.post(body, server)
        text = resp.read().decode()
        self.assertEqual(resp.status, 200, text)
        self.assertEqual(resp.getheader("Content-Type"), "application/x-ndjson")
        out = [json.loads(line) for line in text.splitlines()]
        conn.close()
        return out

    def open_stream(self, body):
        conn, resp = self.post(body)
        self.assertEqual(resp.status, 200)
        return conn, resp

    @staticmethod
    def next_event(resp):
        line = resp.readline()
        return json.loads(line) if line else None

    def wait_for(self, resp, name):
        seen = []
        while True:
            event = self.next_event(resp)
            self.assertIsNotNone(event, f"stream ended before {name}: {seen}")
            seen.append(event)
            if event["event"] == name:
                if name in ("image", "error"):  # the last line: the stream must end here
                    self.assertEqual(resp.read(), b"")
                return seen

    def health(self, server=None):
        conn = self.conn(server)
        conn.request("GET", "/v1/health")
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        return resp.status, body

    def wait_until(self, condition, what):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.02)
        self.fail(f"timed out waiting for {what}")

    def base(self, **kw):
        body = {"prompt": "a red fox in snow", "width": 64, "height": 96, "seed": 42}
        body.update(kw)
        return body

    # tests -------------------------------------------------------------------------------------
    def test_health(self):
        status, body = self.health()
        self.assertEqual(status, 200)
        self.assertEqual(body["status"], "ok")
        self.assertEqual(body["protocol"], 1)
        self.assertEqual(body["model"], "klein-4b")
        self.assertEqual(body["variant"], "distilled")
        self.assertEqual(body["device"], "cpu")
        self.assertEqual(body["dtype"], "float32")
        self.assertEqual(body["queue"], {"waiting": 0, "running": 0})
        self.assertEqual(body["batch_capacity"], 4)
        self.assertEqual(body["max_references"], 4)
        self.assertEqual(body["max_prompt_tokens"], 512)
        self.assertEqual(body["default_steps"], 4)
        self.assertGreater(body["memory"]["allocated_bytes"], 0)

    def test_loading_then_ready(self):
        server = self.make_server(None)
        status, body = self.health(server)
        self.assertEqual((status, body["status"]), (503, "loading"))
        conn, resp = self.post(self.base(), server)
        self.assertEqual(resp.status, 503)
        self.assertEqual(json.loads(resp.read())["code"], "busy")
        server.set_pipeline(self.pipeline)
        self.assertEqual(self.health(server)[0], 200)
        self.assertEqual(self.events(self.base(), server)[-1]["event"], "image")

    def test_generate_streams_events_in_order(self):
        events = self.events(self.base(id="caller-7"))
        names = [e["event"] for e in events]
        self.assertEqual(names, ["queued", "started"] + ["progress"] * 4 + ["image"])
        self.assertEqual(events[0], {"event": "queued", "position": 0})
        self.assertEqual(events[1], {"event": "started", "batch": 1})
        self.assertEqual([e["step"] for e in events[2:6]], [1, 2, 3, 4])
        self.assertTrue(all(e["steps"] == 4 for e in events[2:6]))
        image = events[-1]
        self.assertEqual((image["format"], image["width"], image["height"], image["seed"]), ("png", 64, 96, 42))
        self.assertIsInstance(image["elapsed_ms"], int)
        png = Image.open(io.BytesIO(base64.b64decode(image["data"])))
        self.assertEqual((png.format, png.size), ("PNG", (64, 96)))
        self.assertIn('id="caller-7" size=64x96 steps=4 batch=1', self.log.getvalue())

    def test_defaults_and_steps(self):
        events = self.events({"prompt": "x", "width": 64, "height": 64, "steps": 2})
        self.assertEqual(sum(e["event"] == "progress" for e in events), 2)
        self.assertTrue(0 <= events[-1]["seed"] <= 4294967295)

    def test_log_never_holds_more_than_80_prompt_chars(self):
        prompt = "secret " + "y" * 200
        self.events(self.base(prompt=prompt))
        self.assertIn("y" * 73, self.log.getvalue())
        self.assertNotIn("y" * 74, self.log.getvalue())

    def assert_refused(self, body, code, field, needle=None, raw=None, status=400):
        conn, resp = self.post(body, raw=raw)
        text = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, status, text)
        lines = text.splitlines()
        self.assertEqual(len(lines), 1, text)
        error = json.loads(lines[0])
        self.assertEqual(error["event"], "error")
        self.assertEqual(error["code"], code, error)
        self.assertEqual(error.get("field"), field, error)
        if field:
            self.assertIn(field, error["message"])
        if needle is not None:
            self.assertIn(needle, error["message"])
        return error

    def test_validation_rules(self):
        ref = {"data": base64.b64encode(png_bytes()).decode()}
        cases = [
            ({"width": 64, "height": 64}, "prompt", "null"),
            (self.base(prompt=""), "prompt", '""'),
            (self.base(prompt=7), "prompt", "7"),
            (self.base(prompt="z" * 10001), "prompt", "10,000"),
            (self.base(width=100), "width", "100"),
            (self.base(width=48), "width", "48"),
            (self.base(height=2064), "height", "2064"),
            (self.base(width="64"), "width", '"64"'),
            (self.base(height=64.0), "height", "64.0"),
            (self.base(seed=-1), "seed", "-1"),
            (self.base(seed=4294967296), "seed", "4294967296"),
            (self.base(seed=True), "seed", "true"),
            (self.base(steps=0), "steps", "0"),
            (self.base(steps=101), "steps", "101"),
            (self.base(steps=2.5), "steps", "2.5"),
            (self.base(guidance=0.5), "guidance", "0.5"),
            (self.base(guidance=21), "guidance", "21"),
            (self.base(guidance="4"), "guidance", '"4"'),
            (self.base(output_format="gif"), "output_format", '"gif"'),
            (self.base(references="abc"), "references", '"abc"'),
            (self.base(references=[{"url": "x"}]), "references[0]", "url"),
            (self.base(references=[ref, 5]), "references[1]", "5"),
            (self.base(id="i" * 201), "id", "iii"),
        ]
        for body, field, needle in cases:
            with self.subTest(field=field, body=str(body)[:80]):
                self.assert_refused(body, "invalid_request", field, needle)

    def test_other_refusals(self):
        ref = {"data": base64.b64encode(png_bytes()).decode()}
        self.assert_refused(self.base(references=[ref] * 5), "too_many_references", "references", "5")
        self.assert_refused(self.base(references=[ref, {"data": "!!notbase64!!"}]), "bad_image",
                            "references[1]")
        self.assert_refused(self.base(references=[{"data": base64.b64encode(b"not an image").decode()}]),
                            "bad_image", "references[0]")
        self.assert_refused(self.base(prompt="word " * 60), "prompt_too_long", "prompt")
        self.assert_refused(None, "invalid_request", None, "JSON", raw=b"{not json")
        self.assert_refused([1, 2], "invalid_request", None, "object")
        conn = self.conn()
        conn.request("GET", "/nope")
        resp = conn.getresponse()
        self.assertEqual(resp.status, 404)
        self.assertEqual(json.loads(resp.read())["event"], "error")
        # the same connection (keep-alive) and the server still work
        self.assertEqual(self.events(self.base())[-1]["event"], "image")

    def test_chunked_body_and_missing_length(self):
        conn = self.conn()
        data = json.dumps(self.base(prompt="chunked")).encode()
        conn.request("POST", "/v1/generate", body=iter([data[:10], data[10:]]), encode_chunked=True,
                     headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        resp = conn.getresponse()
        events = [json.loads(x) for x in resp.read().decode().splitlines()]
        self.assertEqual(events[-1]["event"], "image")
        host, port = self.server.address
        with socket.create_connection((host, port)) as raw:
            raw.sendall(b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while True:
                part = raw.recv(65536)
                if not part:
                    break
                reply += part
        head, _, body = reply.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400"), head)
        self.assertIn("Content-Length", json.loads(body)["message"])

    def test_reference_accepted(self):
        ref = {"data": "data:image/png;base64," + base64.b64encode(png_bytes(48, 32)).decode()}
        self.assertEqual(self.events(self.base(references=[ref]))[-1]["event"], "image")

    def test_parse_request_resolves_defaults(self):
        request, req_id = parse_request({"prompt": "p", "width": 2048, "height": 2048, "seed": 0},
                                        FakePipeline(default_steps=50, default_guidance=4.0))
        self.assertEqual((request.width, request.height, request.steps, request.guidance, req_id),
                         (2048, 2048, 50, 4.0, None))
        request, _ = parse_request({"prompt": "p", "guidance": 7}, FakePipeline())
        self.assertIsNone(request.guidance)  # the distilled variant ignores guidance
        self.assertEqual((request.width, request.height, request.output_format), (1024, 1024, "png"))

    def test_busy_when_queue_full(self):
        self.pipeline.gate = threading.Event()
        server = self.make_server(self.pipeline, queue_size=1, batch_capacity=1)
        self.server = server
        c1, r1 = self.open_stream(self.base(prompt="first"))
        self.wait_for(r1, "started")
        c2, r2 = self.open_stream(self.base(prompt="second"))
        self.assertEqual(self.next_event(r2), {"event": "queued", "position": 0})
        self.assert_refused(self.base(prompt="third"), "busy", None, "queue", status=503)
        self.assertEqual(self.health(server)[1]["queue"], {"waiting": 1, "running": 1})
        self.pipeline.gate.set()
        self.assertEqual(self.wait_for(r1, "image")[-1]["event"], "image")
        rest = self.wait_for(r2, "image")
        self.assertEqual(rest[0], {"event": "started", "batch": 1})

    def test_same_size_requests_share_a_batch(self):
        self.pipeline.gate = threading.Event()
        c0, r0 = self.open_stream(self.base(prompt="blocker", width=128, height=128))
        self.wait_for(r0, "started")
        c1, r1 = self.open_stream(self.base(prompt="one", seed=1))
        self.assertEqual(self.next_event(r1)["position"], 0)
        c3, r3 = self.open_stream(self.base(prompt="other size", width=96, height=64))
        self.assertEqual(self.next_event(r3)["position"], 1)
        c2, r2 = self.open_stream(self.base(prompt="two", seed=2))
        self.assertEqual(self.next_event(r2)["position"], 2)
        self.pipeline.gate.set()
        e1, e2, e3 = self.wait_for(r1, "image"), self.wait_for(r2, "image"), self.wait_for(r3, "image")
        self.assertEqual(e1[0], {"event": "started", "batch": 2})
        self.assertEqual(e2[0], {"event": "started", "batch": 2})
        # the other size moved up to the head of the queue, then ran alone
        self.assertEqual(e3[0], {"event": "queued", "position": 0})
        self.assertEqual(e3[1], {"event": "started", "batch": 1})
        self.assertEqual(self.pipeline.batches, [["blocker"], ["one", "two"], ["other size"]])
        self.assertNotEqual(e1[-1]["data"], e2[-1]["data"])
        self.assertEqual((e1[-1]["seed"], e2[-1]["seed"]), (1, 2))

    def test_batch_capacity_caps_a_batch(self):
        self.pipeline.gate = threading.Event()
        server = self.make_server(self.pipeline, batch_capacity=2)
        self.server = server
        c0, r0 = self.open_stream(self.base(prompt="blocker", width=128, height=128))
        self.wait_for(r0, "started")
        streams = [self.open_stream(self.base(prompt=f"p{i}")) for i in range(3)]
        for _, r in streams:
            self.next_event(r)
        self.pipeline.gate.set()
        starts = [self.wait_for(r, "started")[-1]["batch"] for _, r in streams]
        self.assertEqual(starts, [2, 2, 1])

    def test_out_of_memory_fails_one_batch_only(self):
        events = self.events(self.base(prompt="FAIL_OOM please"))
        self.assertEqual([e["event"] for e in events], ["queued", "started", "error"])
        self.assertEqual(events[-1]["code"], "out_of_memory")
        self.assertIn("lower the size", events[-1]["message"])
        self.assertEqual(self.events(self.base())[-1]["event"], "image")

    def test_internal_error_no_traceback_to_client(self):
        events = self.events(self.base(prompt="FAIL_INTERNAL"))
        self.assertEqual(events[-1]["code"], "internal")
        self.assertIn("exploded on purpose", events[-1]["message"])
        self.assertNotIn("Traceback", json.dumps(events))
        self.assertIn("Traceback", self.log.getvalue())
        self.assertEqual(self.events(self.base())[-1]["event"], "image")

    def test_encoding_runs_beside_the_next_batch_and_fails_alone(self):
        pipeline = RenderingPipeline()
        server = self.make_server(pipeline)
        self.server = server
        pipeline.gate = threading.Event()
        c0, r0 = self.open_stream(self.base(prompt="blocker", width=128, height=128))
        self.wait_for(r0, "started")
        c1, r1 = self.open_stream(self.base(prompt="FAIL_ENCODE one"))
        c2, r2 = self.open_stream(self.base(prompt="two", seed=2))
        self.next_event(r1), self.next_event(r2)
        pipeline.gate.set()
        e1, e2 = self.wait_for(r1, "error"), self.wait_for(r2, "image")
        self.assertEqual(e1[0], {"event": "started", "batch": 2})
        self.assertEqual(e1[-1]["code"], "internal")
        self.assertIn("encoder broke", e1[-1]["message"])
        self.assertEqual(Image.open(io.BytesIO(base64.b64decode(e2[-1]["data"]))).size, (64, 96))
        self.assertEqual(pipeline.rendered, [["blocker"], ["FAIL_ENCODE one", "two"]])

    def test_disconnects_do_not_break_the_loop(self):
        self.pipeline.gate = threading.Event()
        host, port = self.server.address
        body = json.dumps(self.base(prompt="leaver")).encode()
        raw = (b"POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        running = socket.create_connection((host, port))
        self.addCleanup(running.close)
        running.sendall(raw)
        self.assertTrue(self.pipeline.entered.acquire(timeout=10))
        waiting = socket.create_connection((host, port))
        self.addCleanup(waiting.close)
        waiting.sendall(raw.replace(b"leaver", b"waiter"))
        self.wait_until(lambda: self.health()[1]["queue"] == {"waiting": 1, "running": 1}, "a waiting job")
        waiting.close()  # gone while queued: dropped from the queue
        self.wait_until(lambda: self.health()[1]["queue"]["waiting"] == 0, "the waiter to be dropped")
        running.close()  # gone while its batch runs
        self.pipeline.gate.set()
        self.assertEqual(self.events(self.base(prompt="after"))[-1]["event"], "image")
        self.assertEqual(self.pipeline.batches, [["leaver"], ["after"]])
        self.assertIn("result=disconnected", self.log.getvalue())

    def test_graceful_shutdown(self):
        self.pipeline.gate = threading.Event()
        c1, r1 = self.open_stream(self.base(prompt="running"))
        self.wait_for(r1, "started")
        c2, r2 = self.open_stream(self.base(prompt="queued", width=128))
        self.assertEqual(self.next_event(r2)["event"], "queued")
        closer = threading.Thread(target=self.server.close)
        closer.start()
        error = self.wait_for(r2, "error")[-1]
        self.assertEqual(error["code"], "shutting_down")
        self.pipeline.gate.set()
        self.assertEqual(self.wait_for(r1, "image")[-1]["event"], "image")
        closer.join(10)
        self.assertFalse(closer.is_alive())
        with self.assertRaises(OSError):
            self.conn().request("GET", "/v1/health")
            self.conn().getresponse()


WORKER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CommandLineTest(unittest.TestCase):
    """python -m fluxbot_klein as the Java backend runs it: a real child process."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="klein-cli-")
        self.addCleanup(shutil.rmtree, self.dir)

    def spawn(self, *args):
        env = dict(os.environ, PYTHONPATH=WORKER_DIR, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "fluxbot_klein", *args], cwd=self.dir, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.reap, proc)
        return proc

    @staticmethod
    def reap(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)

    def test_tiny_then_serve_then_sigterm(self):
        tiny = self.spawn("tiny", os.path.join(self.dir, "ckpt"), "--layout", "bfl")
        out, err = tiny.communicate(timeout=60)
        self.assertEqual(tiny.returncode, 0, err)
        checkpoint = out.strip()
        self.assertTrue(checkpoint.endswith(".safetensors"), out)
        proc = self.spawn("serve", "--checkpoint", checkpoint, "--device", "cpu", "--listen", "127.0.0.1:0",
                          "--warmup", "64x64")
        line = proc.stdout.readline()
        if not line.startswith("listening on http://127.0.0.1:"):
            proc.kill()
            self.fail(f"no listening line: {line!r}; stderr: {proc.communicate(timeout=10)[1]}")
        port = int(line.strip().rsplit(":", 1)[1])
        self.assertNotEqual(port, 0)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", "/v1/health")
        health = json.loads(conn.getresponse().read())
        self.assertEqual((health["status"], health["model"], health["variant"], health["device"], health["dtype"]),
                         ("ok", "klein-4b", "distilled", "cpu", "float32"))
        body = {"id": "cli-1", "prompt": "a red fox in snow", "width": 64, "height": 96, "seed": 5, "steps": 2}
        conn.request("POST", "/v1/generate", body=json.dumps(body), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        events = [json.loads(x) for x in resp.read().decode().splitlines()]
        self.assertEqual([e["event"] for e in events], ["queued", "started", "progress", "progress", "image"])
        png = Image.open(io.BytesIO(base64.b64decode(events[-1]["data"])))
        self.assertEqual((png.format, png.size), ("PNG", (64, 96)))
        # an edit: one reference image in, a JPEG out
        body.update(references=[{"data": base64.b64encode(png_bytes(80, 48)).decode()}], output_format="jpeg",
                    width=64, height=64)
        conn.request("POST", "/v1/generate", body=json.dumps(body), headers={"Content-Type": "application/json"})
        events = [json.loads(x) for x in conn.getresponse().read().decode().splitlines()]
        self.assertEqual(events[-1]["event"], "image", events[-1])
        jpeg = Image.open(io.BytesIO(base64.b64decode(events[-1]["data"])))
        self.assertEqual((jpeg.format, jpeg.size), ("JPEG", (64, 64)))
        conn.request("POST", "/v1/generate", body=json.dumps({"prompt": "x", "width": 70}))
        resp = conn.getresponse()
        self.assertEqual((resp.status, json.loads(resp.read())["field"]), (400, "width"))
        conn.close()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn('id="cli-1" size=64x96 steps=2 batch=1', err)
        self.assertNotIn("Traceback", err)

    def test_bad_checkpoint_exits_2_without_traceback(self):
        proc = self.spawn("serve", "--checkpoint", os.path.join(self.dir, "missing"), "--device", "cpu",
                          "--listen", "127.0.0.1:0")
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 2, err)
        self.assertIn("error:", err)
        self.assertIn("missing", err)
        self.assertNotIn("Traceback", err)
        self.assertNotIn("listening", out)


if __name__ == "__main__":
    unittest.main()
