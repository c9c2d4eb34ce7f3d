// VK keyboards as buttons: the inline ones under a bot message, the regular one under the input.

import { el, safeUrl } from "./dom.js";
import { T } from "./texts.js";

const PRESSABLE = new Set(["text", "callback", "location"]); // what reaches the bot (the sandbox's press)

/**
 * The buttons of `keyboard`; `onPress(row, col, button, node)` for those that reach the bot.
 * open_link opens the link here, as VK's client does; vkpay and open_app only exist in VK's apps.
 */
export function keyboardNode(keyboard, onPress) {
  const rows = keyboard.buttons.map((row, rowIndex) =>
    el(
      "div",
      { class: "kb-row" },
      row.map((button, colIndex) => {
        const action = button.action || {};
        const label = action.label || (action.type === "location" ? T.location : action.type);
        const color = button.color || (action.type === "text" || action.type === "callback" ? "secondary" : "primary");
        const node = el("button", {
          type: "button",
          class: `kb-btn kb-${color}`,
          dataset: { type: action.type, row: rowIndex, col: colIndex },
          title: action.type === "open_link" ? `${T.linkButton}: ${action.link}` : label,
        });
        node.textContent = label;
        if (PRESSABLE.has(action.type)) {
          node.addEventListener("click", () => onPress(rowIndex, colIndex, button, node));
        } else if (action.type === "open_link" && safeUrl(action.link)) {
          node.addEventListener("click", () => window.open(safeUrl(action.link), "_blank", "noopener"));
        } else {
          node.disabled = true;
          node.title = T.userSideButton;
        }
        return node;
      }),
    ),
  );
  const name = keyboard.inline ? T.inlineKeyboard : T.regularKeyboard;
  return el("div", { class: "kb", role: "group", "aria-label": name }, rows);
}

/**
 * The regular keyboard the user sees now: the last one a bot message set (an empty one hides it),
 * gone after a press if it was one_time, as in VK's client.
 */
export function currentKeyboard(messages) {
  let current = null;
  for (const message of messages) {
    if (message.from === "bot" && message.keyboard && !message.keyboard.inline) {
      current = message.keyboard.buttons.length ? { message, keyboard: message.keyboard } : null;
    } else if (message.from === "user" && current && current.keyboard.one_time) {
      current = null;
    }
  }
  return current;
}
