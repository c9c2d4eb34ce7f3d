// One message of the chat as VK draws it: a bubble with text, attachments as labelled placeholders,
// forwarded messages quoted, «ред.» after an edit, and the inline keyboard under a bot message.

import { el, safeUrl } from "./dom.js";
import { keyboardNode } from "./keyboards.js";
import { formatSize, formatTime, T } from "./texts.js";

function photoUrl(photo) {
  const sizes = photo.sizes || [];
  return sizes.length ? safeUrl(sizes[sizes.length - 1].url) : null;
}

export function attachmentNode(attachment) {
  const type = attachment.type;
  const item = attachment[type] || {};
  if (type === "photo") {
    const url = photoUrl(item);
    return el(
      url ? "a" : "div",
      { class: "attachment attachment-photo", href: url, target: url ? "_blank" : null, dataset: { type } },
      el("span", { class: "icon", "aria-hidden": "true" }, "📷"),
      el("span", {}, T.photo),
    );
  }
  if (type === "doc") {
    const title = item.title || T.document;
    const url = safeUrl(item.url); // a javascript: or data: "document" is shown, not linked
    return el(
      url ? "a" : "div",
      { class: "attachment attachment-doc", href: url, download: url ? title : null, dataset: { type } },
      el("span", { class: "icon", "aria-hidden": "true" }, "📎"),
      el("span", {}, title, item.size !== undefined ? el("span", { class: "size" }, formatSize(item.size)) : null),
    );
  }
  return el(
    "div",
    { class: "attachment", dataset: { type } },
    el("span", { class: "icon", "aria-hidden": "true" }, "📎"),
    el("span", {}, type),
  );
}

function quoteNode(message, label, nameOf) {
  return el(
    "div",
    { class: "forward" },
    el("span", { class: "label" }, label),
    el("span", { class: "who" }, nameOf(message.from_id)),
    message.text ? el("div", { class: "text" }, message.text) : null,
    (message.attachments || []).map(attachmentNode),
    (message.fwd_messages || []).map((inner) => quoteNode(inner, T.forwarded, nameOf)),
  );
}

/** The node of one message; `onPress(message, row, col, button, node)` for its inline buttons. */
export function messageNode(message, { nameOf, onPress }) {
  const mine = message.from === "user";
  const bubble = el(
    "div",
    { class: "bubble" },
    message.reply_message ? quoteNode(message.reply_message, T.reply, nameOf) : null,
    message.text ? el("div", { class: "text" }, message.text) : null,
    message.attachments.map(attachmentNode),
    message.fwd_messages.map((forwarded) => quoteNode(forwarded, T.forwarded, nameOf)),
    el(
      "div",
      { class: "meta" },
      message.update_time ? el("span", { class: "edited", title: formatTime(message.update_time, true) }, T.edited) : null,
      el("time", {}, formatTime(message.date)),
    ),
  );
  const keyboard = message.keyboard;
  const inline =
    !mine && keyboard && keyboard.inline && keyboard.buttons.length
      ? keyboardNode(keyboard, (row, col, button, node) => onPress(message, row, col, button, node))
      : null;
  return el(
    "div",
    {
      class: `msg ${mine ? "user" : "bot"}`,
      role: "article",
      dataset: { id: message.id, cmid: message.conversation_message_id },
      "aria-label": mine ? T.yourMessage : T.botMessage,
    },
    bubble,
    inline,
  );
}
