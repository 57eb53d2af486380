// What the supervisor page and the wallboard share: DOM helpers and the staff-only
// sign-in on top of the desktop's Session (/desk/api.js). A signed-in account that is
// not a supervisor or admin is refused and its token revoked (it is no use here).
// Everything is inserted as text (textContent), never as HTML.
import { Session } from "/desk/api.js";

const STAFF = new Set(["supervisor", "admin"]);
export const $ = (id) => document.getElementById(id);
export const el = (tag, text, cls) => {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
};

// page: { state (has .lang), t(lang, key), applyWords(lang), render(),
//         start(user) when the board shows, stop() when the sign-in shows }
export function staffPage(page) {
  const word = (key) => page.t(page.state.lang, key);
  const session = new Session(() => showSignIn(word("expired")));

  function showSignIn(message = "") {
    page.stop();
    $("board").hidden = $("logout").hidden = $("me").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message;
    $("username").focus();
  }

  function showBoard() {
    const user = session.user;
    if (!user || !STAFF.has(user.role)) {
      if (user) session.logout().catch(() => {});
      showSignIn(word("not_staff"));
      return;
    }
    $("signin").hidden = true;
    $("board").hidden = $("logout").hidden = $("me").hidden = false;
    page.start(user);
  }

  function setLang(lang) {
    page.state.lang = lang;
    localStorage.setItem("hotline.lang", lang);
    page.applyWords(lang);
    $("lang").textContent = lang === "zh" ? "English" : "中文";
    page.render();
  }

  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await session.login($("username").value.trim(), $("password").value);
      $("password").value = "";
      showBoard();
    } catch (err) {
      $("signin-error").textContent = err.message;
    }
  });
  $("logout").addEventListener("click", async () => {
    await session.logout().catch(() => {});
    showSignIn();
  });
  $("lang").addEventListener("click", () => setLang(page.state.lang === "zh" ? "en" : "zh"));

  // Begins once the page's module has defined everything start/stop/render use.
  const begin = () => {
    setLang(page.state.lang);
    if (session.token) showBoard();
    else showSignIn();
  };
  return { session, begin };
}
