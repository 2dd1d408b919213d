// The command panel of a station: the 19 central-system operations of OCPP 1.6,
// each a form generated from its official schema (GET /api/v1/Schema/{Operation}).
import { h, fill } from "../dom.js";
import { get, post, enc } from "../api.js";
import { schemaForm } from "../schemaform.js";

export const GROUPS = [
  ["Core", [
    ["ChangeAvailability", "Make a connector (or the station) operative or inoperative"],
    ["ChangeConfiguration", "Set a configuration key"],
    ["ClearCache", "Clear the authorization cache"],
    ["DataTransfer", "Send vendor-specific data"],
    ["GetConfiguration", "Read configuration keys"],
    ["RemoteStartTransaction", "Start charging for an idTag"],
    ["RemoteStopTransaction", "Stop a running transaction"],
    ["Reset", "Reboot the station (soft or hard)"],
    ["UnlockConnector", "Release the cable"],
  ]],
  ["Smart charging", [
    ["ClearChargingProfile", "Remove charging profiles"],
    ["GetCompositeSchedule", "The schedule the station will follow"],
    ["SetChargingProfile", "Install a charging profile"],
  ]],
  ["Firmware", [
    ["GetDiagnostics", "Upload diagnostics to a URL"],
    ["UpdateFirmware", "Download and install firmware"],
  ]],
  ["Reservation", [
    ["CancelReservation", "Cancel a reservation"],
    ["ReserveNow", "Reserve a connector for an idTag"],
  ]],
  ["Local auth list", [
    ["GetLocalListVersion", "The version of the local list"],
    ["SendLocalList", "Replace or update the local list"],
  ]],
  ["Remote trigger", [
    ["TriggerMessage", "Ask the station to send a message"],
  ]],
];

const schemas = new Map();
async function schemaOf(operation) {
  if (!schemas.has(operation)) schemas.set(operation, await get(`/Schema/${enc(operation)}`));
  return schemas.get(operation);
}

/** Send a command; returns {ok, reply} or {ok: false, message}. */
export async function command(identity, operation, payload) {
  try {
    const reply = await post(`/ChargePoint/${enc(identity)}/${enc(operation)}`, payload);
    return { ok: !reply.error, reply };
  } catch (e) {
    return { ok: false, message: e.message, status: e.status };
  }
}

export function commandPanel(identity) {
  const filter = h("input", { type: "search", placeholder: "Find a command", "aria-label": "Find a command" });
  const menu = h("nav", { class: "commands", "aria-label": "Commands" });
  const pane = h("div", { class: "command-pane", "aria-live": "polite" },
    h("p", { class: "muted" }, "Choose a command."));
  const buttons = [];
  for (const [group, ops] of GROUPS) {
    menu.append(h("h3", {}, group));
    for (const [op, text] of ops) {
      const b = h("button", { type: "button", class: "command", dataset: { op }, title: text,
        onclick: () => open(op, text, b) }, op);
      buttons.push(b);
      menu.append(b);
    }
  }
  filter.addEventListener("input", () => {
    const q = filter.value.toLowerCase();
    buttons.forEach((b) => { b.hidden = q && !b.dataset.op.toLowerCase().includes(q); });
  });

  async function open(op, text, button) {
    buttons.forEach((b) => b.removeAttribute("aria-pressed"));
    button.setAttribute("aria-pressed", "true");
    fill(pane, h("p", { class: "muted" }, "Loading the schema…"));
    let schema;
    try { schema = await schemaOf(op); } catch (e) { fill(pane, h("p", { class: "error" }, e.message)); return; }
    const result = h("div", { class: "result", "aria-live": "polite" });
    const form = schemaForm(schema, async (payload, submit) => {
      submit.disabled = true;
      fill(result, h("p", { class: "muted" }, `Sending ${op}…`));
      const r = await command(identity, op, payload);
      submit.disabled = false;
      if (r.reply) {
        fill(result, h("h4", {}, r.ok ? "Station's answer" : "Station answered with an error"),
          h("pre", { class: r.ok ? "json ok" : "json bad", "data-testid": "reply" }, JSON.stringify(r.reply, null, 2)));
      } else {
        fill(result, h("h4", {}, "Not done"), h("pre", { class: "json bad", "data-testid": "reply" }, `${r.status || ""} ${r.message}`));
      }
    });
    form.dataset.op = op;
    fill(pane, h("h3", {}, op), h("p", { class: "muted" }, text), form, result);
    const first = form.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  return h("div", { class: "command-panel" }, h("div", { class: "command-menu" }, filter, menu), pane);
}
