// The web view, part 6 of 6: routing by the URL's hash and the live poll. It reads through
// /__mock/ui/api/*, changes state through the control plane (/__mock/*) and cancels
// through the public API, as any client would.
"use strict";

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
