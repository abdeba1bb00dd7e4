// Protocol tests of the Node.js worker against a fake server (no Django needed): node --test
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";

import { WebSocketServer } from "ws";

import { Backoff, Worker, encodeOutputs, workerSocketUrl } from "../lib/ums-worker.js";
import { buildWorker, geometryArea } from "../worker.js";

const TOKEN = "js-test-token";
const quiet = { info() {}, warn() {}, error() {} };

// A fake server: welcomes every authorised worker and queues the frames it receives.
class FakeServer {
  constructor() {
    this.sessions = [];
    this.waiting = [];
    this.refuse = 0;
  }

  async start() {
    this.wss = new WebSocketServer({
      port: 0,
      verifyClient: (info, done) => {
        if (info.req.headers.authorization !== `Bearer ${TOKEN}`) return done(false, 401);
        if (this.refuse > 0) {
          this.refuse -= 1;
          return done(false, 403);
        }
        return done(true);
      },
    });
    await new Promise((resolve) => this.wss.on("listening", resolve));
    this.url = `http://127.0.0.1:${this.wss.address().port}`;
    this.wss.on("connection", (ws) => {
      const session = { ws, frames: [], waiters: [], hello: null };
      ws.on("message", (data) => {
        const frame = JSON.parse(data.toString());
        if (!session.hello) {
          session.hello = frame;
          const accepted = frame.processes.map((p) => p.id);
          ws.send(JSON.stringify({ type: "welcome", session: randomUUID(), accepted, rejected: [], heartbeat: 0.1 }));
          this.#deliver(session);
          return;
        }
        session.frames.push(frame);
        session.waiters.splice(0).forEach((wake) => wake());
      });
    });
  }

  #deliver(session) {
    const waiter = this.waiting.shift();
    if (waiter) waiter(session);
    else this.sessions.push(session);
  }

  nextSession() {
    const session = this.sessions.shift();
    return session ? Promise.resolve(session) : new Promise((resolve) => this.waiting.push(resolve));
  }

  close() {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(resolve));
  }
}

// The next frame of `type` (skipping heartbeats and other types) the session received.
async function until(session, type) {
  for (;;) {
    const index = session.frames.findIndex((f) => f.type === type);
    if (index >= 0) return session.frames.splice(0, index + 1).pop();
    await new Promise((resolve) => session.waiters.push(resolve));
  }
}

function execute(session, process, inputs) {
  const job = randomUUID();
  session.ws.send(JSON.stringify({ type: "job.execute", job, process, inputs, outputs: {}, attempt: 1 }));
  return job;
}

const server = new FakeServer();
let worker;
let running;

before(async () => {
  await server.start();
  worker = buildWorker({ logger: quiet });
  worker.process(
    {
      id: "js-wait",
      inputs: {},
      outputs: { done: { schema: { type: "boolean" } } },
    },
    async (inputs, ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      return { done: true };
    },
  );
  running = worker.run({ server: server.url, token: TOKEN, backoff: new Backoff({ initial: 0.05, maximum: 0.1 }) });
});

after(async () => {
  worker.stop();
  await running;
  await server.close();
});

test("hello describes the worker and heartbeats follow", async () => {
  const session = await server.nextSession();
  assert.equal(session.hello.protocol, 1);
  assert.equal(session.hello.name, "js-worker");
  assert.equal(session.hello.capacity, 2);
  assert.deepEqual(
    session.hello.processes.map((p) => p.id),
    ["js-echo", "js-density", "js-wait"],
  );
  assert.deepEqual(session.hello.resume, []);
  await until(session, "heartbeat");
  server.sessions.unshift(session); // keep it for the next tests
});

test("echo: started, progress, succeeded", async () => {
  const session = await server.nextSession();
  server.sessions.unshift(session);
  const job = execute(session, "js-echo", { message: "hello from node" });
  assert.deepEqual(await until(session, "job.started"), { type: "job.started", job });
  assert.equal((await until(session, "job.progress")).progress, 50);
  assert.deepEqual(await until(session, "job.succeeded"), {
    type: "job.succeeded",
    job,
    outputs: { echo: { value: "hello from node", mediaType: "text/plain" } },
  });
});

test("density of a 1 km² square", async () => {
  const session = await server.nextSession();
  server.sessions.unshift(session);
  // ~1 km x ~1 km at the equator
  const d = 1000 / 111195;
  const square = [[0, 0], [d, 0], [d, d], [0, d], [0, 0]];
  const areas = {
    type: "FeatureCollection",
    features: [{ type: "Feature", properties: { population: 2500 }, geometry: { type: "Polygon", coordinates: [square] } }],
  };
  const job = execute(session, "js-density", { areas });
  const result = await until(session, "job.succeeded");
  assert.equal(result.job, job);
  const feature = result.outputs.areas.value.features[0];
  assert.equal(result.outputs.areas.mediaType, "application/geo+json");
  assert.ok(Math.abs(feature.properties.area_km2 - 1) < 0.01, feature.properties.area_km2);
  assert.ok(Math.abs(feature.properties.density - 2500) < 25, feature.properties.density);
});

test("errors become job.failed, unknown processes job.rejected", async () => {
  const session = await server.nextSession();
  server.sessions.unshift(session);
  const failing = execute(session, "js-density", { areas: { type: "Feature" } });
  const failed = await until(session, "job.failed");
  assert.equal(failed.job, failing);
  assert.equal(failed.error.detail, "TypeError: areas must be a GeoJSON FeatureCollection");
  const unknown = execute(session, "nope", {});
  const rejected = await until(session, "job.rejected");
  assert.equal(rejected.job, unknown);
  assert.match(rejected.reason, /nope/);
});

test("cancel aborts the job and nothing is reported", async () => {
  const session = await server.nextSession();
  server.sessions.unshift(session);
  const job = execute(session, "js-wait", {});
  await until(session, "job.started");
  session.ws.send(JSON.stringify({ type: "job.cancel", job }));
  const after = execute(session, "js-echo", { message: "next" });
  assert.equal((await until(session, "job.succeeded")).job, after);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!session.frames.some((f) => f.job === job && f.type !== "job.progress"));
  assert.ok(!worker.jobs.has(job));
});

test("reconnects after refusals and a lost connection, resuming its running job", async () => {
  const first = await server.nextSession();
  const job = execute(first, "js-wait", {});
  await until(first, "job.started");
  server.refuse = 2;
  first.ws.terminate();
  const second = await server.nextSession();
  assert.deepEqual(second.hello.resume, [job]);
  worker.jobs.get(job).controller.abort(); // cancelled jobs are not reported
  server.sessions.unshift(second);
});

test("helpers", () => {
  assert.equal(workerSocketUrl("http://127.0.0.1:8000"), "ws://127.0.0.1:8000/ws/workers/");
  assert.equal(workerSocketUrl("https://example.org/ums/"), "wss://example.org/ums/ws/workers/");
  const backoff = new Backoff({ initial: 1, maximum: 4, random: () => 1 });
  assert.deepEqual([1, 2, 3, 4].map(() => backoff.nextDelay()), [1, 2, 4, 4]);
  assert.deepEqual(encodeOutputs({ a: 1, b: { value: "x", mediaType: "text/csv" } }, { outputs: {} }), {
    a: { value: 1, mediaType: "application/json" },
    b: { value: "x", mediaType: "text/csv" },
  });
  assert.throws(() => geometryArea({ type: "Point", coordinates: [0, 0] }), TypeError);
  assert.throws(() => new Worker().process({ id: "x" }, () => {}).process({ id: "x" }, () => {}));
});
