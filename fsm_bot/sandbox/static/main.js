// The playground page: wires the three columns to the sandbox and keeps them live by polling what changed.

import { sandbox } from "./api.js";
import { Chat } from "./chat.js";
import { fullName } from "./dom.js";
import { People } from "./people.js";
import { Side } from "./side.js";
import { T } from "./texts.js";

const POLL_MS = 600; // the issue asks for updates within a second
const RETRY_MS = 2000; // while the sandbox does not answer
const BOT_SILENCE_MS = 5000; // no long poll held for this long: the bot is not connected

const $ = (id) => document.getElementById(id);

const state = {
  seq: 0,
  peopleDigest: "",
  chatDigest: "",
  userId: null,
  lastBotSeen: 0,
  timer: null,
  polling: false,
  again: false,
};

function nameOf(id) {
  if (id < 0) return T.botName;
  const person = people.byId(id);
  return person ? fullName(person) : `id${id}`;
}

const people = new People(
  { list: $("people-list"), toggle: $("new-user-toggle"), form: $("new-user-form") },
  {
    onSelect: (id) => select(id),
    onCreate: async (firstName, lastName) => {
      try {
        const user = await sandbox.addUser(firstName, lastName);
        select(user.id, { ...user, stream_role: null, study_group: null, last_bot_message_id: 0 });
        return true;
      } catch (error) {
        chat.snackbar(error.message);
        return false;
      }
    },
  },
);

const chat = new Chat(
  {
    messages: $("messages"),
    keyboard: $("keyboard"),
    keyboardToggle: $("keyboard-toggle"),
    snackbar: $("snackbar"),
    form: $("send-form"),
    input: $("input"),
    send: $("send"),
    photo: $("attach-photo"),
    doc: $("attach-doc"),
    forward: $("forward"),
    forwardMenu: $("forward-menu"),
    allow: $("allow-messages"),
    allowSwitch: $("allow-switch"),
    me: $("me"),
  },
  {
    nameOf,
    send: (message) => sandbox.send(state.userId, message).finally(pollSoon),
    press: (messageId, row, col) => sandbox.press(state.userId, messageId, row, col).finally(pollSoon),
    addFile: (type) => sandbox.addFile(state.userId, type),
    setAllow: (allowed) => sandbox.patchUser(state.userId, { allow_messages: allowed }).finally(pollSoon),
  },
);

const side = new Side(
  {
    stats: $("stats"),
    journal: $("journal"),
    faultButtons: document.querySelectorAll("[data-fault]"),
    pendingFaults: $("pending-faults"),
  },
  {
    fault: (target, kind, count) => sandbox.fault(target, kind, count).finally(pollSoon),
    nameOf,
    onError: (error) => chat.snackbar(error.message),
  },
);

/** Be person `id` from now on; `person` when the list does not have them yet (just created). */
function select(id, person = people.byId(id)) {
  state.userId = id;
  state.chatDigest = "";
  history.replaceState(null, "", `#user=${id}`);
  people.select(id);
  chat.open(person);
  pollSoon();
}

function showBotStatus(stats) {
  const now = Date.now();
  if (stats.held_polls > 0 || stats.callback_ok) state.lastBotSeen = now;
  const online = now - state.lastBotSeen < BOT_SILENCE_MS;
  const status = $("bot-status");
  status.textContent = online ? T.botOnline : T.botOffline;
  status.className = `bot-status ${online ? "online" : "offline"}`;
}

async function poll() {
  const params = { since: state.seq, people: state.peopleDigest, chat: state.chatDigest };
  if (state.userId !== null) params.user = state.userId;
  const answer = await sandbox.poll(params);
  if (answer.people) {
    people.setPeople(answer.people);
    state.peopleDigest = answer.people_digest;
    if (state.userId !== null && !chat.person && people.byId(state.userId)) chat.open(people.byId(state.userId));
  }
  side.addEntries(answer.journal);
  state.seq = answer.seq;
  side.showStats(answer.stats);
  showBotStatus(answer.stats);
  if ("chat" in answer && params.user === state.userId) {
    chat.update(answer.chat);
    state.chatDigest = answer.chat_digest;
  }
}

/** Poll now (after something the user did), or right after the poll in flight. */
function pollSoon() {
  if (state.polling) {
    state.again = true;
    return;
  }
  clearTimeout(state.timer);
  loop();
}

async function loop() {
  state.polling = true;
  let delay = POLL_MS;
  try {
    await poll();
    $("offline").hidden = true;
  } catch (error) {
    $("offline").hidden = false;
    delay = RETRY_MS;
  } finally {
    state.polling = false;
  }
  if (state.again) {
    state.again = false;
    delay = 0;
  }
  state.timer = setTimeout(loop, delay);
}

function start() {
  $("help-toggle").addEventListener("click", () => {
    const help = $("help");
    help.hidden = !help.hidden;
    $("help-toggle").setAttribute("aria-expanded", String(!help.hidden));
  });
  sandbox
    .community()
    .then((community) => {
      $("community-name").textContent = community.name;
    })
    .catch(() => {});
  const wanted = /user=(\d+)/.exec(location.hash);
  if (wanted) {
    state.userId = Number(wanted[1]);
    people.selectedId = state.userId;
  }
  loop();
}

start();
