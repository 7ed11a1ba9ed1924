// The web view, part 4 of 6: the journal (M7), one request, and faults (M8).
"use strict";

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
