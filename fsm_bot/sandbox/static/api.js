// The sandbox's control API as the playground uses it: the page is an ordinary client of /sandbox/.

export class SandboxError extends Error {}

async function request(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["content-type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new SandboxError(data.error || `HTTP ${response.status}`);
  }
  return data;
}

export const sandbox = {
  /** What changed since the page last asked (see playground.py). */
  poll: (params) => request("GET", `/sandbox/playground/poll?${new URLSearchParams(params)}`),
  community: () => request("GET", "/sandbox/community"),
  addUser: (firstName, lastName) => request("POST", "/sandbox/users", { first_name: firstName, last_name: lastName }),
  patchUser: (userId, changes) => request("PATCH", `/sandbox/users/${userId}`, changes),
  /** message: {text, payload, attachments, fwd_messages} */
  send: (userId, message) => request("POST", `/sandbox/users/${userId}/send`, message),
  press: (userId, messageId, row, col) =>
    request("POST", `/sandbox/users/${userId}/press`, { message_id: messageId, row, col }),
  /** A small generated photo or document of this user's, as an attachment object to send. */
  addFile: (userId, type, name) =>
    request("POST", `/sandbox/playground/users/${userId}/files`, name ? { type, name } : { type }),
  fault: (target, kind, count) => request("POST", "/sandbox/faults", { target, kind, count }),
};
