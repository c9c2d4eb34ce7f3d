// A tiny element builder: text goes in as text nodes, never as HTML, so what users and the bot write is shown as is.

// Attributes a browser follows or loads: only safe URLs go in (see safeUrl), whoever built the node.
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href"]);

/**
 * `url` if the page may link to it or show it: http(s), or a path of the sandbox itself; otherwise null.
 * The sandbox refuses other links already (attachments.py); this is the second line, for anything that
 * slips by. `new URL` normalizes as the browser will ("java\tscript:", leading spaces), so the check
 * sees the scheme the browser would act on.
 */
export function safeUrl(url) {
  if (typeof url !== "string" || url === "") return null;
  let parsed;
  try {
    parsed = new URL(url, location.href);
  } catch {
    return null;
  }
  return parsed.protocol === "http:" || parsed.protocol === "https:" ? url : null;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (URL_ATTRIBUTES.has(name) && safeUrl(value) === null) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const AVATAR_COLORS = ["#e8795f", "#f0a04b", "#5ba4e6", "#65b36a", "#9f7ad9", "#5fb7b0", "#d9738f", "#8a9bb0"];

export function avatar(person) {
  const initials = `${person.first_name[0] || ""}${person.last_name[0] || ""}`;
  const color = AVATAR_COLORS[person.id % AVATAR_COLORS.length];
  return el("span", { class: "avatar", style: `background:${color}`, "aria-hidden": "true" }, initials);
}

export function fullName(person) {
  return `${person.first_name} ${person.last_name}`;
}
