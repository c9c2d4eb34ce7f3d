// Every word the playground shows, in Russian like the bot; the event log's wording of journal entries.

export const ROLE_TITLES = {
  admin: "Администратор потока",
  headman: "Староста",
  deputy: "Заместитель",
  student: "Студенты",
};

export const ROLE_NOTES = {
  admin: "администратор потока",
  headman: "староста",
  deputy: "заместитель старосты",
  student: "студент",
};

export const T = {
  otherPeople: "Другие пользователи",
  noMessagesAllowed: "не разрешил(а) сообщения",
  leftCommunity: "не в сообществе",
  deleted: "удалён(а)",
  pickSomeone: "Выберите человека слева, чтобы написать боту от его имени.",
  noConversation: "Диалога ещё нет. Нажмите «Начать» или напишите что-нибудь — например, «помощь» или «меню».",
  newcomer: "Это новый человек: напишите боту что угодно, и он начнёт знакомство.",
  start: "Начать",
  writingAs: "Вы пишете как",
  botMessage: "Сообщение бота",
  yourMessage: "Ваше сообщение",
  edited: "ред.",
  photo: "Фото",
  document: "Документ",
  forwarded: "Пересланное сообщение",
  reply: "В ответ на",
  forwardTitle: "Какое из ваших сообщений переслать?",
  forwardNothing: "Пока нечего пересылать: сначала напишите что-нибудь.",
  botName: "бот",
  botOnline: "бот в сети",
  botOffline: "бот не подключён",
  userGone: "Этого человека больше нет в песочнице (её сбросили?). Выберите другого.",
  openLink: "Бот открывает ссылку",
  openApp: "Бот открывает приложение",
  linkButton: "Откроет ссылку",
  location: "📍 Отправить местоположение",
  inlineKeyboard: "Кнопки сообщения",
  regularKeyboard: "Клавиатура",
  unread: "Новые сообщения от бота",
  userSideButton: "Эта кнопка работает только в приложении ВКонтакте",
  noAnswer: "Бот не ответил на нажатие",
  pendingFaults: (n) => (n ? `Ждут своего запроса: ${n}.` : ""),
  failed: "Не получилось",
};

export const STAT_LABELS = [
  ["callsPerSecond", "Вызовов в секунду"],
  ["calls", "Вызовов методов"],
  ["requests", "Запросов к API"],
  ["rate_limited", "Отказано по лимиту (ошибка 6)"],
  ["errors", "Ошибок API (с учётом сбоев)"],
  ["delivered", "Доставлено копий"],
  ["deduplicated", "Отброшено повторов (random_id)"],
  ["events", "Событий для бота"],
];

const ERROR_NAMES = {
  1: "неизвестная ошибка",
  3: "неизвестный метод",
  5: "ошибка авторизации",
  6: "слишком много запросов в секунду",
  7: "нет прав",
  9: "flood control",
  10: "внутренняя ошибка сервера",
  12: "код не компилируется",
  13: "ошибка выполнения кода",
  14: "нужна капча",
  15: "доступ запрещён",
  18: "пользователь удалён",
  100: "неверный параметр",
  901: "пользователь не разрешил сообщения",
  911: "неверная клавиатура",
  914: "сообщение слишком длинное",
  917: "нет доступа к беседе",
  925: "бот не администратор беседы",
};

const FAULT_NAMES = {
  http_500: "ответ 500",
  disconnect: "разрыв соединения",
  failed_1: "failed: 1 (история устарела)",
  failed_2: "failed: 2 (ключ истёк)",
  failed_3: "failed: 3 (информация потеряна)",
};

const LONGPOLL_FAILED = {
  1: "failed: 1 — бот возьмёт новый ts",
  2: "failed: 2 — бот запросит новый ключ",
  3: "failed: 3 — бот запросит новый сервер",
};

function faultName(kind) {
  return typeof kind === "number" ? `ошибка ${kind}` : FAULT_NAMES[kind] || kind;
}

function plural(n, one, few, many) {
  const tens = n % 100;
  const units = n % 10;
  if (tens >= 11 && tens <= 14) return many;
  if (units === 1) return one;
  if (units >= 2 && units <= 4) return few;
  return many;
}

function recipients(entry, nameOf) {
  if (!entry.recipients) return "";
  const count = entry.recipient_count || entry.recipients.length;
  if (count === 1) return ` → ${nameOf(entry.recipients[0])}`;
  return ` → ${count} ${plural(count, "получатель", "получателя", "получателей")}`;
}

function calls(entry) {
  if (!entry.calls) return "";
  const parts = Object.entries(entry.calls).map(([method, n]) => (n > 1 ? `${method} ×${n}` : method));
  const failed = entry.inner_errors ? `, неудачных: ${entry.inner_errors}` : "";
  return parts.length ? ` (${parts.join(", ")}${failed})` : "";
}

const UPDATE_WORDS = {
  message_new: (who, entry) => {
    const extras = [
      entry.attachments ? `вложений: ${entry.attachments}` : null,
      entry.forwarded ? `пересланных: ${entry.forwarded}` : null,
    ].filter(Boolean);
    const text = entry.text ? `«${entry.text}»` : extras.length ? "" : "сообщение";
    return `${who}: ${[text, ...extras].filter(Boolean).join(", ")}`;
  },
  message_event: (who) => `${who} нажимает callback-кнопку`,
  message_allow: (who) => `${who} разрешает сообщения сообщества`,
  message_deny: (who) => `${who} запрещает сообщения сообщества`,
  group_join: (who) => `${who} вступает в сообщество`,
  group_leave: (who) => `${who} выходит из сообщества`,
  message_reply: () => "бот отправил сообщение",
  message_edit: () => "бот отредактировал сообщение",
};

/** One journal entry as a line of the event log: {text, error}. */
export function describe(entry, nameOf) {
  switch (entry.kind) {
    case "api": {
      const head = `API ${entry.method}`;
      if (entry.error !== undefined) {
        const why = ERROR_NAMES[entry.error] || "ошибка";
        const injected = entry.fault !== undefined ? " (сбой)" : "";
        return { text: `${head}${recipients(entry, nameOf)} ✖ ошибка ${entry.error}: ${why}${injected}`, error: true };
      }
      if (entry.fault !== undefined) {
        return { text: `${head} ✖ ${faultName(entry.fault)} (сбой)`, error: true };
      }
      return { text: `${head}${recipients(entry, nameOf)}${calls(entry)}`, error: false };
    }
    case "update": {
      const who = entry.user_id ? nameOf(entry.user_id) : "кто-то";
      const words = UPDATE_WORDS[entry.type];
      const what = words ? words(who, entry) : entry.type;
      const unwanted = entry.wanted ? "" : " (бот на них не подписан)";
      return { text: `Событие ${entry.type}: ${what}${unwanted}`, error: false };
    }
    case "longpoll": {
      if (entry.fault !== undefined) return { text: `Long poll ✖ ${faultName(entry.fault)} (сбой)`, error: true };
      if (entry.failed !== undefined) return { text: `Long poll ✖ ${LONGPOLL_FAILED[entry.failed]}`, error: true };
      const n = entry.count;
      const types = [...new Set(entry.updates)].join(", ");
      return { text: `Long poll: бот забрал ${n} ${plural(n, "событие", "события", "событий")} (${types})`, error: false };
    }
    case "fault": {
      const where = entry.target === "*" ? "для всех методов" : entry.target === "longpoll" ? "для long poll" : `для ${entry.target}`;
      const times = entry.count > 1 ? ` × ${entry.count}` : "";
      return { text: `Сбой включён: ${faultName(entry.fault)}${times} ${where}`, error: false };
    }
    case "reset":
      return { text: entry.demo ? "Песочница сброшена, демо-поток создан заново" : "Песочница сброшена", error: false };
    default:
      return { text: entry.kind, error: false };
  }
}

export function formatTime(seconds, withSeconds = false) {
  const date = new Date(seconds * 1000);
  const options = { hour: "2-digit", minute: "2-digit" };
  if (withSeconds) options.second = "2-digit";
  return date.toLocaleTimeString("ru-RU", options);
}

export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} Б`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} КБ`;
  return `${(bytes / 1024 / 1024).toFixed(1)} МБ`;
}
