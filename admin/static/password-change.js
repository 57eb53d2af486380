// The forced password change after a sign-in that answered {must_change_password: true}
// (agent_api/routes/auth_api.py): that token only reaches POST /api/auth/password, so the
// page asks for a new password before anything else. Used by the admin page and the
// desk (/desk/desk.js imports it from here). Words: admin-i18n.js (pw_*).
import { t } from "/admin/admin-i18n.js";

const make = (tag, props = {}) => Object.assign(document.createElement(tag), props);

// Shows the form inside `host` (its other children hidden meanwhile) and resolves once
// the password is changed (the session then holds a normal token). `old` is the password
// just typed at sign-in. `minLength` from config when known (else 10).
export function changePasswordFirst({ session, host, lang, old, minLength = 10 }) {
  return new Promise((resolve) => {
    const hidden = [...host.children].filter((c) => !c.hidden);
    for (const c of hidden) c.hidden = true;
    const form = make("form", { id: "pw-form", noValidate: true });
    const title = make("h2", { id: "pw-title", textContent: t(lang, "pw_title") });
    const hint = make("p", { className: "hint", textContent: t(lang, "pw_hint", { n: minLength }) });
    const field = (id, key) => {
      const input = make("input", { id, type: "password", autocomplete: "new-password", required: true });
      const lab = make("label", { htmlFor: id, textContent: t(lang, key) });
      form.append(lab, input);
      return input;
    };
    form.append(title, hint);
    const first = field("pw-new", "pw_new");
    const again = field("pw-repeat", "pw_repeat");
    const error = make("p", { id: "pw-error", className: "error" });
    error.setAttribute("role", "alert");
    const submit = make("button", { type: "submit", className: "primary", textContent: t(lang, "pw_submit") });
    form.append(error, submit);
    form.setAttribute("aria-labelledby", "pw-title");
    host.append(form);
    first.focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      if (first.value !== again.value) {
        error.textContent = t(lang, "pw_mismatch");
        again.focus();
        return;
      }
      try {
        session.set(await session.call("POST", "/api/auth/password", { old, new: first.value }));
      } catch (err) {
        error.textContent = err.message;
        first.focus();
        return;
      }
      form.remove();
      for (const c of hidden) c.hidden = false;
      resolve();
    });
  });
}
