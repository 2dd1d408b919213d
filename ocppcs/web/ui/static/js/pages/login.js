// The login screen (when [api] auth is basic or bearer): POST /api/v1/Session
// sets an HttpOnly session cookie; nothing secret is kept in JavaScript.
import { h, fill } from "../dom.js";
import { post } from "../api.js";

export function render(main, session, done) {
  const bearer = session.auth === "bearer";
  const user = h("input", { id: "login-user", type: "text", autocomplete: "username" });
  const secret = h("input", { id: "login-secret", type: "password", autocomplete: bearer ? "off" : "current-password" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", { id: "login-form", class: "card login", onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = "";
    const body = bearer || !user.value ? { token: secret.value } : { user: user.value, password: secret.value };
    try {
      await post("/Session", body);
      done();
    } catch (err) { error.textContent = err.message; secret.select(); }
  } },
    h("h1", {}, "Log in"),
    h("p", { class: "muted" }, "The operator API needs credentials: a user and password ([api] users), or leave the user empty and give a bearer token ([api] tokens)."),
    h("div", { class: "field" }, h("label", { for: "login-user" }, "User"), user),
    h("div", { class: "field" }, h("label", { for: "login-secret" }, "Password or token"), secret),
    error,
    h("button", { type: "submit", class: "primary" }, "Log in"));
  fill(main, form);
  user.focus();
}
