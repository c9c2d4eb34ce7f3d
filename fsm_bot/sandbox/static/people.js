// The «Люди» column: the demo stream grouped by study group and role, anyone else below, and a new user form.

import { avatar, el, fullName } from "./dom.js";
import { ROLE_NOTES, ROLE_TITLES, T } from "./texts.js";

const ROLES_IN_GROUP = ["headman", "deputy", "student"];

/** Sections of the list: the stream admin, each study group (sorted) by role, then everyone else. */
function sections(people) {
  const admins = people.filter((p) => p.stream_role === "admin");
  const groups = new Map();
  const others = [];
  for (const person of people) {
    if (person.stream_role === "admin") continue;
    if (!person.study_group) {
      others.push(person);
      continue;
    }
    if (!groups.has(person.study_group)) groups.set(person.study_group, []);
    groups.get(person.study_group).push(person);
  }
  const result = [];
  if (admins.length) result.push({ title: ROLE_TITLES.admin, parts: [{ people: admins }] });
  for (const name of [...groups.keys()].sort()) {
    const members = groups.get(name);
    const parts = ROLES_IN_GROUP.map((role) => ({
      title: ROLE_TITLES[role],
      people: members.filter((p) => p.stream_role === role),
    })).filter((part) => part.people.length);
    result.push({ title: name, parts });
  }
  if (others.length) result.push({ title: T.otherPeople, parts: [{ people: others }] });
  return result;
}

function note(person) {
  if (person.deactivated) return T.deleted;
  if (!person.member) return T.leftCommunity;
  if (!person.allow_messages) return T.noMessagesAllowed;
  return null;
}

export function roleNote(person) {
  const role = person.stream_role ? ROLE_NOTES[person.stream_role] : null;
  return [role, person.study_group].filter(Boolean).join(" ");
}

export class People {
  constructor({ list, toggle, form }, { onSelect, onCreate }) {
    this.list = list;
    this.onSelect = onSelect;
    this.people = [];
    this.selectedId = null;
    this.seen = new Map(); // person id -> the last bot message id seen in their chat
    this.revealSelected = false;
    toggle.addEventListener("click", () => {
      form.hidden = !form.hidden;
      toggle.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.elements.first_name.focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const created = await onCreate(form.elements.first_name.value.trim(), form.elements.last_name.value.trim());
      if (created) {
        form.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
      }
    });
  }

  byId(id) {
    return this.people.find((p) => p.id === id) || null;
  }

  /** The person's chat is on screen: their bot messages up to now count as read. */
  markSeen(id) {
    const person = this.byId(id);
    if (person) this.seen.set(id, person.last_bot_message_id);
  }

  setPeople(people) {
    this.people = people;
    if (this.selectedId !== null) this.markSeen(this.selectedId);
    this.render();
  }

  select(id) {
    this.selectedId = id;
    this.markSeen(id);
    this.revealSelected = true; // a new user joins the end of the list, maybe only with the next poll
    this.render();
  }

  render() {
    const scroll = this.list.scrollTop;
    const nodes = sections(this.people).map((section) =>
      el(
        "section",
        { class: "people-group", "aria-label": section.title },
        el("h3", {}, section.title),
        section.parts.map((part) => [part.title ? el("h4", {}, part.title) : null, part.people.map((p) => this.row(p))]),
      ),
    );
    this.list.replaceChildren(...nodes);
    this.list.scrollTop = scroll;
    const selected = this.list.querySelector('.person[aria-current="true"]');
    if (this.revealSelected && selected) {
      selected.scrollIntoView({ block: "nearest" });
      this.revealSelected = false;
    }
  }

  row(person) {
    const unread = person.last_bot_message_id > (this.seen.get(person.id) || 0) && person.id !== this.selectedId;
    const extra = note(person);
    return el(
      "button",
      {
        type: "button",
        class: "person",
        dataset: { id: person.id },
        "aria-current": person.id === this.selectedId ? "true" : "false",
        title: [roleNote(person), `id ${person.id}`].filter(Boolean).join(", "),
        onclick: () => this.onSelect(person.id),
      },
      avatar(person),
      el("span", { class: "name" }, fullName(person), extra ? el("span", { class: "note" }, extra) : null),
      unread ? el("span", { class: "dot", title: T.unread }) : null,
    );
  }
}
