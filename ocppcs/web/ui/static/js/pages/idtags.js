// Id tags: list, add, block/unblock, set expiry, delete.
import { h, fill, when, badge, toast, localInput, fromLocalInput } from "../dom.js";
import { get, put, del, enc } from "../api.js";

const STATUSES = ["Accepted", "Blocked", "Expired", "Invalid"];

export function render(main) {
  const out = h("div");
  const tag = h("input", { type: "text", id: "new-idtag", required: true, autocomplete: "off" });
  const status = h("select", { id: "new-status" }, STATUSES.map((s) => h("option", { value: s }, s)));
  const expiry = h("input", { type: "datetime-local", id: "new-expiry" });
  const parent = h("input", { type: "text", id: "new-parent", autocomplete: "off" });
  const error = h("p", { class: "error", role: "alert" });

  async function save(idTag, body) {
    try { await put(`/IdTag/${enc(idTag)}`, body); toast(`${idTag} saved`); load(); return true; } catch (e) { toast(`${idTag}: ${e.message}`, "bad"); return false; }
  }

  const add = h("form", { class: "toolbar", onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = "";
    const value = tag.value.trim();
    if (!value) { error.textContent = "idTag: required"; tag.focus(); return; }
    if (value.length > 20) { error.textContent = "idTag: at most 20 characters"; tag.focus(); return; }
    if (parent.value.trim().length > 20) { error.textContent = "parent idTag: at most 20 characters"; return; }
    const body = { status: status.value };
    if (expiry.value) body.expiryDate = fromLocalInput(expiry.value);
    if (parent.value.trim()) body.parentIdTag = parent.value.trim();
    if (await save(value, body)) add.reset();
  } },
    h("label", { class: "inline", for: "new-idtag" }, "idTag "), tag,
    h("label", { class: "inline", for: "new-status" }, "Status "), status,
    h("label", { class: "inline", for: "new-expiry" }, "Expires "), expiry,
    h("label", { class: "inline", for: "new-parent" }, "Parent "), parent,
    h("button", { type: "submit", class: "primary" }, "Add / replace"));

  function row(t) {
    const exp = h("input", { type: "datetime-local", value: t.expiryDate ? localInput(t.expiryDate) : "", "aria-label": `expiry of ${t.idTag}` });
    const body = (over) => ({ status: t.status, ...(t.expiryDate ? { expiryDate: t.expiryDate } : {}), ...(t.parentIdTag ? { parentIdTag: t.parentIdTag } : {}), ...over });
    const blocked = t.status === "Blocked";
    return h("tr", { dataset: { idtag: t.idTag } },
      h("td", { class: "mono" }, t.idTag), h("td", {}, badge(t.status)), h("td", {}, when(t.expiryDate)), h("td", {}, t.parentIdTag || ""),
      h("td", { class: "row-actions" },
        h("button", { type: "button", onclick: () => save(t.idTag, body({ status: blocked ? "Accepted" : "Blocked" })) }, blocked ? "Unblock" : "Block"),
        exp,
        h("button", { type: "button", onclick: () => {
          const b = body({});
          delete b.expiryDate;
          if (exp.value) b.expiryDate = fromLocalInput(exp.value);
          save(t.idTag, b);
        } }, "Set expiry"),
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm(`Delete id tag ${t.idTag}?`)) return;
          try { await del(`/IdTag/${enc(t.idTag)}`); toast(`${t.idTag} deleted`); load(); } catch (e) { toast(e.message, "bad"); }
        } }, "Delete")));
  }

  async function load() {
    try {
      const page = await get("/IdTagList?limit=1000");
      fill(out, page.IdTagList.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, ["idTag", "Status", "Expires", "Parent", "Actions"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, page.IdTagList.map(row)))) : h("p", { class: "empty" }, "No id tags yet (with [central] authorization = list only these are accepted)."),
        h("p", { class: "muted" }, `${page.total} id tags`));
    } catch (e) { fill(out, h("p", { class: "error" }, e.message)); }
  }
  fill(main, h("h1", {}, "Id tags"), h("section", { class: "card" }, h("h2", {}, "Add an id tag"), add, error), h("section", { class: "card" }, out));
  load();
}
