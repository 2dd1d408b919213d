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
    const body = bearer ? { token: secret.value } : { user: user.value, password: secret.value };
    try {
      await post("/Session", body);
      done();
    } catch (err) { error.textContent = err.message; secret.select(); }
  } },
    h("h1", {}, "Log in"),
    h("p", { class: "muted" }, bearer ? "Give one of the operator tokens ([api] tokens)."
      : "Give an operator's user name and password ([api] users)."),
    bearer ? null : h("div", { class: "field" }, h("label", { for: "login-user" }, "User"), user),
    h("div", { class: "field" }, h("label", { for: "login-secret" }, bearer ? "Token" : "Password"), secret),
    error,
    h("button", { type: "submit", class: "primary" }, "Log in"));
  fill(main, form);
  (bearer ? secret : user).focus();
}
