// The application: hash router, header (live state, clock, theme), login gate.
import { h, fill } from "./dom.js";
import { get, del, onUnauthorized } from "./api.js";
import { state, subscribe, start, stop, loadSummary } from "./state.js";
import * as dashboard from "./pages/dashboard.js";
import * as station from "./pages/station.js";
import * as transactions from "./pages/transactions.js";
import * as idtags from "./pages/idtags.js";
import * as inbox from "./pages/inbox.js";
import * as log from "./pages/log.js";
import * as login from "./pages/login.js";

const routes = [
  [/^#?\/?$/, dashboard],
  [/^#\/station\/(.+)$/, station],
  [/^#\/transactions(?:\/(\d+))?(?:\?.*)?$/, transactions],
  [/^#\/idtags$/, idtags],
  [/^#\/inbox$/, inbox],
  [/^#\/log$/, log],
];

const main = document.getElementById("main");
let cleanup = null;
let session = { auth: "none", user: null };

function route() {
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const hash = location.hash || "#/";
  let page = dashboard, params = [];
  for (const [re, mod] of routes) {
    const m = hash.match(re);
    if (m) { page = mod; params = m.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p))); break; }
  }
  for (const a of document.querySelectorAll("#nav a")) {
    const href = a.getAttribute("href");
    const current = href === "#/" ? page === dashboard || page === station : hash.startsWith(href);
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  fill(main);
  cleanup = page.render(main, ...params) || null;
  document.getElementById("nav").classList.remove("open");
}

function header() {
  const live = document.getElementById("live");
  subscribe((kind) => {
    if (kind !== "live") return;
    live.textContent = state.live ? "LIVE" : "OFFLINE";
    live.className = `pill ${state.live ? "on" : "off"}`;
  });
  const clock = document.getElementById("clock");
  const tick = () => {
    const now = new Date(Date.now() + state.clockSkew);
    clock.textContent = now.toISOString().slice(0, 19).replace("T", " ") + " UTC";
  };
  tick();
  setInterval(tick, 1000);
  const theme = document.getElementById("theme");
  const saved = localStorage.getItem("ocppcs-theme");
  if (saved) document.documentElement.dataset.theme = saved;
  theme.addEventListener("click", () => {
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const current = document.documentElement.dataset.theme || (dark ? "dark" : "light");
    const next = current === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("ocppcs-theme", next);
  });
  const menu = document.querySelector("button.menu");
  menu.addEventListener("click", () => {
    const nav = document.getElementById("nav");
    nav.classList.toggle("open");
    menu.setAttribute("aria-expanded", nav.classList.contains("open"));
  });
  document.getElementById("logout").addEventListener("click", async () => {
    try { await del("/Session"); } catch (e) { /* already out */ }
    stop();
    showLogin();
  });
}

function showLogin() {
  stop();
  if (cleanup) { cleanup(); cleanup = null; }
  document.getElementById("logout").hidden = true;
  fill(main);
  login.render(main, session, boot);
}

async function boot() {
  try {
    session = await get("/Session");
  } catch (e) {
    fill(main, h("p", { class: "error" }, `The central system does not answer: ${e.message}`));
    setTimeout(boot, 5000);
    return;
  }
  if (!session.authenticated) { showLogin(); return; }
  document.getElementById("logout").hidden = !session.cookie;
  try { await loadSummary(); } catch (e) {
    if (e.status === 401) { showLogin(); return; }
  }
  start();
  route();
}

onUnauthorized(() => { if (!document.getElementById("login-form")) showLogin(); });
window.addEventListener("hashchange", () => { if (!document.getElementById("login-form")) route(); });
header();
boot();
