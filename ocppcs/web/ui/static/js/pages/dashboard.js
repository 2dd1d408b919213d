// Dashboard: counts, energy chart, and the station grid/table with search and sort.
import { h, fill, badge, ago, clock, energy, section } from "../dom.js";
import { barChart } from "../chart.js";
import { state, subscribe } from "../state.js";

const SORTS = {
  identity: (s) => s.identity,
  status: (s) => (s.online ? "0" : "1") + s.identity,
  vendor: (s) => (s.bootNotification?.chargePointVendor || "") + s.identity,
  lastSeen: (s) => s.lastSeen || "",
};

export function counts() {
  const stations = [...state.stations.values()];
  const online = stations.filter((s) => s.online).length;
  const connectors = {};
  let charging = 0;
  for (const s of stations) {
    for (const c of s.connectors || []) {
      if (c.connectorId > 0 && c.status) connectors[c.status] = (connectors[c.status] || 0) + 1;
    }
    charging += (s.openTransactions || []).length;
  }
  return { total: stations.length, online, offline: stations.length - online, connectors, charging };
}

function stat(label, value, cls = "", id) {
  return h("div", { class: `stat ${cls}`, "data-stat": id },
    h("div", { class: "value" }, value), h("div", { class: "label" }, label));
}

function connectorChips(station) {
  const list = (station.connectors || []).filter((c) => c.connectorId > 0);
  if (!list.length) return h("span", { class: "muted" }, "no connectors reported");
  return h("span", { class: "chips" }, list.map((c) =>
    h("span", { class: `chip s-${(c.status || "unknown").toLowerCase()}`, title: `Connector ${c.connectorId}: ${c.status}${c.errorCode && c.errorCode !== "NoError" ? ` (${c.errorCode})` : ""}` },
      `#${c.connectorId} ${c.status}`)));
}

function card(s) {
  const boot = s.bootNotification || {};
  return h("article", { class: "station-card", dataset: { identity: s.identity } },
    h("header", {},
      h("span", { class: `dot ${s.online ? "on" : "off"}`, "aria-hidden": "true" }),
      h("a", { href: `#/station/${encodeURIComponent(s.identity)}`, class: "identity" }, s.identity),
      h("span", { class: "version" }, `OCPP ${s.ocppVersion || "1.6"} ${s.protocol || "JSON"}`),
      badge(s.online ? "Online" : "Offline")),
    h("dl", { class: "facts" },
      h("dt", {}, "Vendor"), h("dd", {}, boot.chargePointVendor || "—"),
      h("dt", {}, "Model"), h("dd", {}, boot.chargePointModel || "—"),
      h("dt", {}, "Firmware"), h("dd", {}, boot.firmwareVersion || "—"),
      h("dt", {}, "Serial"), h("dd", {}, boot.chargePointSerialNumber || "—")),
    connectorChips(s),
    h("footer", { class: "muted" }, `${s.address || "—"} · last seen ${clock(s.lastSeen)} (${ago(s.lastSeen)})`));
}

function row(s) {
  const boot = s.bootNotification || {};
  return h("tr", { dataset: { identity: s.identity } },
    h("td", {}, h("a", { href: `#/station/${encodeURIComponent(s.identity)}` }, s.identity)),
    h("td", {}, badge(s.online ? "Online" : "Offline")),
    h("td", {}, [boot.chargePointVendor, boot.chargePointModel].filter(Boolean).join(" / ") || "—"),
    h("td", {}, boot.firmwareVersion || "—"),
    h("td", {}, `${s.ocppVersion || "1.6"} ${s.protocol || "JSON"}`),
    h("td", {}, connectorChips(s)),
    h("td", {}, ago(s.lastSeen)));
}

export function render(main) {
  let query = "", sort = localStorage.getItem("ocppcs-sort") || "identity";
  let view = localStorage.getItem("ocppcs-view") || "grid";
  const stats = h("div", { class: "stats", "aria-live": "polite" });
  const chart = h("div", { class: "chart-box" });
  const list = h("div", { id: "stations" });
  const search = h("input", { type: "search", placeholder: "identity, vendor, model, status…", oninput: (e) => { query = e.target.value.toLowerCase(); draw(); } });
  const sortSel = h("select", { onchange: (e) => { sort = e.target.value; localStorage.setItem("ocppcs-sort", sort); draw(); } },
    Object.keys(SORTS).map((k) => h("option", { value: k, selected: k === sort }, k)));
  const viewBtn = h("button", { type: "button", onclick: () => { view = view === "grid" ? "table" : "grid"; localStorage.setItem("ocppcs-view", view); draw(); } });

  function drawStats() {
    const c = counts();
    const summary = state.summary || {};
    fill(stats,
      stat("Stations online", `${c.online} / ${c.total}`, "ok", "online"),
      stat("Offline", c.offline, c.offline ? "warn" : "", "offline"),
      stat("Charging now", c.charging, "accent", "charging"),
      stat("Energy today", energy(summary.energyToday), "", "energy"),
      h("div", { class: "stat wide", "data-stat": "connectors" },
        h("div", { class: "label" }, "Connectors by status"),
        h("div", { class: "chips" }, Object.keys(c.connectors).length
          ? Object.entries(c.connectors).sort().map(([k, v]) => h("span", { class: `chip s-${k.toLowerCase()}` }, `${k}: ${v}`))
          : h("span", { class: "muted" }, "none reported"))));
    const bars = (summary.energyByHour || []).map((b) => ({
      label: new Date(b.hour).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false }), value: b.energy }));
    fill(chart, h("h3", {}, "Energy delivered per hour"), barChart(bars, { label: "Energy delivered per hour", format: energy, floor: 1000 }));
  }

  function draw() {
    // Redrawing replaces the cards: keep the keyboard focus on the same link.
    const active = document.activeElement;
    const focused = active && list.contains(active) ? active.getAttribute("href") : null;
    drawList();
    if (focused) {
      const again = list.querySelector(`a[href="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function drawList() {
    drawStats();
    viewBtn.textContent = view === "grid" ? "Table view" : "Grid view";
    const key = SORTS[sort] || SORTS.identity;
    const all = [...state.stations.values()];
    const shown = all.filter((s) => {
      if (!query) return true;
      const b = s.bootNotification || {};
      const text = [s.identity, b.chargePointVendor, b.chargePointModel, b.chargePointSerialNumber, b.firmwareVersion,
        s.online ? "online" : "offline", ...(s.connectors || []).map((c) => c.status)].join(" ").toLowerCase();
      return text.includes(query);
    }).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    if (!all.length) {
      fill(list, h("p", { class: "empty" }, "No stations yet: they appear here when they connect to ws://", location.host, "/ocpp/{identity}"));
    } else if (!shown.length) {
      fill(list, h("p", { class: "empty" }, `No stations match “${query}”`));
    } else if (view === "grid") {
      fill(list, h("div", { class: "grid" }, shown.map(card)));
    } else {
      fill(list, h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Identity", "State", "Vendor / model", "Firmware", "OCPP", "Connectors", "Last seen"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, shown.map(row)))));
    }
  }

  fill(main,
    h("h1", {}, "Dashboard"),
    stats,
    chart,
    section("Charge points",
      h("div", { class: "toolbar" },
        h("label", { class: "inline" }, "Search ", search),
        h("label", { class: "inline" }, "Sort by ", sortSel),
        viewBtn),
      list));
  draw();
  let timer = null;
  const run = () => { timer = null; draw(); };
  const unsubscribe = subscribe((kind) => {
    if (kind === "station-seen") {
      if (!timer) timer = setTimeout(run, 1000); // at most one redraw a second for meter values
    } else if (["summary", "station", "summary-counts"].includes(kind)) {
      clearTimeout(timer);
      timer = setTimeout(run, 100);
    }
  });
  const ticker = setInterval(() => { if (document.visibilityState === "visible") draw(); }, 15000);
  return () => { unsubscribe(); clearInterval(ticker); clearTimeout(timer); };
}
