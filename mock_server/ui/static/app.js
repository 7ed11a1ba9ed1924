// The web view of the Downlinks mock: plain DOM, no build step, no network beyond the mock.
// It reads through /__mock/ui/api/*, changes state through the control plane (/__mock/*)
// and cancels through the public API, as any client would. Everything shown is set with
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

// Downlinks: every client's, filtered and keyset-paged by /__mock/ui/api/downlinks.
views.downlinks = (() => {
  const form = $("dl-filter");
  const tbody = document.querySelector("#dl-table tbody");
  let cursor = null;
  let page = { next: null, prev: null };
  let pageNo = 1;
  let seen = new Map(); // id -> status, to flash the rows that changed

  function filters() {
    const out = new URLSearchParams();
    for (const name of ["client", "status", "q", "sort", "limit"]) {
      const value = form.elements[name].value;
      if (value && !(name === "sort" && value === "-createdAt") && !(name === "limit" && value === "50")) out.set(name, value);
    }
    return out;
  }
  const load = loader(async () => {
    const params = filters();
    if (!params.has("sort")) params.set("sort", "-createdAt");
    if (cursor) params.set("cursor", cursor);
    const res = await call("GET", `${UI}/downlinks?${params}`);
    if (!res.ok) {
      fill(tbody, el("tr", {}, el("td", { colspan: 7, class: "empty" }, res.data?.detail || "Could not load.")));
      $("dl-first").disabled = false;
      return;
    }
    page = res.data;
    const select = form.elements.client;
    const chosen = select.value;
    const owners = [...new Set([...page.owners, ...(chosen ? [chosen] : [])])];
    if (select.options.length - 1 !== owners.length || owners.some((o, i) => select.options[i + 1].value !== o)) {
      fill(select, el("option", { value: "" }, "every client"), owners.map((o) => el("option", { value: o }, o)));
      select.value = chosen;
    }
    const next = new Map();
    fill(tbody, 
      ...page.items.map((d) => {
        next.set(d.id, d.status);
        const changed = seen.has(d.id) && seen.get(d.id) !== d.status;
        return el(
          "tr",
          { class: changed ? "flash" : null, "data-id": d.id },
          el("td", { class: "id" }, idLink(d.id)),
          el("td", {}, d.owner),
          el("td", { class: "wide" }, el("code", {}, d.networkId)),
          el("td", { class: "wide" }, d.externalReference ?? "—"),
          el("td", {}, badge(d.status)),
          el("td", { class: "wide" }, when(d.createdAt)),
          el("td", {}, when(d.modifiedAt)),
        );
      }),
    );
    if (!page.items.length) tbody.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "No downlink matches.")));
    seen = next;
    // For docs/web-view.md: when the first rows were on screen (Performance API).
    if (!performance.getEntriesByName("downlinks-rendered").length) performance.mark("downlinks-rendered");
    if (!page.prev) pageNo = 1;
    $("dl-summary").textContent =
      `${page.items.length} shown · ${page.stored.toLocaleString("en")} stored in all, ${page.owners.length} client(s)` +
      (page.partial ? " · the scan stopped early: Next goes on searching" : "");
    $("dl-page").textContent = `page ${pageNo}`;
    $("dl-prev").disabled = !page.prev;
    $("dl-first").disabled = !page.prev;
    $("dl-next").disabled = !page.next;
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = filters().toString();
    location.hash = "#/downlinks" + (params ? `?${params}` : "");
  });
  for (const name of ["client", "status", "sort", "limit"]) {
    form.elements[name].addEventListener("change", () => form.requestSubmit());
  }
  // A pager button waits for the page it asked for: a second click acts on that page.
  function turn(to, number) {
    for (const id of ["dl-first", "dl-prev", "dl-next"]) $(id).disabled = true;
    cursor = to;
    pageNo = number;
    load();
  }
  $("dl-next").addEventListener("click", () => turn(page.next, pageNo + 1));
  $("dl-prev").addEventListener("click", () => turn(page.prev, Math.max(1, pageNo - 1)));
  $("dl-first").addEventListener("click", () => turn(null, 1));
  return {
    enter(arg, params) {
      for (const name of ["client", "status", "q", "sort", "limit"]) {
        const field = form.elements[name];
        const value = params.get(name) || (name === "sort" ? "-createdAt" : name === "limit" ? "50" : "");
        if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) {
          field.append(el("option", { value }, value));
        }
        field.value = value;
      }
      cursor = null;
      pageNo = 1;
      seen = new Map();
      load();
    },
    onState(state, changed) {
      if (changed("version")) load();
    },
  };
})();

// One downlink: request, log timeline, scheduled moves; cancel and move buttons.
views.downlink = (() => {
  const body = $("d-body");
  let current = null;

  function senml(records) {
    const order = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "s", "t", "ut"];
    const keys = [];
    for (const r of records) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
    keys.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
    return table(
      keys,
      records.map((r) => keys.map((k) => (k in r ? (typeof r[k] === "object" ? JSON.stringify(r[k]) : String(r[k])) : ""))),
      "Instruction (SenML pack)",
    );
  }
  function upcoming(moves) {
    if (!moves.length) return el("p", { class: "muted" }, "Nothing scheduled: no progression step or timeout is waiting.");
    return table(
      ["When", "To", "Note"],
      moves.map((m) => [
        m.earliest === m.latest ? when(m.earliest) : el("span", {}, "between ", when(m.earliest), " and ", when(m.latest)),
        m.to ? badge(m.to) : `${m.partsDelivered} more part(s) delivered`,
        [
          m.timeout ? "feedback timeout" : null,
          m.errorCode ? `errorCode ${m.errorCode}` : null,
          m.chance < 1 ? `with chance ${m.chance}` : null,
        ]
          .filter(Boolean)
          .join(", ") || "",
      ]),
      "Moves still scheduled by its progression",
    );
  }
  function render(d) {
    const dl = d.downlink;
    $("d-id").textContent = dl.id;
    const method = d.method || {};
    fill(body, 
      facts([
        ["Status", badge(dl.status)],
        ["Owner (client)", d.owner],
        ["Network ID", el("code", {}, dl.networkId)],
        ["External reference", dl.externalReference],
        ["Created", when(dl.createdAt)],
        ["Modified", when(dl.modifiedAt)],
        ["Progression", d.progression ? `${d.progression} (retries ${d.retries} of ${d.retryLimit})` : "none (seeded)"],
      ]),
      el(
        "div",
        { class: "cols2" },
        el(
          "section",
          { "aria-labelledby": "h-req" },
          el("h2", { id: "h-req" }, "Request"),
          Object.keys(method).length
            ? table(["Method field", "Value"], Object.entries(method).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]), "Method")
            : el("p", { class: "muted" }, "No method (a seeded downlink)."),
          d.feedbackTimeoutMs ? el("p", {}, `Feedback timeout: ${d.feedbackTimeoutMs / 1000} s`) : null,
          d.instruction ? senml(d.instruction) : el("p", {}, "Message: ", el("code", {}, dl.message || "(empty)")),
        ),
        el(
          "section",
          { "aria-labelledby": "h-log" },
          el("h2", { id: "h-log" }, "Log"),
          el(
            "ol",
            { class: "timeline" },
            dl.logs.map((log) => el("li", {}, when(log.createdAt), log.event || "(no event)", log.errorCode ? el("span", {}, " · ", el("code", {}, log.errorCode)) : null)),
          ),
          el("h2", {}, "Scheduled"),
          upcoming(d.upcoming),
        ),
      ),
    );
    const cancel = d.cancel.plain ? "cancellable" : d.cancel.forced ? "in flight: only a forced cancel" : "not cancellable (409)";
    $("d-hint").textContent = `${dl.status}: ${cancel}. Moves S1 allows from here: ${d.moves.join(", ") || "none (terminal)"}.`;
  }
  const load = loader(async () => {
    const res = await call("GET", `${UI}/downlinks/${encodeURIComponent(route.arg)}`);
    if (!res.ok) {
      current = null;
      $("d-id").textContent = route.arg;
      fill(body, el("p", { class: "result error" }, res.data?.detail || "Could not load."));
      return;
    }
    current = res.data;
    render(current);
  });

  async function cancel(forced) {
    const result = $("d-result");
    if (!current) return;
    const minted = await call("GET", `${UI}/token?client=${encodeURIComponent(current.owner)}`);
    if (!minted.ok) return showResult(result, minted);
    const headers = minted.data.token ? { Authorization: `Bearer ${minted.data.token}` } : {};
    const url = `/downlinks/${encodeURIComponent(current.downlink.id)}${forced ? "?forced=true" : ""}`;
    const res = await call("DELETE", url, undefined, headers);
    showResult(result, res, `DELETE ${url} as ${current.owner}: cancelled.`);
    load();
  }
  $("d-cancel").addEventListener("click", () => cancel(false));
  $("d-cancel-forced").addEventListener("click", () => cancel(true));
  $("d-move").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) return;
    const form = event.target;
    const payload = { status: form.elements.status.value };
    if (form.elements.errorCode.value.trim()) payload.errorCode = form.elements.errorCode.value.trim();
    const res = await call("POST", `/__mock/downlinks/${encodeURIComponent(current.downlink.id)}/transition`, payload);
    showResult($("d-result"), res, `moved to ${payload.status}.`);
    load();
  });
  return {
    enter() {
      $("d-result").replaceChildren();
      $("d-id").textContent = route.arg;
      fill(body, el("p", { class: "muted" }, "Loading…"));
      load();
    },
    onState(state, changed) {
      if (changed("version")) load();
    },
  };
})();

// Clock: now and mode; advance or set (M5); what changed on the way.
views.clock = (() => {
  const dueBody = document.querySelector("#c-due tbody");
  function show(clock) {
    $("c-now").textContent = clock.now;
    $("c-now").setAttribute("datetime", clock.now);
    $("c-mode").textContent = clock.mode;
  }
  async function move(payload) {
    const before = await call("GET", "/__mock/clock");
    const res = await call("POST", "/__mock/clock", payload);
    showResult($("c-result"), res, res.ok ? `the clock reads ${res.data.now}.` : "");
    if (!res.ok || !before.ok) return;
    show(res.data);
    const from = before.data.now;
    const to = res.data.now;
    const params = new URLSearchParams({ modifiedSince: plusMs(from, 1), modifiedBefore: plusMs(to, 1), sort: "-modifiedAt", limit: "100" });
    const due = await call("GET", `${UI}/downlinks?${params}`);
    if (!due.ok) return;
    const items = due.data.items;
    $("c-due-summary").textContent = items.length
      ? `${items.length}${due.data.next ? "+" : ""} downlink(s) changed between ${from} and ${to}:`
      : `Nothing became due between ${from} and ${to}.`;
    fill(dueBody, 
      ...items.map((d) =>
        el("tr", {}, el("td", { class: "id" }, idLink(d.id)), el("td", {}, d.owner), el("td", {}, badge(d.status)), el("td", {}, when(d.modifiedAt)), el("td", { class: "wide" }, d.progression || "—")),
      ),
    );
  }
  $("c-advance").addEventListener("submit", (event) => {
    event.preventDefault();
    move({ advance: event.target.elements.advance.value.trim() });
  });
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => move({ advance: button.dataset.advance }));
  }
  $("c-set").addEventListener("submit", (event) => {
    event.preventDefault();
    move({ set: event.target.elements.set.value.trim() });
  });
  return {
    async enter() {
      const res = await call("GET", "/__mock/clock");
      if (res.ok) {
        show(res.data);
        const field = $("c-set").elements.set;
        if (!field.value) field.value = res.data.now;
      }
      if (lastState) $("c-live").textContent = String(lastState.live);
    },
    onState(state) {
      show(state);
      $("c-live").textContent = String(state.live);
    },
  };
})();

// Scenario: the active one and its rules (M6 GET); switch to one of the library.
views.scenario = (() => {
  const body = $("s-body");
  const select = $("s-switch").elements.name;
  let library = [];
  const delay = (after) => (after && typeof after === "object" ? `${after.min} to ${after.max}` : String(after ?? "—"));
  const conditions = (rule) =>
    Object.entries(rule)
      .filter(([k]) => k !== "progression")
      .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
      .join("; ") || "(always)";
  function steps(list) {
    return table(
      ["After", "Then"],
      (list || []).map((s) => [
        delay(s.after),
        s.to ? el("span", {}, badge(s.to), s.errorCode ? ` errorCode ${s.errorCode}` : "", s.chance !== undefined ? ` (chance ${s.chance})` : "")
          : JSON.stringify(Object.fromEntries(Object.entries(s).filter(([k]) => k !== "after"))),
      ]),
    );
  }
  const load = loader(async () => {
    const res = await call("GET", "/__mock/scenario");
    if (!res.ok) return showResult($("s-result"), res);
    const s = res.data;
    const doc = s.document || {};
    const progressions = doc.progressions || {};
    fill(body, 
      facts([
        ["Name", el("strong", {}, s.name)],
        ["Description", s.description || "—"],
        ["Source", el("code", {}, s.source)],
        ["Default progression", s.default],
        ["Seed", s.seed ?? "none (draws differ run to run)"],
        ["Downlinks with moves to come", String(s.liveTimelines)],
      ]),
      el("h2", {}, "Rules (first match wins)"),
      (doc.rules || []).length
        ? table(["#", "When", "Progression"], doc.rules.map((r, i) => [String(i + 1), conditions(r), el("code", {}, r.progression)]))
        : el("p", { class: "muted" }, `No rules: every new downlink gets ${s.default}.`),
      el("h2", {}, "Progressions"),
      Object.entries(progressions).map(([name, p]) =>
        el(
          "section",
          { class: "op" },
          el("h3", {}, name, name === s.default ? " (default)" : ""),
          p.description ? el("p", { class: "muted" }, p.description) : null,
          steps(p.steps),
          p.retrySteps ? [el("p", {}, "After each RETRY:"), steps(p.retrySteps)] : null,
          p.feedbackTimeout ? el("p", {}, `Feedback timeout: ${p.feedbackTimeout}`) : null,
        ),
      ),
    );
    if (!select.value || select.dataset.active !== s.name) {
      select.dataset.active = s.name;
      if (library.some((l) => l.name === s.name)) select.value = s.name;
    }
  });
  function describeChoice() {
    const chosen = library.find((l) => l.name === select.value);
    $("s-choice").textContent = chosen ? chosen.description : "";
  }
  select.addEventListener("change", describeChoice);
  $("s-switch").addEventListener("submit", async (event) => {
    event.preventDefault();
    const res = await call("PUT", "/__mock/scenario", { name: select.value });
    showResult($("s-result"), res, `new downlinks now get scenario ${select.value}; running timelines go on as they were.`);
    load();
  });
  return {
    async enter() {
      $("s-result").replaceChildren();
      if (!library.length) {
        const res = await call("GET", `${UI}/scenarios`);
        if (res.ok) {
          library = res.data;
          select.replaceChildren(...library.map((l) => el("option", { value: l.name }, l.name)));
        }
      }
      await load();
      describeChoice();
    },
    onState(state, changed) {
      if (changed("scenario") || changed("live")) load();
    },
  };
})();

// Journal (M7): the latest public requests; one opened shows headers and bodies.
const journal = { items: new Map() };
const SECRET = /secret|password|passwd|token|api[-_]?key|authorization|cookie/i;
function redact(value) {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET.test(k) && typeof v === "string" && !/<redacted>/.test(v) ? "<redacted>" : redact(v)]));
  }
  return value;
}

views.journal = (() => {
  const form = $("j-filter");
  const tbody = document.querySelector("#j-table tbody");
  const load = loader(async () => {
    const params = new URLSearchParams();
    for (const name of ["method", "path", "status", "limit"]) {
      const value = form.elements[name].value.trim();
      if (value) params.set(name, value);
    }
    const client = form.elements.client.value.trim();
    const res = await call("GET", `/__mock/requests?${params}`);
    const error = $("j-error");
    if (!res.ok) {
      showResult(error, res);
      return;
    }
    error.replaceChildren();
    const items = res.data.items.filter((e) => !client || (e.request.client || "") === client).reverse();
    for (const entry of items) journal.items.set(entry.seq, entry);
    fill(tbody, 
      ...items.map((e) =>
        el(
          "tr",
          {},
          el("td", {}, el("a", { href: `#/journal/${e.seq}`, "aria-label": `request ${e.seq}` }, String(e.seq))),
          el("td", { class: "wide" }, when(e.time)),
          el("td", {}, e.method),
          el("td", {}, el("code", {}, e.path + (e.query ? `?${e.query}` : ""))),
          el("td", {}, httpStatus(e.status)),
          el("td", {}, e.request.client || "—"),
          el("td", { class: "nowrap" }, e.durationMs.toFixed(1)),
          el("td", { class: "wide" }, e.fault || ""),
        ),
      ),
    );
    if (!items.length) tbody.append(el("tr", {}, el("td", { colspan: 8, class: "empty" }, "No request matches.")));
    $("j-summary").textContent = `${items.length} shown · the journal keeps ${res.data.capacity}, ${res.data.evicted} pushed out since it was cleared`;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  form.elements.method.addEventListener("change", () => load());
  $("j-clear").addEventListener("click", async () => {
    const res = await call("DELETE", "/__mock/requests");
    showResult($("j-error"), res, "the journal is empty.");
    load();
  });
  return {
    enter() {
      load();
    },
    onState(state, changed) {
      if (changed("journal")) load();
    },
  };
})();

views.request = (() => {
  const body = $("r-body");
  function message(title, part) {
    const headers = redact(part.headers || {});
    return el(
      "section",
      {},
      el("h2", {}, title),
      Object.keys(headers).length ? table(["Header", "Value"], Object.entries(headers).map(([k, v]) => [k, el("code", {}, v)])) : el("p", { class: "muted" }, "No headers kept."),
      part.body === null || part.body === undefined
        ? el("p", { class: "muted" }, "No body.")
        : el("pre", { tabindex: "0", "aria-label": `${title} body` }, pretty(redact(part.body))),
      part.bodyTruncated ? el("p", { class: "muted" }, `Cut at 8 KiB of ${part.bodySize} bytes.`) : null,
    );
  }
  return {
    async enter() {
      const seq = Number(route.arg);
      $("h-request").textContent = `Request ${seq}`;
      let entry = journal.items.get(seq);
      if (!entry) {
        const res = await call("GET", "/__mock/requests");
        if (res.ok) for (const e of res.data.items) journal.items.set(e.seq, e);
        entry = journal.items.get(seq);
      }
      if (!entry) {
        fill(body, el("p", { class: "result error" }, `Request ${seq} is no longer in the journal (cleared, or pushed out).`));
        return;
      }
      fill(body, 
        facts([
          ["Request", el("code", {}, `${entry.method} ${entry.path}${entry.query ? "?" + entry.query : ""}`)],
          ["Status", httpStatus(entry.status)],
          ["Client", entry.request.client || "—"],
          ["At (mock clock)", when(entry.time)],
          ["Duration", `${entry.durationMs} ms`],
          entry.downlinkId ? ["Created", idLink(entry.downlinkId)] : null,
          entry.progression ? ["Progression", entry.progression] : null,
          entry.fault ? ["Fault applied", entry.fault] : null,
        ]),
        el("div", { class: "cols2" }, message("Request", entry.request), message("Response", entry.response)),
      );
    },
  };
})();

// Faults (M8): armed faults, arm one, clear.
views.faults = (() => {
  const tbody = document.querySelector("#f-table tbody");
  const form = $("f-form");
  const load = loader(async () => {
    const res = await call("GET", "/__mock/faults");
    if (!res.ok) return showResult($("f-result"), res);
    fill(tbody, 
      ...res.data.map((f) => {
        const does = [
          f.status ? `answer ${f.status}` : null,
          f.latencyMs !== null ? `wait ${typeof f.latencyMs === "object" ? `${f.latencyMs.min}-${f.latencyMs.max}` : f.latencyMs} ms` : null,
          f.drop ? "drop the connection" : null,
        ].filter(Boolean);
        const limits = [f.times ? `${f.remaining} of ${f.times} left` : "no limit", f.probability !== null ? `chance ${f.probability}` : null].filter(Boolean);
        return el(
          "tr",
          { "data-fault": f.id },
          el("td", {}, f.id),
          el("td", {}, el("code", {}, `${f.method || "any"} ${f.path}`), Object.keys(f.query || {}).length ? ` ?${new URLSearchParams(f.query)}` : ""),
          el("td", {}, does.join(", ")),
          el("td", { class: "wide" }, limits.join(", ")),
          el("td", { class: "applied" }, String(f.applied)),
          el("td", {}, el("button", { type: "button", "aria-label": `Remove fault ${f.id}`, onclick: () => remove(f.id) }, "Remove")),
        );
      }),
    );
    if (!res.data.length) tbody.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No fault is armed.")));
  });
  async function remove(id) {
    const res = await call("DELETE", `/__mock/faults/${encodeURIComponent(id)}`);
    showResult($("f-result"), res, `fault ${id} removed.`);
    load();
  }
  $("f-clear").addEventListener("click", async () => {
    const res = await call("DELETE", "/__mock/faults");
    showResult($("f-result"), res, "every fault is cleared.");
    load();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const payload = {};
    if (f.method.value) payload.method = f.method.value;
    if (f.path.value.trim()) payload.path = f.path.value.trim();
    for (const name of ["status", "latencyMs", "times"]) if (f[name].value !== "") payload[name] = Number(f[name].value);
    if (f.probability.value !== "") payload.probability = Number(f.probability.value);
    if (f.drop.checked) payload.drop = true;
    const res = await call("POST", "/__mock/faults", payload);
    showResult($("f-result"), res, res.ok ? `fault ${res.data.id} armed.` : "");
    load();
  });
  return {
    enter() {
      load();
    },
    onState(state, changed) {
      if (changed("faults")) load();
    },
  };
})();

// API: a readable page of the public spec (/openapi.json).
views.api = (() => {
  const body = $("a-body");
  let spec = null;
  const refName = (ref) => ref.split("/").pop();
  function schemaText(schema) {
    if (!schema) return "";
    if (schema.$ref) return el("a", { href: `#/api/${refName(schema.$ref)}` }, refName(schema.$ref));
    if (schema.type === "array") return el("span", {}, "array of ", schemaText(schema.items));
    const alts = schema.oneOf || schema.anyOf || schema.allOf;
    if (alts) return el("span", {}, alts.map((s, i) => [i ? " | " : "", schemaText(s)]));
    const bits = [schema.type || "any"];
    if (schema.format) bits.push(`(${schema.format})`);
    if (schema.enum) bits.push(`one of ${schema.enum.join(", ")}`);
    if (schema.minimum !== undefined) bits.push(`≥ ${schema.minimum}`);
    if (schema.maximum !== undefined) bits.push(`≤ ${schema.maximum}`);
    if (schema.pattern) bits.push(`pattern ${schema.pattern}`);
    return bits.join(" ");
  }
  const resolve = (p) => (p.$ref ? spec.components.parameters[refName(p.$ref)] : p);
  function operation(path, verb, op) {
    const params = (op.parameters || []).map(resolve);
    const requestBody = op.requestBody?.content;
    return el(
      "section",
      { class: "op", id: `op-${op.operationId}` },
      el("h3", {}, el("span", { class: `verb ${verb}` }, verb.toUpperCase()), el("code", {}, path)),
      el("p", {}, op.summary || "", op.operationId ? el("span", { class: "muted" }, ` (${op.operationId})`) : null),
      params.length
        ? table(["Parameter", "In", "Required", "Schema", "Description"], params.map((p) => [el("code", {}, p.name), p.in, p.required ? "yes" : "no", schemaText(p.schema), p.description || ""]))
        : null,
      requestBody ? el("p", {}, "Body: ", Object.entries(requestBody).map(([type, c]) => [el("code", {}, type), " ", schemaText(c.schema)])) : null,
      table(
        ["Status", "Description", "Body"],
        Object.entries(op.responses || {}).map(([code, r]) => [
          code,
          r.description || "",
          r.content ? Object.entries(r.content).map(([type, c]) => [el("code", {}, type), " ", schemaText(c.schema)]) : "",
        ]),
      ),
    );
  }
  function schemaSection(name, schema) {
    const required = new Set(schema.required || []);
    return el(
      "section",
      { class: "op", id: `schema-${name}`, tabindex: "-1" },
      el("h3", {}, name),
      schema.description ? el("p", {}, schema.description) : null,
      schema.properties
        ? table(["Field", "Schema", "Required", "Description"], Object.entries(schema.properties).map(([k, s]) => [el("code", {}, k), schemaText(s), required.has(k) ? "yes" : "", [s.description || "", s.readOnly ? " (read-only)" : ""]]))
        : el("p", {}, schemaText(schema)),
    );
  }
  function render() {
    const info = spec.info || {};
    fill(body, 
      el("h2", {}, `${info.title || "API"} ${info.version || ""}`),
      info.description ? el("p", {}, info.description) : null,
      el("p", { class: "muted" }, `OpenAPI ${spec.openapi}. Every operation needs Authorization: Bearer <token> (the mock prints one at start).`),
      el("h2", {}, "Operations"),
      Object.entries(spec.paths).map(([path, ops]) => Object.entries(ops).filter(([v]) => ["get", "post", "put", "patch", "delete"].includes(v)).map(([v, op]) => operation(path, v, op))),
      el("h2", {}, "Schemas"),
      Object.entries(spec.components?.schemas || {}).map(([name, s]) => schemaSection(name, s)),
    );
  }
  return {
    async enter(arg) {
      if (!spec) {
        const res = await call("GET", "/__mock/ui/openapi.json");
        if (!res.ok) return showResult(body, res);
        spec = res.data;
        render();
      }
      if (arg) {
        const target = $(`schema-${arg}`);
        if (target) {
          target.scrollIntoView();
          target.focus();
        }
      }
    },
  };
})();

// -- routing and the live poll ------------------------------------------------------------

const TAB_OF = { downlink: "downlinks", request: "journal" };
let first = true;

function go() {
  if (!location.hash.startsWith("#/") && location.hash !== "") return; // an in-page anchor
  const [path, query] = location.hash.slice(2).split("?");
  const [head, rest] = [path.split("/")[0], path.split("/").slice(1).join("/")];
  let name = head || "downlinks";
  const arg = rest ? decodeURIComponent(rest) : null;
  if (name === "downlinks" && arg) name = "downlink";
  if (name === "journal" && arg) name = "request";
  if (!views[name]) name = "downlinks";
  route = { name, arg, params: new URLSearchParams(query || "") };
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== `view-${name}`;
  const tab = TAB_OF[name] || name;
  for (const link of document.querySelectorAll("[data-tab]")) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const heading = $(`view-${name}`).querySelector("h1");
  document.title = `${heading.textContent.trim().split(/\s+/)[0]} · Downlinks mock`;
  views[name].enter(arg, route.params);
  if (!first && !(name === "api" && arg)) heading.focus(); // a screen reader hears where it went
  first = false;
}

async function poll() {
  if (!document.hidden) {
    const res = await call("GET", `${UI}/state`);
    const dot = $("bar-live");
    if (res.ok) {
      const state = res.data;
      dot.className = "dot on";
      dot.title = "live";
      $("bar-now").textContent = state.now;
      $("bar-now").setAttribute("datetime", state.now);
      $("bar-mode").textContent = `${state.mode} clock`;
      $("bar-stored").textContent = state.stored.toLocaleString("en");
      const before = lastState;
      const changed = (key) => !before || JSON.stringify(before[key]) !== JSON.stringify(state[key]);
      lastState = state;
      const view = views[route.name];
      if (before && view.onState) view.onState(state, changed);
      else if (!before && route.name === "clock") view.onState(state, changed);
    } else {
      dot.className = "dot off";
      dot.title = "the mock does not answer";
    }
  }
  setTimeout(poll, POLL_MS);
}

$("skip").addEventListener("click", (event) => {
  event.preventDefault();
  $("main").focus();
});
window.addEventListener("hashchange", go);
go();
poll();
