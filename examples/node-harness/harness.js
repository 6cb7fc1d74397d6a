#!/usr/bin/env node
// A small OKR implementation in plain Node.js (no npm packages) that speaks the okrcore
// conformance protocol, version 1, over standard input and output:
//
//   okrcore conformance run --harness "node examples/node-harness/harness.js"
//
// It declares the capabilities metrics, reductions, binary, milestones and warnings: metric,
// binary and milestone key results, the weighted mean rollup, expected progress and pace colours
// under the default (betterworks) preset (no timeline, no pace; binary and simple milestones
// paced against their due), manual status, and unknown_field warnings (SEMANTICS §11).
// Documents that need anything else (a sum
// rollup, a policy other than the default) are answered "skipped". okrcore is the reference:
// this program is an example of a vendor harness, checked against okrcore by the suite.
"use strict";

const readline = require("node:readline");

const CAPABILITIES = ["binary", "metrics", "milestones", "reductions", "warnings"];
const TOLERANCE = 1e-9;
const MANUAL = { on_track: "green", behind: "yellow", at_risk: "yellow", off_track: "red" };
const DEFAULT_PACE = JSON.stringify({ rule: "ratio", yellow: 0.75, red: 0.5, boundary: "worse" });
// The fields of each object of a version 1 document; any other is an unknown_field warning.
const DOCUMENT_FIELDS = ["okrcore", "as_of", "policy", "objectives"];
const OBJECTIVE_FIELDS = ["id", "owner", "parent", "weight", "start", "due", "mode", "ambition",
  "status", "include_children", "progress_settings", "name", "key_results"];
const KR_FIELDS = {
  metric: ["target", "start", "current", "unit", "range", "check_ins"],
  binary: ["done", "check_ins"],
  milestone: ["done", "stages_total", "stages_done", "checkpoints", "check_ins"],
};
const KR_COMMON = ["id", "kind", "weight", "owners", "due", "name"];

class Skip extends Error {}

// Instants as integer microseconds since the epoch (exact in a double up to 2^53).
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;
function instant(text, endOfDay = false) {
  if (text === null || text === undefined) return null;
  const m = INSTANT.exec(text);
  if (!m) throw new Error(`not an instant: ${text}`);
  const dateOnly = m[4] === undefined;
  let ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0));
  if (dateOnly && endOfDay) ms += 86400000;
  if (m[8] && m[8] !== "Z") {
    const sign = m[8][0] === "-" ? -1 : 1;
    ms -= sign * (+m[8].slice(1, 3) * 60 + +m[8].slice(4, 6)) * 60000;
  }
  return ms * 1000 + +((m[7] || "").padEnd(6, "0"));
}

const approxLe = (a, b) => a <= b || Math.abs(a - b) <= TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
const clamp = (raw, cap) => Math.min(raw > 0 ? raw : 0, cap);

function warnUnknown(object, known, path, warnings) {
  const prefix = path ? `${path}.` : "";
  for (const key of Object.keys(object).sort()) {
    if (!known.includes(key)) {
      warnings.push({ code: "unknown_field", path: prefix + key, message: `unknown field '${key}' is ignored` });
    }
  }
}

function paceColour(p, e) {
  if (e === null) return null; // no timeline, no pace (SEMANTICS §11.1)
  if (approxLe(1, p) || e <= 0 || approxLe(e, p)) return "green";
  if (approxLe(p, 0.5 * e)) return "red";
  if (approxLe(p, 0.75 * e)) return "yellow";
  return "green";
}

function expected(asOf, start, due) {
  if (start === null || due === null) return null;
  return Math.min(Math.max((asOf - start) / (due - start), 0), 1);
}

// [current, raw progress] of one key result.
function keyResultState(kr) {
  if (kr.check_ins !== undefined && kr.check_ins !== null) throw new Skip("check-in histories");
  if (kr.kind === "metric") {
    if (kr.range) throw new Skip("range metrics");
    const start = kr.start ?? 0;
    const current = kr.current ?? start;
    return [current, (current - start) / (kr.target - start)];
  }
  if (kr.kind === "binary" || (kr.kind === "milestone" && kr.stages_total == null && kr.checkpoints == null)) {
    const done = kr.done === true;
    return [done, done ? 1 : 0];
  }
  if (kr.kind === "milestone" && kr.checkpoints != null) {
    const done = kr.checkpoints.filter((c) => c.done === true).length;
    return [done, done / kr.checkpoints.length];
  }
  if (kr.kind === "milestone") {
    const done = kr.stages_done ?? 0;
    return [done, done / kr.stages_total];
  }
  throw new Skip(`key result kind ${kr.kind}`);
}

function wouldSum(obj) {
  if (obj.mode === "sum" || obj.progress_settings) return true;
  if ((obj.mode ?? "auto") !== "auto") return false;
  const krs = obj.key_results || [];
  if (krs.length === 0) return false;
  const plain = krs.every((k) => k.kind === "metric" && !k.range && (k.unit ?? "") !== "");
  if (!plain) return false;
  const units = new Set(krs.map((k) => k.unit));
  const directions = new Set(krs.map((k) => Math.sign(k.target - (k.start ?? 0))));
  return units.size === 1 && directions.size === 1;
}

function evaluate(document) {
  const policy = document.policy || {};
  if ((policy.preset ?? "betterworks") !== "betterworks") throw new Skip("policy presets");
  if (policy.cap !== undefined && policy.cap !== 1) throw new Skip("policy cap");
  if (policy.pace !== undefined) {
    const pace = { rule: policy.pace.rule, yellow: policy.pace.yellow, red: policy.pace.red, boundary: policy.pace.boundary ?? "worse" };
    if (JSON.stringify(pace) !== DEFAULT_PACE) throw new Skip("policy pace");
  }
  const asOf = instant(document.as_of);
  const warnings = [];
  warnUnknown(document, DOCUMENT_FIELDS, "", warnings);
  const result = { okrcore: 1, as_of: document.as_of, objectives: {}, key_results: {}, people: {}, errors: [], warnings };
  (document.objectives || []).forEach((obj, i) => {
    warnUnknown(obj, OBJECTIVE_FIELDS, `objectives[${i}]`, warnings);
    (obj.key_results || []).forEach((kr, j) => {
      warnUnknown(kr, [...KR_COMMON, ...(KR_FIELDS[kr.kind] || [])], `objectives[${i}].key_results[${j}]`, warnings);
    });
  });
  for (const obj of document.objectives || []) {
    if (obj.parent) throw new Skip("alignment");
    if (wouldSum(obj)) throw new Skip("sum rollups");
    const start = instant(obj.start);
    const due = instant(obj.due, true);
    let total = 0;
    let weighted = 0;
    for (const kr of obj.key_results || []) {
      const [current, raw] = keyResultState(kr);
      const progress = clamp(raw, 1);
      const krDue = kr.due != null ? instant(kr.due, true) : due;
      const e = expected(asOf, start, krDue);
      let colour = paceColour(progress, e);
      if (typeof current === "boolean") {
        // done or not: paced against its due (SEMANTICS §11.2)
        colour = current ? "green" : krDue === null ? null : asOf < krDue ? "green" : "red";
      }
      result.key_results[kr.id] = { progress, raw_progress: raw, colour, current, expected: e };
      const weight = kr.weight ?? 1;
      total += weight;
      weighted += weight * progress;
    }
    const progress = total === 0 ? null : weighted / total;
    const e = expected(asOf, start, due);
    const computed = progress === null ? null : paceColour(progress, e);
    result.objectives[obj.id] = {
      progress, raw_progress: progress, expected: e, mode: "mean",
      computed_colour: computed, colour: obj.status ? MANUAL[obj.status] : computed,
    };
  }
  return result;
}

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  if (!line.trim()) return;
  const request = JSON.parse(line);
  if (request.cmd === "start") {
    send({ type: "started", protocol: 1, name: "node-example", version: "1.0.0", capabilities: CAPABILITIES });
  } else if (request.cmd === "evaluate") {
    try {
      send({ type: "result", seq: request.seq, result: evaluate(request.document) });
    } catch (error) {
      if (error instanceof Skip) send({ type: "skipped", seq: request.seq, reason: error.message });
      else send({ type: "errored", seq: request.seq, message: String(error && error.stack || error) });
    }
  } else if (request.cmd === "stop") {
    send({ type: "stopped" });
    lines.close();
  }
});
