// Transactions: filter by station, idTag and date; one transaction's meter
// values as a chart and a table; CSV export.
import { h, fill, when, energy, power, badge, section, csvLine, download, localInput, fromLocalInput } from "../dom.js";
import { get, query } from "../api.js";
import { lineChart } from "../chart.js";

function hashParams() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1));
}

export async function detail(main, id) {
  fill(main, h("p", {}, h("a", { href: "#/transactions" }, "← All transactions")), h("h1", {}, `Transaction ${id}`), h("p", { class: "muted" }, "Loading…"));
  let t;
  try { t = await get(`/Transaction/${id}`); } catch (e) { main.lastChild.replaceWith(h("p", { class: "error" }, e.message)); return; }
  const mvs = t.meterValues || [];
  const k = (m) => (m.unit === "kWh" || m.unit === "kW" ? 1000 : 1);
  const pick = (name) => mvs.filter((m) => (m.measurand || "Energy.Active.Import.Register") === name && !m.phase)
    .map((m) => [Date.parse(m.timestamp), Number(m.value) * k(m)]);
  const exportCsv = () => {
    let text = csvLine(["timestamp", "measurand", "value", "unit", "phase", "context", "source"]);
    for (const m of mvs) text += csvLine([m.timestamp, m.measurand || "Energy.Active.Import.Register", m.value, m.unit, m.phase, m.context, m.source]);
    download(`transaction-${id}-meter-values.csv`, text);
  };
  fill(main, h("p", {}, h("a", { href: "#/transactions" }, "← All transactions")),
    h("h1", {}, `Transaction ${id} `, t.dateStop ? badge("Finished", "available") : badge("Running", "charging")),
    h("dl", { class: "facts card" },
      ...[["Station", h("a", { href: `#/station/${encodeURIComponent(t.identity)}` }, t.identity)], ["Connector", t.connectorId],
        ["idTag", t.idTag], ["Started", when(t.dateStart)], ["Stopped", when(t.dateStop)], ["Reason", t.reason],
        ["Meter start", `${t.meterStart} Wh`], ["Meter stop", t.meterStop === null ? "—" : `${t.meterStop} Wh`], ["Energy", energy(t.value)]]
        .flatMap(([a, b]) => [h("dt", {}, a), h("dd", {}, b ?? "—")])),
    section("Meter values",
      lineChart([
        { name: "Energy", points: pick("Energy.Active.Import.Register").map(([x, v]) => [x, v - t.meterStart]), format: energy, cls: "c1" },
        { name: "Power", points: pick("Power.Active.Import"), format: power, axis: "right", cls: "c2" },
      ], { label: `Transaction ${id}: energy and power` }),
      h("div", { class: "toolbar" }, h("button", { type: "button", onclick: exportCsv }, "Export CSV")),
      h("div", { class: "table-wrap tall" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Time", "Measurand", "Value", "Unit", "Phase", "Context"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, mvs.map((m) => h("tr", {}, h("td", {}, when(m.timestamp)), h("td", {}, m.measurand || "Energy.Active.Import.Register"),
          h("td", { class: "num" }, m.value), h("td", {}, m.unit || "Wh"), h("td", {}, m.phase || ""), h("td", {}, m.context || ""))))))));
}

export function render(main, id) {
  if (id) { detail(main, id); return; }
  const p = hashParams();
  const f = { identity: p.get("identity") || "", idTag: "", from: "", to: "" };
  const out = h("div");
  const inp = (key, label, type = "search") => h("label", { class: "inline" }, label,
    h("input", { type, value: f[key], onchange: (e) => { f[key] = e.target.value.trim(); load(); } }));
  let rows = [];
  async function load() {
    fill(out, h("p", { class: "muted" }, "Loading…"));
    try {
      const page = await get(`/CentralSystem/TransactionList${query({ identity: f.identity, idTag: f.idTag,
        dateFrom: fromLocalInput(f.from), dateTo: fromLocalInput(f.to), limit: 1000 })}`);
      rows = page.TransactionList;
      fill(out, rows.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Id", "Station", "Connector", "idTag", "Start", "Stop", "Energy", "Reason"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows.map((t) => h("tr", {},
          h("td", {}, h("a", { href: `#/transactions/${t.id}` }, t.id)),
          h("td", {}, h("a", { href: `#/station/${encodeURIComponent(t.identity)}` }, t.identity)),
          h("td", {}, t.connectorId), h("td", {}, t.idTag), h("td", {}, when(t.dateStart)),
          h("td", {}, t.dateStop ? when(t.dateStop) : badge("Running", "charging")), h("td", { class: "num" }, energy(t.value)), h("td", {}, t.reason || "")))))) :
        h("p", { class: "empty" }, "No transactions match."),
        h("p", { class: "muted" }, `${rows.length} shown of ${page.total}`));
    } catch (e) { fill(out, h("p", { class: "error" }, e.message)); }
  }
  const exportCsv = () => {
    let text = csvLine(["id", "identity", "connectorId", "idTag", "dateStart", "dateStop", "meterStart", "meterStop", "energyWh", "reason"]);
    for (const t of rows) text += csvLine([t.id, t.identity, t.connectorId, t.idTag, t.dateStart, t.dateStop, t.meterStart, t.meterStop, t.value, t.reason]);
    download("transactions.csv", text);
  };
  fill(main, h("h1", {}, "Transactions"), h("section", { class: "card" },
    h("div", { class: "toolbar" }, inp("identity", "Station "), inp("idTag", "idTag "),
      inp("from", "From ", "datetime-local"), inp("to", "To ", "datetime-local"),
      h("button", { type: "button", onclick: exportCsv }, "Export CSV")), out));
  load();
}

export { localInput };
