// Answering a task that waits for input: the card with its question and form, and the POST.

import { authHeaders, ensureToken } from "./api.js";
import { $, h } from "./dom.js";

/**
 * The input form's value: JSON when the text parses as JSON ({"ok": true}, 42, "quoted"),
 * else the text itself as a string (yes). POST /tasks/<id>/input; true once it was taken (the
 * page is then loaded again), false when it was not (the form says why).
 */
export async function giveInput(event, id, question) {
  event.preventDefault();
  const text = $("#input-value").value;
  const button = $("#input-form button");
  $("#input-error")?.remove();
  const refuse = (message) => $("#input-form").append(h("p", { class: "error", id: "input-error" }, message));
  // A click on an empty box is not an answer: sent, "" would resume the task (an approval
  // graph's edited draft, empty). An empty string is sent as "" typed in.
  if (text.trim() === "") {
    refuse('Nothing to send: type the answer first ("" sends an empty string).');
    return false;
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  button.disabled = true;
  try {
    await ensureToken();
    const res = await fetch(`/tasks/${encodeURIComponent(id)}/input`, {
      method: "POST",
      headers: { ...authHeaders(), "content-type": "application/json" },
      // The question this page shows: refused (409) if someone else answered it meanwhile.
      body: JSON.stringify({ value, question }),
    });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    }
  } catch (err) {
    button.disabled = false;
    refuse(err.message);
    return false;
  }
  return true;
}

/** What a task waiting for input asks, and the form that answers; the inputs given so far. */
export function inputCard(t) {
  const asking = t.status === "input_required";
  return h(
    "section",
    { class: "card", id: "input-card" },
    h("h2", {}, asking ? "Waiting for input" : "Inputs given"),
    asking ? h("pre", { id: "input-request" }, JSON.stringify(t.input_request ?? null, null, 2)) : null,
    t.inputs?.length
      ? h("ol", { id: "inputs-given" }, ...t.inputs.map((v) => h("li", { class: "mono" }, JSON.stringify(v))))
      : null,
    asking
      ? h(
          "form",
          { id: "input-form" },
          h("textarea", {
            id: "input-value",
            rows: "3",
            placeholder: 'The answer: JSON ({"approve": true}, 42, "text") or plain text',
            "aria-label": "input value",
          }),
          h("button", { type: "submit" }, "Send input"),
        )
      : null,
  );
}
