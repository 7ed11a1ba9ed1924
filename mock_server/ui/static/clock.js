// The web view, part 3 of 6: the clock (M5) and the scenario (M6).
"use strict";

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
