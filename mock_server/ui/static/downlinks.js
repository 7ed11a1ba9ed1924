// The web view, part 2 of 6: the downlinks table and one downlink (its request, log,
// scheduled moves, cancel and M4 buttons).
"use strict";

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
