// The desk's browser softphone: JsSIP (served at /desk/vendor/jssip.min.js, a classic
// script that defines window.JsSIP) registering the agent's own extension over SIP on
// WebSocket to Asterisk (pbx.webrtc.ws_url; WebRTC media, pjsip.conf webrtc = yes).
//
// It owns its controls: the "browser phone / desk phone" choice on the sign-in form
// (localStorage hotline.phone.mode) and the #softphone card. It follows the desk's
// sign-in by watching #desk (shown when signed in, hidden when signed out) and reads the
// access token the desk keeps in sessionStorage, so desk.js knows nothing of it.
//
// window.hotlinePhone: state ("off" | "connecting" | "registered" | "unregistered" |
// "failed" | "disconnected"), callState ("idle" | "ringing" | "answered" | "held"),
// mode, and stats() (the call's RTP counters, for tests and troubleshooting). callState
// "calling" while a call it placed (the dial box) rings.

import { translator } from "/common/i18n.js";
import { PHONE_WORDS } from "./i18n.js";

const { t } = translator(PHONE_WORDS);
const MODE_KEY = "hotline.phone.mode";
const AUTO_KEY = "hotline.phone.autoanswer";
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const ICE_GRACE_MS = 20;  // after the first ICE candidate, the others of the host

const phone = {
  state: "off",
  callState: "idle",
  mode: localStorage.getItem(MODE_KEY) === "browser" ? "browser" : "desk",
  ua: null,
  mic: null,  // the microphone's stream while registered (openMic)
  callMic: null,  // this call's clone of it
  routed: null,  // the choice the router has ("browser" | "desk"), once it said yes
  session: null,
  config: null,
  error: "",
  async stats() {
    const pc = phone.session && phone.session.connection;
    if (!pc) return null;
    const out = { inbound: null, outbound: null };
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") {
        out.inbound = { packets: r.packetsReceived, bytes: r.bytesReceived, energy: r.totalAudioEnergy };
      }
      if (r.type === "outbound-rtp" && r.kind === "audio") {
        out.outbound = { packets: r.packetsSent, bytes: r.bytesSent };
      }
    });
    return out;
  },
};
window.hotlinePhone = phone;

const lang = () => (document.documentElement.lang === "en" ? "en" : "zh");
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "words") node.dataset.phoneI18n = v;
    else if (k in node) node[k] = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

// -- the controls ------------------------------------------------------------------------

function buildSignInChoice() {
  const form = $("signin-form");
  if (!form) return;
  const radio = (value) => {
    const input = el("input", { type: "radio", name: "phone-mode", value, id: `phone-mode-${value}` });
    input.checked = phone.mode === value;
    input.addEventListener("change", () => setMode(value));
    return el("label", { htmlFor: input.id, className: "inline" }, input, " ", el("span", { words: `mode_${value}` }));
  };
  const box = el(
    "fieldset",
    { id: "phone-mode", className: "row phone-mode" },
    el("legend", { words: "mode" }),
    radio("browser"),
    radio("desk"),
  );
  form.insertBefore(box, form.querySelector("button[type=submit]"));
}

function buildCard() {
  const card = $("softphone");
  if (!card) return;
  const button = (id, words, cls = "") => el("button", { id, type: "button", className: cls, words });
  const keypad = el("div", { id: "phone-keypad", className: "keypad", role: "group" });
  for (const key of KEYS) {
    const b = el("button", { type: "button", className: "key", textContent: key });
    b.dataset.key = key;
    b.addEventListener("click", () => sendDigit(key));
    keypad.append(b);
  }
  const auto = el("input", { type: "checkbox", id: "phone-auto" });
  auto.checked = localStorage.getItem(AUTO_KEY) === "1";
  auto.addEventListener("change", () => localStorage.setItem(AUTO_KEY, auto.checked ? "1" : "0"));
  card.replaceChildren(
    el("h2", { id: "phone-title", words: "title" }),
    el(
      "p",
      { className: "call-line" },
      el("span", { id: "phone-state", className: "badge", role: "status", "aria-live": "polite" }),
      " ",
      el("span", { id: "phone-ext" }),
    ),
    el(
      "div",
      { id: "phone-incoming", className: "row", hidden: true },
      el("strong", { id: "phone-caller" }),
      button("phone-answer", "answer", "primary"),
      button("phone-decline", "decline"),
    ),
    el(
      "div",
      { id: "phone-controls", className: "row", hidden: true },
      el("span", { id: "phone-talking" }),
      button("phone-mute", "mute"),
      button("phone-hold", "hold"),
      button("phone-hangup", "hangup"),
    ),
    el("div", { id: "phone-pad", hidden: true }, el("h3", { words: "keypad" }), keypad),
    el(
      "form",
      { id: "phone-dial", className: "row", hidden: true },
      el("label", { htmlFor: "phone-number", words: "dial_number" }),
      el("input", { id: "phone-number", type: "tel", inputMode: "tel", maxLength: 24, autocomplete: "off" }),
      el("button", { id: "phone-call", type: "submit", words: "dial" }),
    ),
    el("div", { className: "row" }, el("label", { htmlFor: "phone-auto" }, auto, " ", el("span", { words: "auto_answer" }))),
    el("div", { className: "row" }, button("phone-switch", "use_browser")),
    el("p", { id: "phone-error", className: "error", role: "alert" }),
    el("audio", { id: "phone-audio", autoplay: true }),
  );
  $("phone-answer").addEventListener("click", () => answer());
  $("phone-decline").addEventListener("click", () => hangUp());
  $("phone-hangup").addEventListener("click", () => hangUp());
  $("phone-mute").addEventListener("click", () => toggleMute());
  $("phone-hold").addEventListener("click", () => toggleHold());
  $("phone-switch").addEventListener("click", () => setMode(phone.mode === "browser" ? "desk" : "browser"));
  $("phone-dial").addEventListener("submit", (e) => {
    e.preventDefault();
    placeCall($("phone-number").value);
  });
}

function render() {
  const l = lang();
  for (const node of document.querySelectorAll("[data-phone-i18n]")) node.textContent = t(l, node.dataset.phoneI18n);
  const card = $("softphone");
  if (!card) return;
  card.dataset.state = phone.state;
  card.dataset.call = phone.callState;
  const badge = $("phone-state");
  badge.dataset.state = phone.state;
  badge.textContent = t(l, `st_${phone.state}`);
  $("phone-ext").textContent = phone.config && phone.mode === "browser" ? phone.config.extension : "";
  $("phone-switch").textContent = t(l, phone.mode === "browser" ? "use_desk" : "use_browser");
  const who = phone.session ? callerOf(phone.session) : "";
  $("phone-dial").hidden = !(phone.state === "registered" && phone.callState === "idle");
  $("phone-incoming").hidden = phone.callState !== "ringing";
  $("phone-caller").textContent = t(l, "incoming", { who });
  const talking = phone.callState === "answered" || phone.callState === "held";
  $("phone-controls").hidden = !talking && phone.callState !== "calling";
  $("phone-pad").hidden = !talking;
  const words = { held: "on_hold", calling: "calling" }[phone.callState] || "on_call";
  $("phone-talking").textContent = t(l, words, { who });
  const muted = phone.session && talking ? phone.session.isMuted().audio : false;
  $("phone-mute").textContent = t(l, muted ? "unmute" : "mute");
  $("phone-mute").setAttribute("aria-pressed", String(Boolean(muted)));
  $("phone-hold").textContent = t(l, phone.callState === "held" ? "unhold" : "hold");
  $("phone-hold").setAttribute("aria-pressed", String(phone.callState === "held"));
  $("phone-error").textContent = phone.error;
  for (const input of document.querySelectorAll("input[name=phone-mode]")) input.checked = input.value === phone.mode;
}

function setState(state, error = "") {
  phone.state = state;
  phone.error = error;
  render();
}

function setMode(mode) {
  phone.mode = mode;
  localStorage.setItem(MODE_KEY, mode);
  if (signedIn()) {
    if (mode === "browser") start();
    else {
      stop();
      tellRouter("desk");
    }
  }
  render();
}

// Which phone takes this agent's calls (POST /api/agent/phone): once registered, the
// browser's; the router then dials it and follows its registration (page closed: the
// agent goes not ready and is offered nothing). A router not reachable now keeps the
// choice from the next registration.
async function tellRouter(choice) {
  phone.routed = choice;
  try {
    const r = await fetch("/api/agent/phone", {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        Authorization: `Bearer ${token()}`,
      },
      body: JSON.stringify({ phone: choice }),
    });
    if (!r.ok) phone.routed = null;
  } catch {
    phone.routed = null;
  }
}

// -- registration ------------------------------------------------------------------------

function signedIn() {
  const desk = $("desk");
  return Boolean(desk && !desk.hidden && token());
}

function token() {
  try {
    const saved = JSON.parse(sessionStorage.getItem("hotline.session") || "null");
    return saved && saved.access_token;
  } catch {
    return null;
  }
}

async function start() {
  if (phone.ua || phone.mode !== "browser") return;
  setState("connecting");
  let config;
  try {
    const r = await fetch("/api/phone/config", {
      headers: { Accept: "application/json", Authorization: `Bearer ${token()}` },
    });
    config = await r.json().catch(() => null);
    if (!r.ok) throw new Error((config && config.message) || `HTTP ${r.status}`);
  } catch (err) {
    setState("failed", err.message);
    return;
  }
  if (phone.ua || phone.mode !== "browser" || !signedIn()) return;  // changed meanwhile
  if (!window.JsSIP) {
    setState("failed", "JsSIP did not load (/desk/vendor/jssip.min.js)");
    return;
  }
  phone.config = config;
  const ua = new window.JsSIP.UA({
    sockets: [new window.JsSIP.WebSocketInterface(config.ws_url)],
    uri: config.sip_uri,
    authorization_user: config.username,  // <extension>-web: the browser's own endpoint
    password: config.password,
    register: true,
    register_expires: 120,
    session_timers: false,
    user_agent: "Hotline desk",
  });
  phone.ua = ua;
  const mine = (fn) => (...args) => { if (phone.ua === ua) fn(...args); };
  ua.on("connecting", mine(() => setState("connecting")));
  ua.on("disconnected", mine(() => setState("disconnected")));
  ua.on("registered", mine(() => { setState("registered"); tellRouter("browser"); openMic(); }));
  ua.on("unregistered", mine(() => setState("unregistered")));
  ua.on("registrationFailed", mine((e) => setState("failed", e.cause || "")));
  ua.on("newRTCSession", mine((e) => { if (e.originator === "remote") incoming(e.session); }));
  ua.start();
}

// The microphone, opened once the phone is registered and kept for every call: an
// answer then needs no getUserMedia (about 140 ms in Chromium) before the 200 OK.
// Without it (refused, no device) each call asks for the microphone itself.
async function openMic() {
  if (phone.mic) return;
  try {
    phone.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  } catch {
    phone.mic = null;
  }
}

function closeMic() {
  if (phone.mic) for (const track of phone.mic.getTracks()) track.stop();
  phone.mic = null;
}

// A clone per call (no new getUserMedia): mute on one call never carries to the next,
// and the clone is stopped when the call ends.
function media() {
  if (!phone.mic || !phone.mic.active) return { mediaConstraints: { audio: true, video: false } };
  phone.callMic = phone.mic.clone();
  return { mediaStream: phone.callMic };
}

function stop() {
  closeMic();
  const ua = phone.ua;
  phone.ua = null;
  phone.config = null;
  if (phone.session) hangUp();
  if (ua) {
    ua.stop();  // unregisters, then closes the socket
  }
  setState("off");
}

// -- calls -------------------------------------------------------------------------------

function callerOf(session) {
  const id = session.remote_identity;
  if (!id) return "";
  const user = id.uri && id.uri.user;
  return id.display_name && id.display_name !== user ? `${id.display_name} <${user}>` : user || "";
}

function incoming(session) {
  if (phone.session) {
    session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
    return;
  }
  trackSession(session, "ringing");
  if ($("phone-auto") && $("phone-auto").checked) answer();
  else ringer.start();
}

// A call from this phone (the hotline, a colleague, an echo test at 600): dialled in the
// endpoint's context (hotline-agents), like any agent phone.
function placeCall(raw) {
  const number = String(raw || "").replace(/[\s-]/g, "");
  if (!phone.ua || phone.session || !/^[0-9*#]{2,24}$/.test(number)) return;
  const domain = phone.config.sip_uri.split("@")[1];
  const session = phone.ua.call(`sip:${number}@${domain}`, {
    ...media(),
    pcConfig: { iceServers: [] },
  });
  trackSession(session, "calling");
}

function trackSession(session, state) {
  phone.session = session;
  phone.callState = state;
  const mine = (fn) => (...args) => { if (phone.session === session) fn(...args); };
  const ended = mine(() => {
    phone.session = null;
    phone.callState = "idle";
    if (phone.callMic) for (const track of phone.callMic.getTracks()) track.stop();
    phone.callMic = null;
    ringer.stop();
    $("phone-audio").srcObject = null;
    render();
  });
  session.on("peerconnection", (e) => listen(e.peerconnection));
  // Without STUN/TURN servers (pcConfig.iceServers is empty) the only candidates are the
  // host's own, found at once; JsSIP would wait for the whole gathering to end (100+ ms
  // in Chromium) before it sends the SDP. Send it shortly after the first candidate.
  let iceTimer = null;
  session.on("icecandidate", (e) => {
    if (iceTimer === null) iceTimer = setTimeout(() => e.ready(), ICE_GRACE_MS);
  });
  if (session.connection) listen(session.connection);
  session.on("accepted", mine(() => { ringer.stop(); phone.callState = "answered"; render(); }));
  session.on("confirmed", mine(() => {
    ringer.stop();
    if (phone.callState === "ringing" || phone.callState === "calling") phone.callState = "answered";
    render();
  }));
  session.on("hold", mine(() => { phone.callState = "held"; render(); }));
  session.on("unhold", mine(() => { phone.callState = "answered"; render(); }));
  session.on("muted", mine(render));
  session.on("unmuted", mine(render));
  session.on("ended", ended);
  session.on("failed", ended);
  render();
}

function listen(pc) {
  pc.addEventListener("track", (e) => {
    const audio = $("phone-audio");
    audio.srcObject = e.streams[0] || new MediaStream([e.track]);
    audio.play().catch(() => {});  // autoplay may wait for a gesture: the call still flows
  });
}

function answer() {
  const session = phone.session;
  if (!session || phone.callState !== "ringing") return;
  ringer.stop();
  try {
    session.answer({ ...media(), pcConfig: { iceServers: [] } });
  } catch (err) {
    phone.error = t(lang(), "no_mic", { why: err.message });
    render();
  }
}

function hangUp() {
  const session = phone.session;
  if (!session) return;
  ringer.stop();
  try {
    session.terminate();
  } catch {
    // already ended
  }
}

function toggleMute() {
  const s = phone.session;
  if (!s) return;
  if (s.isMuted().audio) s.unmute({ audio: true });
  else s.mute({ audio: true });
  render();
}

function toggleHold() {
  const s = phone.session;
  if (!s) return;
  if (s.isOnHold().local) s.unhold();
  else s.hold();
}

function sendDigit(key) {
  const s = phone.session;
  if (!s || phone.callState !== "answered") return;
  s.sendDTMF(key, { transportType: "RFC2833", duration: 160, interToneGap: 80 });
}

// -- the ringtone: a WebAudio oscillator, 2 s on, 4 s off --------------------------------

const ringer = {
  ctx: null,
  osc: null,
  timer: null,
  start() {
    if (this.timer) return;
    try {
      this.ctx = this.ctx || new AudioContext();
      const gain = this.ctx.createGain();
      gain.gain.value = 0;
      gain.connect(this.ctx.destination);
      for (const f of [440, 480]) {
        const o = this.ctx.createOscillator();
        o.frequency.value = f;
        o.connect(gain);
        o.start();
        (this.osc = this.osc || []).push(o);
      }
      let on = false;
      const toggle = () => { on = !on; gain.gain.value = on ? 0.15 : 0; };
      toggle();
      this.timer = setInterval(toggle, 2000);
      this.gain = gain;
    } catch {
      this.timer = null;  // no audio output: the page still shows the call
    }
  },
  stop() {
    clearInterval(this.timer);
    this.timer = null;
    for (const o of this.osc || []) o.stop();
    this.osc = null;
    if (this.gain) this.gain.disconnect();
    this.gain = null;
  },
};

// -- wiring ------------------------------------------------------------------------------

function follow() {
  const desk = $("desk");
  if (!desk) return;
  const check = () => {
    if (signedIn() && phone.mode === "browser") start();
    else if (!signedIn() && phone.ua) stop();
  };
  new MutationObserver(check).observe(desk, { attributes: true, attributeFilter: ["hidden"] });
  new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  window.addEventListener("pagehide", () => { if (phone.ua) phone.ua.stop(); });
  check();
}

buildSignInChoice();
buildCard();
render();
follow();
