// A minimal Urban Model Server worker for Node.js: worker protocol v1 over the `ws` package.
// It mirrors the Python SDK (ums_worker): register processes with their OGC descriptions,
// run jobs with progress and cancellation, reconnect with backoff and resume running jobs.

import WebSocket from "ws";

const PROTOCOL_VERSION = 1;
const MAX_FRAME_SIZE = 16 * 1024 * 1024; // job.execute frames carry the inputs
const FINAL_TYPES = new Set(["job.succeeded", "job.failed"]);

export class JobCancelled extends Error {}

/** The ws(s)://host/ws/workers/ URL for an http(s) server URL. */
export function workerSocketUrl(server) {
  const url = new URL(server);
  if (url.protocol === "http:" || url.protocol === "ws:") url.protocol = "ws:";
  else if (url.protocol === "https:" || url.protocol === "wss:") url.protocol = "wss:";
  else throw new Error(`server URL must be http(s) or ws(s), got ${server}`);
  const path = url.pathname.replace(/\/+$/, "").replace(/\/ws\/workers$/, "");
  url.pathname = `${path}/ws/workers/`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** Exponential backoff with jitter, capped: many workers must not reconnect in lockstep. */
export class Backoff {
  constructor({ initial = 0.5, maximum = 30, factor = 2, random = Math.random } = {}) {
    Object.assign(this, { initial, maximum, factor, random, attempts: 0 });
  }

  nextDelay() {
    const ceiling = Math.min(this.maximum, this.initial * this.factor ** this.attempts);
    this.attempts += 1;
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  reset() {
    this.attempts = 0;
  }
}

class JobContext {
  constructor(job, frame, emit) {
    this.job = job;
    this.process = frame.process;
    this.attempt = frame.attempt ?? 1;
    this.outputs = frame.outputs ?? {};
    this.controller = new AbortController();
    this.signal = this.controller.signal; // aborted when the client dismisses the job
    this.emit = emit;
  }

  get cancelled() {
    return this.signal.aborted;
  }

  progress(percent, message = "") {
    if (this.cancelled) return;
    const progress = Math.max(0, Math.min(100, Math.trunc(percent)));
    this.emit({ type: "job.progress", job: this.job, progress, message: String(message).slice(0, 10000) });
  }

  throwIfCancelled() {
    if (this.cancelled) throw new JobCancelled(this.job);
  }
}

export class Worker {
  constructor({ name = "js-worker", capacity = 1, logger = console } = {}) {
    this.name = name;
    this.capacity = capacity;
    this.logger = logger;
    this.processes = new Map();
    this.jobs = new Map(); // job id -> JobContext, while running
    this.finals = new Map(); // job id -> final frame not yet written to a socket
    this.ws = null;
    this.stopped = false;
  }

  /** Serve `handler(inputs, ctx)` (sync or async) as the process `description` describes. */
  process(description, handler) {
    if (this.processes.has(description.id)) throw new Error(`process ${description.id} is already served`);
    this.processes.set(description.id, { description: { version: "1.0.0", ...description }, handler });
    return this;
  }

  /** Connect and serve until stop(); resolves when stopped. */
  async run({ server, token, backoff = new Backoff() }) {
    if (!token) throw new Error("a worker token is required");
    const url = workerSocketUrl(server);
    this.stopped = false;
    while (!this.stopped) {
      const welcomed = await this.#session(url, token);
      if (welcomed) backoff.reset();
      if (this.stopped) break;
      const delay = backoff.nextDelay();
      this.logger.info(`reconnecting in ${delay.toFixed(1)} s`);
      await new Promise((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, delay * 1000);
      });
    }
  }

  stop() {
    this.stopped = true;
    for (const ctx of this.jobs.values()) ctx.controller.abort();
    this.ws?.close(1000, "worker stopping");
    this.wake?.();
  }

  // One connection; resolves (never rejects) when it ends, with whether it was welcomed.
  #session(url, token) {
    return new Promise((resolve) => {
      let welcomed = false;
      let heartbeat = null;
      this.logger.info(`connecting to ${url}`);
      const ws = new WebSocket(url, {
        headers: { Authorization: `Bearer ${token}` },
        maxPayload: MAX_FRAME_SIZE,
        handshakeTimeout: 15000,
      });
      this.ws = ws;
      // A refused handshake ("Unexpected server response: 401") arrives here too, then "close".
      ws.on("error", (error) => this.logger.warn(`connection error: ${error.message}`));
      ws.on("open", () => ws.send(JSON.stringify(this.#hello())));
      ws.on("message", (data) => {
        let frame;
        try {
          frame = JSON.parse(data.toString());
        } catch {
          this.logger.warn("ignoring a frame that is not JSON");
          return;
        }
        if (!welcomed) {
          if (frame.type !== "welcome") {
            this.logger.error(`server refused the session: ${frame.code ?? frame.type}: ${frame.detail ?? ""}`);
            ws.close();
            return;
          }
          welcomed = true;
          heartbeat = this.#welcome(frame, ws);
          return;
        }
        this.#dispatch(frame);
      });
      ws.on("close", (code, reason) => {
        clearInterval(heartbeat);
        if (this.ws === ws) this.ws = null;
        if (welcomed) this.logger.warn(`connection closed: ${code} ${reason}`);
        resolve(welcomed);
      });
    });
  }

  #hello() {
    return {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      name: this.name,
      capacity: this.capacity,
      processes: [...this.processes.values()].map((p) => p.description),
      resume: [...new Set([...this.jobs.keys(), ...this.finals.keys()])],
    };
  }

  #welcome(frame, ws) {
    this.logger.info(`connected, session ${frame.session}; accepted: ${(frame.accepted ?? []).join(", ")}`);
    for (const rejected of frame.rejected ?? []) {
      this.logger.warn(`process ${rejected.id} rejected: ${rejected.reason}`);
    }
    // Results finished while disconnected go out now; their jobs were named in `resume`.
    for (const final of this.finals.values()) this.#send(final);
    const seconds = frame.heartbeat > 0 ? frame.heartbeat : 30;
    return setInterval(() => this.#send({ type: "heartbeat" }), seconds * 1000);
  }

  #send(frame) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return; // final frames stay in this.finals
    ws.send(JSON.stringify(frame), (error) => {
      if (!error && FINAL_TYPES.has(frame.type) && this.finals.get(frame.job) === frame) {
        this.finals.delete(frame.job);
      }
    });
  }

  #dispatch(frame) {
    switch (frame.type) {
      case "job.execute":
        this.#execute(frame);
        break;
      case "job.cancel":
        this.#cancel(frame.job);
        break;
      case "error":
        this.logger.warn(`server error ${frame.code}${frame.job ? ` (job ${frame.job})` : ""}: ${frame.detail}`);
        break;
      case "registered":
        this.logger.info(`registered: ${JSON.stringify(frame)}`);
        break;
      default:
        this.logger.warn(`ignoring a frame of unknown type ${frame.type}`);
    }
  }

  #execute(frame) {
    const { job } = frame;
    if (this.jobs.has(job)) {
      this.#send({ type: "job.started", job });
      return;
    }
    const process = this.processes.get(frame.process);
    if (!process) {
      this.#send({ type: "job.rejected", job, reason: `this worker does not serve process ${frame.process}` });
      return;
    }
    if (this.jobs.size >= this.capacity) {
      this.#send({ type: "job.rejected", job, reason: `worker is at capacity (${this.capacity} jobs)` });
      return;
    }
    const ctx = new JobContext(job, frame, (f) => this.#send(f));
    this.jobs.set(job, ctx);
    this.#run(process, frame.inputs ?? {}, ctx);
  }

  async #run(process, inputs, ctx) {
    this.logger.info(`job ${ctx.job}: ${ctx.process} started`);
    this.#send({ type: "job.started", job: ctx.job });
    let final;
    try {
      const result = await process.handler(inputs, ctx);
      final = { type: "job.succeeded", job: ctx.job, outputs: encodeOutputs(result, process.description) };
    } catch (error) {
      const name = error?.name ?? "Error";
      const detail = error?.message ? `${name}: ${error.message}` : name;
      final = {
        type: "job.failed",
        job: ctx.job,
        error: { title: `Process '${ctx.process}' failed`, detail: detail.slice(0, 4000) },
      };
    } finally {
      if (this.jobs.get(ctx.job) === ctx) this.jobs.delete(ctx.job);
    }
    if (ctx.cancelled) {
      this.logger.info(`job ${ctx.job}: cancelled, not reporting`);
      return;
    }
    this.logger.info(`job ${ctx.job}: ${final.type}`);
    this.finals.set(ctx.job, final);
    this.#send(final);
  }

  #cancel(job) {
    const ctx = this.jobs.get(job);
    this.finals.delete(job);
    if (!ctx) return;
    this.logger.info(`job ${job}: cancel requested`);
    this.jobs.delete(job);
    ctx.controller.abort();
  }
}

/** {outputId: value} (or {outputId: {value, mediaType}}) -> the outputs of job.succeeded. */
export function encodeOutputs(result, description) {
  const declared = description.outputs ?? {};
  const outputs = {};
  for (const [id, entry] of Object.entries(result ?? {})) {
    const qualified = entry !== null && typeof entry === "object" && "value" in entry && "mediaType" in entry;
    const value = qualified ? entry.value : entry;
    const mediaType =
      (qualified && entry.mediaType) ||
      declared[id]?.schema?.contentMediaType ||
      (typeof value === "string" ? "text/plain" : "application/json");
    outputs[id] = { value, mediaType };
  }
  return outputs;
}
