// Inbox: stations waiting to be accepted, refused idTags and refused
// connection attempts, each with one click to accept or register.
import { h, fill, when, badge, section, toast } from "../dom.js";
import { get, post, put, enc } from "../api.js";

function table(headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", {}, rows)));
}

export function render(main) {
  const stations = h("div"), tags = h("div"), refused = h("div");
  async function act(label, fn) {
    try { await fn(); toast(label); load(); } catch (e) { toast(`${label}: ${e.message}`, "bad"); }
  }
  async function load() {
    try {
      const [s, t, r] = await Promise.all([get("/Onboarding/RejectedStations?limit=200"), get("/Onboarding/RefusedIdTags?limit=200"),
        get("/Onboarding/RefusedConnections?limit=200")]);
      fill(stations, s.RejectedStations.length ? table(["Station", "Boot status", "Vendor / model", "Last seen", ""],
        s.RejectedStations.map((x) => h("tr", {}, h("td", {}, x.identity), h("td", {}, badge(x.bootStatus)),
          h("td", {}, [x.bootNotification?.chargePointVendor, x.bootNotification?.chargePointModel].filter(Boolean).join(" / ")),
          h("td", {}, when(x.lastSeen)),
          h("td", {}, h("button", { type: "button", class: "primary", onclick: () => act(`${x.identity} accepted`, () => post(`/Onboarding/RejectedStations/${enc(x.identity)}/accept`)) }, "Accept"))))) :
        h("p", { class: "empty" }, "No station is waiting."));
      fill(tags, t.RefusedIdTags.length ? table(["idTag", "Status", "Station", "Action", "Last", "Count", ""],
        t.RefusedIdTags.map((x) => h("tr", {}, h("td", { class: "mono" }, x.idTag), h("td", {}, badge(x.status)), h("td", {}, x.identity),
          h("td", {}, x.action), h("td", {}, when(x.lastSeen)), h("td", { class: "num" }, x.count),
          h("td", {}, h("button", { type: "button", class: "primary", onclick: () => act(`${x.idTag} accepted`, () => post(`/Onboarding/RefusedIdTags/${enc(x.idTag)}/accept`)) }, "Accept"))))) :
        h("p", { class: "empty" }, "No idTag was refused."));
      fill(refused, r.RefusedConnections.length ? table(["Time", "Identity", "Path", "Address", "Reason", ""],
        r.RefusedConnections.map((x) => h("tr", {}, h("td", {}, when(x.ts)), h("td", {}, x.identity || "—"), h("td", { class: "mono" }, x.path),
          h("td", {}, x.address), h("td", {}, x.reason),
          h("td", {}, x.identity ? h("button", { type: "button", onclick: () => act(`${x.identity} registered`, () => put(`/ChargePoint/${enc(x.identity)}`)) }, "Register") : null)))) :
        h("p", { class: "empty" }, "No connection was refused since the start."));
    } catch (e) { fill(stations, h("p", { class: "error" }, e.message)); }
  }
  fill(main, h("h1", {}, "Inbox"),
    section("Stations waiting to be accepted", stations),
    section("Refused idTags", tags),
    section("Refused connection attempts", refused),
    h("button", { type: "button", onclick: load }, "Refresh"));
  load();
}
