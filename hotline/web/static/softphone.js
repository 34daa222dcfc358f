// The browser softphone: SIP over WebSocket to Asterisk, audio over WebRTC (DTLS-SRTP).
// Used by the operator's desk (answers the seat's calls) and by /try (dials the hotline).
import { Web } from "/static/vendor/sip.js/index.js";

const STATE_NAMES = {
  connecting: "连接中", registered: "已就绪", unregistered: "未注册", ringing: "来电振铃",
  calling: "呼叫中", talking: "通话中", offline: "未连接",
};

export class Softphone {
  constructor(panel) {
    this.panel = panel;
    this.cfg = panel.dataset;
    this.stateEl = panel.querySelector(".phone-state");
    this.state = "offline";
    const auth = { authorizationUsername: this.cfg.user, displayName: this.cfg.user,
                   logBuiltinEnabled: false };
    if (this.cfg.ha1) auth.authorizationHa1 = this.cfg.ha1;
    if (this.cfg.password) auth.authorizationPassword = this.cfg.password;
    this.user = new Web.SimpleUser(this.cfg.ws, {
      aor: `sip:${this.cfg.user}@${this.cfg.domain}`,
      media: { constraints: { audio: true, video: false },
               remote: { audio: panel.querySelector("audio") } },
      userAgentOptions: auth,
      reconnectionAttempts: 1000,
      reconnectionDelay: 3,
      delegate: {
        onServerConnect: () => this.set(this.cfg.register === "no" ? "registered" : "connecting"),
        onServerDisconnect: () => this.set("offline"),
        onRegistered: () => this.set("registered"),
        onUnregistered: () => this.set("unregistered"),
        onCallReceived: () => this.set("ringing"),
        onCallAnswered: () => this.set("talking"),
        onCallHangup: () => this.set("registered"),
      },
    });
  }

  set(state) {
    this.state = state;
    this.panel.dataset.state = state;
    if (this.stateEl) this.stateEl.textContent = STATE_NAMES[state] || state;
    this.panel.dispatchEvent(new CustomEvent("phonestate", { detail: state }));
  }

  async start() {
    this.set("connecting");
    await this.user.connect();
    if (this.cfg.register !== "no") await this.user.register();
  }

  async answer() { await this.user.answer(); }
  async hangup() { await this.user.hangup(); }
  async dial(number) {
    this.set("calling");
    await this.user.call(`sip:${number}@${this.cfg.domain}`);
  }
  async dtmf(tone) { await this.user.sendDTMF(tone); }

  // The audio actually flowing, from WebRTC's own counters (for the tests and the panel).
  async audioStats() {
    const managed = this.user.sessionManager.managedSessions[0];
    const pc = managed?.session?.sessionDescriptionHandler?.peerConnection;
    const out = { bytesReceived: 0, bytesSent: 0, dtls: "" };
    if (!pc) return out;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") out.bytesReceived += r.bytesReceived;
      if (r.type === "outbound-rtp" && r.kind === "audio") out.bytesSent += r.bytesSent;
      if (r.type === "transport") out.dtls = r.dtlsState;
    });
    return out;
  }
}

export function wire(panel) {
  const phone = new Softphone(panel);
  const on = (sel, fn) => panel.querySelector(sel)?.addEventListener("click", (e) => {
    e.preventDefault();
    fn().catch((err) => { console.error(err); phone.set("registered"); });
  });
  on(".phone-answer", () => phone.answer());
  on(".phone-hangup", () => phone.hangup());
  on(".phone-dial", () => phone.dial(panel.dataset.number));
  panel.querySelectorAll(".phone-key").forEach((b) => b.addEventListener("click", () =>
    phone.dtmf(b.textContent.trim())));
  window.hotlinePhone = phone;
  phone.start().catch((err) => { console.error(err); phone.set("offline"); });
  return phone;
}
