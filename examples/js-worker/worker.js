#!/usr/bin/env node
// Serves two processes from Node.js:
//   js-echo     echoes a message (with progress), the smallest possible process;
//   js-density  population density of GeoJSON polygons (people per km²), a small urban model.
//
//   UMS_SERVER_URL=http://127.0.0.1:8000 UMS_WORKER_TOKEN=... node worker.js
//   node worker.js --server http://127.0.0.1:8000 --token TOKEN [--name N] [--capacity N]

import { realpathSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

import { Worker } from "./lib/ums-worker.js";

const EARTH_RADIUS_M = 6371008.8;

export const echoDescription = {
  id: "js-echo",
  version: "1.0.0",
  title: "Echo (JavaScript)",
  description: "Returns the message it was given; served by a Node.js worker.",
  jobControlOptions: ["sync-execute", "async-execute", "dismiss"],
  outputTransmission: ["value"],
  inputs: {
    message: { title: "Message", schema: { type: "string" }, minOccurs: 1, maxOccurs: 1 },
  },
  outputs: { echo: { title: "Echo", schema: { type: "string" } } },
};

export async function echo(inputs, ctx) {
  ctx.progress(50, "echoing");
  return { echo: inputs.message };
}

export const densityDescription = {
  id: "js-density",
  version: "1.0.0",
  title: "Population density (JavaScript)",
  description: "Adds area_km2 and density (people per km²) to each polygon of a GeoJSON FeatureCollection.",
  keywords: ["population", "density", "GeoJSON"],
  jobControlOptions: ["sync-execute", "async-execute", "dismiss"],
  outputTransmission: ["value"],
  inputs: {
    areas: {
      title: "Areas",
      description: "GeoJSON FeatureCollection of Polygon/MultiPolygon features (WGS 84).",
      schema: { type: "object", required: ["type", "features"], contentMediaType: "application/geo+json" },
      minOccurs: 1,
      maxOccurs: 1,
    },
    population_property: {
      title: "Population property",
      schema: { type: "string", default: "population" },
      minOccurs: 0,
      maxOccurs: 1,
    },
  },
  outputs: {
    areas: {
      title: "Areas with density",
      schema: { type: "object", contentMediaType: "application/geo+json" },
    },
  },
};

// Area of a ring on the sphere (the formula of d3-geo and turf), in m².
function ringArea(ring) {
  let sum = 0;
  for (let i = 0; i < ring.length - 1; i++) {
    const [lon1, lat1] = ring[i].map((d) => (d * Math.PI) / 180);
    const [lon2, lat2] = ring[i + 1].map((d) => (d * Math.PI) / 180);
    sum += (lon2 - lon1) * (2 + Math.sin(lat1) + Math.sin(lat2));
  }
  return Math.abs((sum * EARTH_RADIUS_M * EARTH_RADIUS_M) / 2);
}

function polygonArea(rings) {
  return rings.reduce((area, ring, index) => area + (index === 0 ? 1 : -1) * ringArea(ring), 0);
}

export function geometryArea(geometry) {
  if (geometry?.type === "Polygon") return polygonArea(geometry.coordinates);
  if (geometry?.type === "MultiPolygon") return geometry.coordinates.reduce((a, p) => a + polygonArea(p), 0);
  throw new TypeError(`expected a Polygon or MultiPolygon, got ${geometry?.type}`);
}

export async function density(inputs, ctx) {
  const { areas } = inputs;
  const property = inputs.population_property ?? "population";
  if (areas?.type !== "FeatureCollection" || !Array.isArray(areas.features)) {
    throw new TypeError("areas must be a GeoJSON FeatureCollection");
  }
  const features = [];
  for (const [index, feature] of areas.features.entries()) {
    ctx.throwIfCancelled();
    ctx.progress((100 * index) / areas.features.length, `area ${index + 1} of ${areas.features.length}`);
    const areaKm2 = geometryArea(feature.geometry) / 1e6;
    const population = Number(feature.properties?.[property] ?? 0);
    const properties = { ...feature.properties, area_km2: round(areaKm2, 4), density: round(population / areaKm2, 1) };
    features.push({ ...feature, properties });
    await new Promise((resolve) => setImmediate(resolve)); // let cancel and heartbeats in
  }
  return { areas: { value: { type: "FeatureCollection", features }, mediaType: "application/geo+json" } };
}

function round(value, digits) {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : null;
}

export function buildWorker(options = {}) {
  return new Worker({ name: "js-worker", capacity: 2, ...options })
    .process(echoDescription, echo)
    .process(densityDescription, density);
}

async function main() {
  const { values } = parseArgs({
    options: {
      server: { type: "string", default: process.env.UMS_SERVER_URL ?? "http://127.0.0.1:8000" },
      token: { type: "string", default: process.env.UMS_WORKER_TOKEN },
      name: { type: "string" },
      capacity: { type: "string" },
    },
  });
  if (!values.token) {
    console.error("a worker token is required: --token or $UMS_WORKER_TOKEN");
    process.exit(2);
  }
  const options = {};
  if (values.name) options.name = values.name;
  if (values.capacity) options.capacity = Number.parseInt(values.capacity, 10);
  const worker = buildWorker(options);
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => worker.stop());
  await worker.run({ server: values.server, token: values.token });
  console.info("worker stopped");
}

// Run only as a program (also through the npm bin symlink), not when imported by the tests.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  await main();
}
