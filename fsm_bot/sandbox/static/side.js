// The right column: live API statistics, fault buttons and the event log (newest first).

import { el } from "./dom.js";
import { describe, formatTime, STAT_LABELS, T } from "./texts.js";

const RATE_WINDOW_MS = 3000; // calls per second over the last few seconds, so one poll's jitter does not show
const JOURNAL_LINES = 300;

/** What each fault button asks of POST /sandbox/faults; the bot meets them on its next requests. */
export const FAULTS = {
  storm: [{ target: "*", kind: 6, count: 4 }],
  longpoll: [{ target: "longpoll", kind: "failed_2", count: 1 }],
  disconnect: [
    { target: "*", kind: "disconnect", count: 1 },
    { target: "longpoll", kind: "disconnect", count: 1 },
  ],
};

export class Side {
  constructor({ stats, journal, faultButtons, pendingFaults }, { fault, nameOf, onError }) {
    this.statsBox = stats;
    this.journal = journal;
    this.pendingFaults = pendingFaults;
    this.nameOf = nameOf;
    this.samples = [];
    this.values = new Map();
    for (const [key, label] of STAT_LABELS) {
      const value = el("dd", { dataset: { stat: key } }, "0");
      this.values.set(key, value);
      stats.append(el("dt", {}, label), value);
    }
    for (const button of faultButtons) {
      button.addEventListener("click", async () => {
        try {
          for (const request of FAULTS[button.dataset.fault]) {
            await fault(request.target, request.kind, request.count);
          }
        } catch (error) {
          onError(error);
        }
      });
    }
  }

  showStats(stats) {
    const calls = Object.values(stats.calls).reduce((sum, n) => sum + n, 0);
    const now = performance.now();
    const last = this.samples[this.samples.length - 1];
    if (last && calls < last.calls) this.samples = []; // the sandbox was reset
    this.samples.push({ at: now, calls });
    while (this.samples.length > 2 && now - this.samples[1].at >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    const seconds = (now - first.at) / 1000;
    const rate = seconds > 0.3 ? (calls - first.calls) / seconds : 0;
    const shown = { ...stats, calls, callsPerSecond: rate.toFixed(1) };
    for (const [key, node] of this.values) {
      node.textContent = String(shown[key] ?? 0);
    }
    this.values.get("rate_limited").classList.toggle("bad", stats.rate_limited > 0);
    this.values.get("errors").classList.toggle("bad", stats.errors > 0);
    this.pendingFaults.textContent = T.pendingFaults(stats.pending_faults);
  }

  /** New journal entries, oldest first as the sandbox sends them; shown newest first. */
  addEntries(entries) {
    for (const entry of entries) {
      const { text, error } = describe(entry, this.nameOf);
      const line = el(
        "li",
        { class: `kind-${entry.kind}${error ? " error" : ""}`, dataset: { kind: entry.kind, seq: entry.seq } },
        el("time", {}, formatTime(entry.time, true)),
        el("span", { class: "what" }, text),
      );
      this.journal.prepend(line);
    }
    while (this.journal.children.length > JOURNAL_LINES) this.journal.lastElementChild.remove();
  }
}
