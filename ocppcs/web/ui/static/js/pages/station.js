// One station: boot data, connectors (live), running transactions with a live
// chart, configuration, transactions, security events, the command panel and
// the station's log.
import { h, fill, badge, when, ago, energy, power, section, toast } from "../dom.js";
import { get, post, enc, query } from "../api.js";
import { lineChart } from "../chart.js";
import { state, subscribe, refreshStation, emulated } from "../state.js";
import { commandPanel, command } from "./commands.js";
import { logView } from "./log.js";

const FAULTS = ["ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
  "InternalError", "LocalListConflict", "OtherError", "OverCurrentFailure", "OverVoltage", "PowerMeterFailure",
  "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage", "WeakSignal"];
const BOOT = [["chargePointVendor", "Vendor"], ["chargePointModel", "Model"], ["chargePointSerialNumber", "Serial"],
  ["chargeBoxSerialNumber", "Charge box serial"], ["firmwareVersion", "Firmware"], ["meterType", "Meter"],
  ["meterSerialNumber", "Meter serial"], ["iccid", "ICCID"], ["imsi", "IMSI"]];

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

async function emulatorAction(identity, action, body) {
  try {
    await post(`/Emulator/Station/${enc(identity)}/${action}`, body);
    toast(`${action} done on connector ${body.connectorId}`);
  } catch (e) {
    toast(`${action}: ${e.message}`, "bad");
  }
}

function localActions(identity, connectorId) {
  const tag = h("input", { type: "text", value: "OPERATOR", "aria-label": `idTag for connector ${connectorId}`, size: 10 });
  const fault = h("select", { "aria-label": `fault for connector ${connectorId}` }, FAULTS.map((f) => h("option", { value: f }, f)));
  const act = (action, extra = {}) => () => emulatorAction(identity, action, { connectorId, ...extra });
  return h("div", { class: "local-actions", role: "group", "aria-label": `Emulator actions, connector ${connectorId}` },
    h("button", { type: "button", dataset: { action: "PlugIn" }, onclick: act("PlugIn") }, "Plug in"),
    tag,
    h("button", { type: "button", dataset: { action: "PresentIdTag" }, onclick: () => act("PresentIdTag", { idTag: tag.value.trim() })() }, "Present idTag"),
    h("button", { type: "button", dataset: { action: "Unplug" }, onclick: act("Unplug") }, "Unplug"),
    fault,
    h("button", { type: "button", dataset: { action: "Fault" }, onclick: () => act("Fault", { errorCode: fault.value })() }, "Fault"),
    h("button", { type: "button", dataset: { action: "ClearFault" }, onclick: act("ClearFault") }, "Clear fault"));
}

export function render(main, identity) {
  const head = h("div", { class: "station-head" });
  const info = h("div");
  const connectors = h("div", { class: "connectors" });
  const running = h("div", { class: "running" });
  const config = h("div");
  const history = h("div");
  const security = h("div", { "data-testid": "security-events" });
  const series = new Map(); // transactionId -> {energy: [[t, Wh]], power: [[t, W]], meterStart}
  let isEmulated = false;

  fill(main,
    h("p", {}, h("a", { href: "#/" }, "← All stations")),
    head,
    h("div", { class: "two" }, section("Boot data", info), section("Connectors", connectors)),
    section("Charging now", running),
    section("Commands", commandPanel(identity)),
    h("div", { class: "two" }, section("Configuration", config), section("Transactions", history)),
    section("Security events", security),
    section("Station log", logView({ identity, compact: true })));

  function draw() {
    const s = state.stations.get(identity);
    if (!s) { fill(head, h("h1", {}, identity), h("p", { class: "error" }, "Station not found")); return; }
    fill(head, h("h1", {}, h("span", { class: `dot ${s.online ? "on" : "off"}`, "aria-hidden": "true" }), identity, " ",
      badge(s.online ? "Online" : "Offline")),
      h("p", { class: "muted" }, `OCPP ${s.ocppVersion || "1.6"} ${s.protocol || "JSON"} · ${s.address || "no address"} · last seen ${when(s.lastSeen)} (${ago(s.lastSeen)})`));
    const boot = s.bootNotification || {};
    fill(info, facts([...BOOT.filter(([k]) => boot[k]).map(([k, label]) => [label, boot[k]]),
      ["Boot status", s.bootStatus], ["Last boot", when(s.lastBoot)], ["Registered", s.registered ? "yes" : "no"],
      ["Firmware status", s.firmwareStatus?.status], ["Diagnostics status", s.diagnosticsStatus?.status],
      ["Signed firmware status", s.signedFirmwareStatus?.status], ["Log status", s.logStatus?.status]]));
    const list = (s.connectors || []).filter((c) => c.connectorId > 0);
    fill(connectors, list.length ? list.map((c) => h("div", { class: "connector", dataset: { connector: c.connectorId } },
      h("div", { class: "connector-title" }, h("strong", {}, `Connector ${c.connectorId}`), " ",
        h("span", { "data-testid": `status-${c.connectorId}` }, badge(c.status)),
        c.errorCode && c.errorCode !== "NoError" ? h("span", { class: "error" }, ` ${c.errorCode}`) : null,
        h("small", { class: "muted" }, ` since ${when(c.timestamp || c.updated)}`)),
      isEmulated ? localActions(identity, c.connectorId) : null)) : h("p", { class: "muted" }, "No connector has reported a status yet."));
    drawRunning(s);
  }

  function drawRunning(s) {
    const open = s.openTransactions || [];
    if (!open.length) { fill(running, h("p", { class: "muted", "data-testid": "no-transaction" }, "No transaction running.")); return; }
    fill(running, open.map((t) => {
      const data = series.get(t.id) || { energy: [], power: [] };
      const delivered = data.energy.length ? data.energy.at(-1)[1] - t.meterStart : 0;
      const lastPower = data.power.length ? data.power.at(-1)[1] : null;
      return h("div", { class: "tx", dataset: { transaction: t.id } },
        h("div", { class: "stats" },
          h("div", { class: "stat accent" }, h("div", { class: "value", "data-testid": "tx-energy", "data-wh": delivered }, energy(delivered)), h("div", { class: "label" }, "Delivered")),
          h("div", { class: "stat" }, h("div", { class: "value", "data-testid": "tx-power" }, power(lastPower)), h("div", { class: "label" }, "Power")),
          h("div", { class: "stat" }, h("div", { class: "value" }, `#${t.id}`), h("div", { class: "label" }, `connector ${t.connectorId} · ${t.idTag}`)),
          h("div", { class: "stat" }, h("div", { class: "value" }, when(t.dateStart)), h("div", { class: "label" }, "Started"))),
        lineChart([
          { name: "Energy", points: data.energy.map(([x, v]) => [x, v - t.meterStart]), format: energy, cls: "c1" },
          { name: "Power", points: data.power, format: power, axis: "right", cls: "c2" },
        ], { label: `Transaction ${t.id}: energy and power` }),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "danger", onclick: async () => {
            const r = await command(identity, "RemoteStopTransaction", { transactionId: t.id });
            toast(r.ok ? `RemoteStopTransaction: ${r.reply.status}` : `RemoteStopTransaction: ${r.message || r.reply.errorCode}`, r.ok ? "info" : "bad");
          } }, "Stop (RemoteStopTransaction)"),
          h("a", { href: `#/transactions/${t.id}` }, "Details")));
    }));
  }

  async function loadSeries(s) {
    for (const t of s.openTransactions || []) {
      if (series.has(t.id)) continue;
      series.set(t.id, { energy: [], power: [] });
      try {
        const full = await get(`/Transaction/${t.id}`);
        const data = series.get(t.id);
        for (const mv of full.meterValues || []) {
          const at = Date.parse(mv.timestamp);
          const m = mv.measurand || "Energy.Active.Import.Register";
          const k = mv.unit === "kWh" || mv.unit === "kW" ? 1000 : 1;
          if (mv.phase) continue;
          if (m === "Energy.Active.Import.Register") data.energy.push([at, Number(mv.value) * k]);
          if (m === "Power.Active.Import") data.power.push([at, Number(mv.value) * k]);
        }
        drawRunning(state.stations.get(identity));
      } catch (e) { /* keep the live points */ }
    }
  }

  async function loadHistory() {
    try {
      const page = await get(`/CentralSystem/TransactionList${query({ identity, limit: 10 })}`);
      fill(history, page.TransactionList.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Id", "Connector", "idTag", "Start", "Stop", "Energy"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, page.TransactionList.map((t) => h("tr", {},
          h("td", {}, h("a", { href: `#/transactions/${t.id}` }, t.id)), h("td", {}, t.connectorId), h("td", {}, t.idTag),
          h("td", {}, when(t.dateStart)), h("td", {}, t.dateStop ? when(t.dateStop) : badge("Running", "charging")),
          h("td", {}, energy(t.value))))))) : h("p", { class: "muted" }, "No transactions yet."),
        h("a", { href: `#/transactions?identity=${enc(identity)}` }, "All transactions of this station"));
    } catch (e) { fill(history, h("p", { class: "error" }, e.message)); }
  }

  async function loadSecurity() {
    try {
      const page = await get(`/ChargePoint/${enc(identity)}/SecurityEvents${query({ limit: 20 })}`);
      fill(security, page.SecurityEvents.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Type", "Time", "Details"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, page.SecurityEvents.map((e) => h("tr", {},
          h("td", {}, e.type), h("td", {}, when(e.timestamp)), h("td", { class: "mono" }, e.techInfo ?? "")))))) :
        h("p", { class: "muted" }, "No security events."));
    } catch (e) {
      fill(security, h("p", { class: "muted" }, e.status === 501 ? "This backend keeps no security events." : e.message));
    }
  }

  const fetchConfig = h("button", { type: "button", onclick: async () => {
    fetchConfig.disabled = true;
    const r = await command(identity, "GetConfiguration", {});
    fetchConfig.disabled = false;
    if (!r.ok) { fill(config, fetchConfig, h("p", { class: "error" }, r.message || r.reply.errorCode)); return; }
    const keys = r.reply.configurationKey || [];
    fill(config, fetchConfig, h("div", { class: "table-wrap tall" }, h("table", { "data-testid": "configuration" },
      h("thead", {}, h("tr", {}, ["Key", "Value", ""].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, keys.map((k) => h("tr", {}, h("td", {}, k.key), h("td", { class: "mono" }, k.value ?? ""),
        h("td", {}, k.readonly ? "read-only" : "")))))),
      r.reply.unknownKey?.length ? h("p", { class: "muted" }, `Unknown: ${r.reply.unknownKey.join(", ")}`) : null);
  } }, "Fetch configuration (GetConfiguration)");
  fill(config, fetchConfig);

  draw();
  loadHistory();
  loadSecurity();
  const s0 = state.stations.get(identity);
  if (s0) loadSeries(s0);
  refreshStation(identity, 0);
  emulated().then((m) => { isEmulated = m.has(identity); draw(); });

  const unsubscribe = subscribe((kind, data) => {
    if (kind === "station" && data === identity) {
      const s = state.stations.get(identity);
      const before = series.size;
      draw();
      loadSeries(s);
      if ((s.openTransactions || []).length !== before) loadHistory();
      loadSecurity();
    } else if (kind === "summary") {
      draw();
    } else if (kind === "meter" && data.identity === identity) {
      const s = state.stations.get(identity);
      const open = s?.openTransactions || [];
      const t = open.find((x) => x.id === data.transactionId) || open.find((x) => x.connectorId === data.connectorId);
      if (!t) { refreshStation(identity); return; }
      const d = series.get(t.id) || { energy: [], power: [] };
      series.set(t.id, d);
      const at = Date.parse(data.ts || data.at);
      if (data.energy !== null) d.energy.push([at, data.energy]);
      if (data.power !== null) d.power.push([at, data.power]);
      drawRunning(s);
    }
  });
  return unsubscribe;
}
