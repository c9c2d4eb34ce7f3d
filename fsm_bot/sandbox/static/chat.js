// The middle column: the chosen person's dialog with the community's bot, and what they can do in it.

import { messageNode } from "./bubbles.js";
import { el, fullName } from "./dom.js";
import { currentKeyboard, keyboardNode } from "./keyboards.js";
import { roleNote } from "./people.js";
import { T } from "./texts.js";

const SNACKBAR_SECONDS = 4;
const CALLBACK_PATIENCE_MS = 10000; // VK's client gives up waiting for a callback answer too
const NEAR_BOTTOM_PX = 80;
const ALLOW_PATIENCE_MS = 3000;
const FORWARD_CHOICES = 10;
const START_PAYLOAD = { command: "start" }; // what VK's «Начать» button sends

/** One line for a message in the «↪ Переслать» menu. */
function preview(message) {
  if (message.text) return message.text;
  const [first] = message.attachments;
  if (first && first.type === "photo") return `📷 ${T.photo}`;
  if (first && first.type === "doc") return `📎 ${first.doc.title || T.document}`;
  return T.forwarded;
}

export class Chat {
  /**
   * `actions`: send(message), press(messageId, row, col), addFile(type), setAllow(allowed), nameOf(id);
   * each of the first four returns a promise and the chat reports failures as a snackbar.
   */
  constructor(elements, actions) {
    this.e = elements;
    this.actions = actions;
    this.person = null;
    this.messages = [];
    this.nodes = new Map(); // message id -> {signature, node}
    this.pending = new Map(); // callback event id -> {node, timer}
    this.shownSnackbars = new Set();
    this.snackbarTimer = null;
    this.allowWanted = null; // {value, until}: the switch was clicked and the sandbox has not shown it yet
    this.setUpComposer();
  }

  setUpComposer() {
    const { form, input, photo, doc, forward, forwardMenu, allow } = this.e;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (text) this.send({ text });
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener("input", () => this.fitInput());
    photo.addEventListener("click", () => this.attach("photo"));
    doc.addEventListener("click", () => this.attach("doc"));
    forward.addEventListener("click", () => this.toggleForwardMenu());
    document.addEventListener("click", (event) => {
      if (!forwardMenu.hidden && !forwardMenu.contains(event.target) && event.target !== forward) {
        this.closeForwardMenu();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.closeForwardMenu();
    });
    allow.addEventListener("change", () => this.setAllow(allow.checked));
    this.e.keyboardToggle.addEventListener("click", () => this.toggleKeyboard());
  }

  fitInput() {
    const input = this.e.input;
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight + 2}px`;
  }

  /** Show `person`'s chat (or none); the next update() fills it. */
  open(person) {
    this.person = person;
    this.messages = [];
    this.nodes.clear();
    this.pending.clear();
    this.shownSnackbars.clear();
    this.allowWanted = null;
    this.closeForwardMenu();
    const enabled = Boolean(person);
    for (const control of [this.e.input, this.e.send, this.e.photo, this.e.doc, this.e.forward]) {
      control.disabled = !enabled;
    }
    this.e.allowSwitch.hidden = !enabled;
    this.showKeyboard(null, "none");
    this.e.messages.replaceChildren(el("div", { class: "empty" }, enabled ? "…" : T.pickSomeone));
    this.e.messages.setAttribute("aria-busy", String(enabled)); // until the first update brings the chat
    this.showMe(person);
    if (enabled) this.e.input.focus();
  }

  showMe(person) {
    if (!person) {
      this.e.me.textContent = T.pickSomeone;
      return;
    }
    const role = roleNote(person);
    this.e.me.replaceChildren(`${T.writingAs}: `, el("b", {}, fullName(person)), role ? ` · ${role}` : "");
    const wanted = this.allowWanted;
    if (wanted && (wanted.value === person.allow_messages || Date.now() > wanted.until)) this.allowWanted = null;
    if (!this.allowWanted) this.e.allow.checked = person.allow_messages;
  }

  /** The switch keeps what was clicked until a poll shows it, not the state of a poll already on its way. */
  setAllow(allowed) {
    this.allowWanted = { value: allowed, until: Date.now() + ALLOW_PATIENCE_MS };
    this.actions.setAllow(allowed).catch((error) => {
      this.allowWanted = null;
      this.e.allow.checked = !allowed;
      this.snackbar(`${T.failed}: ${error.message}`);
    });
  }

  /** A poll brought this chat: `{user, messages, snackbars}`, or null when the user no longer exists. */
  update(chat) {
    if (!this.person) return;
    this.e.messages.setAttribute("aria-busy", "false");
    if (!chat) {
      this.e.messages.replaceChildren(el("div", { class: "empty" }, T.userGone));
      this.showKeyboard(null, "");
      return;
    }
    this.person = chat.user;
    this.showMe(chat.user);
    this.renderMessages(chat.messages);
    this.renderKeyboard(chat.messages);
    this.answerPresses(chat.snackbars);
  }

  renderMessages(messages) {
    const box = this.e.messages;
    const wasAtBottom = box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM_PX;
    const known = this.messages.length ? this.messages[this.messages.length - 1].id : 0;
    const firstRender = this.nodes.size === 0;
    this.messages = messages;
    if (!messages.length) {
      box.replaceChildren(el("div", { class: "empty" }, this.person.stream_role ? T.noConversation : T.newcomer));
      return;
    }
    const keep = new Set();
    const ordered = messages.map((message) => {
      keep.add(message.id);
      const signature = JSON.stringify(message);
      const old = this.nodes.get(message.id);
      if (old && old.signature === signature) return old.node;
      const node = messageNode(message, {
        nameOf: this.actions.nameOf,
        onPress: (msg, row, col, button, buttonNode) => this.press(msg, row, col, button, buttonNode),
      });
      if (old) node.classList.add("flash"); // edited in place, as the bot's report is every few seconds
      this.nodes.set(message.id, { signature, node });
      return node;
    });
    for (const id of [...this.nodes.keys()]) if (!keep.has(id)) this.nodes.delete(id);
    const shown = [...box.children];
    if (shown.length !== ordered.length || shown.some((node, index) => node !== ordered[index])) {
      box.replaceChildren(...ordered);
    }
    const newest = messages[messages.length - 1];
    if (firstRender || wasAtBottom || (newest.id > known && newest.from === "user")) {
      box.scrollTop = box.scrollHeight;
    }
  }

  /** Under the input: VK's «Начать» in a new dialog, else the regular keyboard the bot last set. */
  renderKeyboard(messages) {
    if (!messages.length) {
      const start = el("button", { type: "button", class: "kb-btn kb-positive" }, T.start);
      start.addEventListener("click", () => this.send({ text: T.start, payload: START_PAYLOAD }));
      this.showKeyboard(el("div", { class: "kb" }, el("div", { class: "kb-row" }, start)), "start");
      return;
    }
    const current = currentKeyboard(messages);
    const signature = current ? `${current.message.id}:${JSON.stringify(current.keyboard)}` : "";
    if (this.e.keyboard.dataset.signature === signature) return; // keep the nodes: a press may be under way
    const onPress = (row, col, button, node) => this.press(current.message, row, col, button, node);
    this.showKeyboard(current ? keyboardNode(current.keyboard, onPress) : null, signature);
  }

  showKeyboard(node, signature) {
    this.e.keyboard.dataset.signature = signature;
    this.e.keyboard.replaceChildren(...(node ? [node] : []));
    this.e.keyboardToggle.hidden = !node;
    this.e.keyboard.classList.remove("collapsed"); // a new keyboard from the bot shows, as in VK
    this.e.keyboardToggle.setAttribute("aria-pressed", "true");
  }

  /** VK's keyboard button: hide the bot's keyboard to see more of the dialog, and bring it back. */
  toggleKeyboard() {
    const collapsed = this.e.keyboard.classList.toggle("collapsed");
    this.e.keyboardToggle.setAttribute("aria-pressed", String(!collapsed));
  }

  async send(message) {
    if (!this.person) return;
    const input = this.e.input;
    const text = input.value.trim();
    input.value = "";
    this.fitInput();
    try {
      await this.actions.send(message);
    } catch (error) {
      input.value = text; // nothing was sent: keep what was typed
      this.snackbar(`${T.failed}: ${error.message}`);
    }
  }

  async attach(type) {
    if (!this.person) return;
    try {
      const attachment = await this.actions.addFile(type);
      await this.send({ text: this.e.input.value.trim(), attachments: [attachment] });
    } catch (error) {
      this.snackbar(`${T.failed}: ${error.message}`);
    }
  }

  async press(message, row, col, button, node) {
    const callback = button.action.type === "callback";
    if (callback) {
      node.classList.add("loading");
      node.setAttribute("aria-busy", "true");
    }
    try {
      const answer = await this.actions.press(message.id, row, col);
      if (callback) {
        const timer = setTimeout(() => this.settle(answer.event_id, T.noAnswer), CALLBACK_PATIENCE_MS);
        this.pending.set(answer.event_id, { node, timer });
      }
    } catch (error) {
      node.classList.remove("loading");
      node.removeAttribute("aria-busy");
      this.snackbar(`${T.failed}: ${error.message}`);
    }
  }

  /** The bot answered callback presses (messages.sendMessageEventAnswer): show what it asked for. */
  answerPresses(snackbars) {
    for (const { event_id: eventId, event_data: data } of snackbars) {
      if (!this.pending.has(eventId) || this.shownSnackbars.has(eventId)) continue;
      this.shownSnackbars.add(eventId);
      let text = null;
      if (data && data.type === "show_snackbar") text = data.text;
      else if (data && data.type === "open_link") text = `${T.openLink}: ${data.link}`;
      else if (data && data.type === "open_app") text = T.openApp;
      this.settle(eventId, text);
    }
  }

  settle(eventId, text) {
    const pending = this.pending.get(eventId);
    if (!pending) return;
    this.pending.delete(eventId);
    clearTimeout(pending.timer);
    pending.node.classList.remove("loading");
    pending.node.removeAttribute("aria-busy");
    if (text) this.snackbar(text);
  }

  snackbar(text) {
    const bar = this.e.snackbar;
    bar.textContent = text;
    bar.hidden = false;
    clearTimeout(this.snackbarTimer);
    this.snackbarTimer = setTimeout(() => {
      bar.hidden = true;
    }, SNACKBAR_SECONDS * 1000);
  }

  toggleForwardMenu() {
    if (!this.e.forwardMenu.hidden) {
      this.closeForwardMenu();
      return;
    }
    const mine = this.messages.filter((m) => m.from === "user").slice(-FORWARD_CHOICES).reverse();
    const items = mine.map((message) =>
      el("button", { type: "button", role: "menuitem", onclick: () => this.forward(message) }, preview(message)),
    );
    this.e.forwardMenu.replaceChildren(
      el("div", { class: "title" }, mine.length ? T.forwardTitle : T.forwardNothing),
      ...items,
    );
    this.e.forwardMenu.hidden = false;
    this.e.forward.setAttribute("aria-expanded", "true");
  }

  closeForwardMenu() {
    this.e.forwardMenu.hidden = true;
    this.e.forward.setAttribute("aria-expanded", "false");
  }

  /** Forward one of my messages to the bot, as VK's client does: the message object inside fwd_messages. */
  forward(message) {
    this.closeForwardMenu();
    const userId = this.person.id;
    const forwarded = {
      id: message.id,
      date: message.date,
      from_id: userId,
      text: message.text,
      attachments: message.attachments,
      conversation_message_id: message.conversation_message_id,
      peer_id: userId,
    };
    if (message.fwd_messages.length) forwarded.fwd_messages = message.fwd_messages;
    this.send({ text: this.e.input.value.trim(), fwd_messages: [forwarded] });
  }

}
