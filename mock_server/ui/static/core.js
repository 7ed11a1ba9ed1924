// The web view of the Downlinks mock, part 1 of 6: constants, DOM and HTTP helpers, the
// shared state of the views. Plain classic scripts loaded in order (no build step, no
// network beyond the mock); they share one global scope. Everything shown is set with
// textContent (never innerHTML), so no stored value can inject markup.
"use strict";

const UI = "/__mock/ui/api";
const POLL_MS = 500; // live views are at most this (plus one request) behind the mock
const STATUSES = ["PENDING", "EXECUTING", "SENT_TO_CARRIER", "RETRY", "DELIVERED", "FAILED", "CANCELLED"];

// -- small helpers ---------------------------------------------------------------------

function el(tag, props, ...kids) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    node.append(kid instanceof Node ? kid : String(kid));
  }
  return node;
}
const $ = (id) => document.getElementById(id);
// replaceChildren with el's rules: arrays flattened, null and false skipped.
const fill = (node, ...kids) => node.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
const badge = (status) => el("span", { class: `badge s-${status}` }, status);
const when = (iso) => (iso ? el("time", { datetime: iso }, iso) : "—");
const idLink = (id) => el("a", { href: `#/downlinks/${encodeURIComponent(id)}`, title: id }, el("code", {}, id.slice(0, 8) + "…"));
const httpStatus = (status) =>
  el("span", { class: `http c${status ? String(status)[0] : "x"}` }, status === null ? "dropped" : String(status));
const plusMs = (iso, ms) => new Date(Date.parse(iso) + ms).toISOString();

async function call(method, url, body, headers) {
  const init = { method, headers: { Accept: "application/json", ...(headers || {}) } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    return { ok: false, status: 0, data: { title: "No answer", detail: String(err) } };
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { ok: res.ok, status: res.status, statusText: res.statusText, data };
}

// Shows an answer: the success text, or the API's own problem+json (E1, E2) as it came.
function showResult(region, res, okText) {
  region.replaceChildren();
  region.className = "result " + (res.ok ? "ok" : "error");
  if (res.ok) {
    region.append(el("p", {}, el("strong", {}, `${res.status} ${res.statusText || ""}`), " ", okText));
    return;
  }
  const p = res.data && typeof res.data === "object" ? res.data : { detail: res.data };
  region.append(
    el("p", {}, el("strong", {}, `${res.status} ${p.title || res.statusText || ""}`), " ", p.detail || ""),
    Array.isArray(p.errors) && p.errors.length
      ? el("ul", {}, p.errors.map((e) => el("li", {}, el("code", {}, e.pointer || e.parameter || ""), " ", e.detail)))
      : null,
    p.type ? el("p", { class: "muted" }, "type ", el("code", {}, p.type)) : null,
  );
}

function table(headers, rows, caption) {
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      caption ? el("caption", {}, caption) : null,
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c) => el("td", {}, c))))),
    ),
  );
}
const facts = (pairs) => el("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [el("dt", {}, k), el("dd", {}, v ?? "—")]));
const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

// A view keeps one load in flight; a change seen meanwhile loads once more after it.
function loader(fn) {
  let busy = false;
  let again = false;
  return async function load(...args) {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      await fn(...args);
    } finally {
      busy = false;
      if (again) {
        again = false;
        load(...args);
      }
    }
  };
}

// -- views -----------------------------------------------------------------------------

const views = {};
let route = { name: "downlinks", arg: null, params: new URLSearchParams() };
let lastState = null;
