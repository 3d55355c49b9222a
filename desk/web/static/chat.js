// Web chat: sends the citizen's messages to /api/chat and shows the assistant's replies.
(() => {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const status = document.getElementById("status");
  const sendButton = document.getElementById("send");

  const senderKey = "citydesk-sender";
  let sender = localStorage.getItem(senderKey);
  if (!sender) {
    sender = "web-" + (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
    localStorage.setItem(senderKey, sender);
  }

  function linkify(text) {
    // Build text and link nodes; never inject HTML from a message.
    const fragment = document.createDocumentFragment();
    const pattern = /(https?:\/\/[^\s<>"')]+)/g;
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      fragment.append(text.slice(last, match.index));
      const a = document.createElement("a");
      a.href = match[0];
      a.textContent = match[0];
      a.target = "_blank";
      a.rel = "noopener";
      fragment.append(a);
      last = match.index + match[0].length;
    }
    fragment.append(text.slice(last));
    return fragment;
  }

  function show(author, text, buttons) {
    const item = document.createElement("li");
    item.className = "message " + author;
    if (text) {
      const body = document.createElement("p");
      body.append(linkify(text));
      item.append(body);
    }
    if (buttons && buttons.length) {
      const row = document.createElement("div");
      row.className = "buttons";
      for (const b of buttons) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", () => send(b.payload, b.title));
        row.append(button);
      }
      item.append(row);
    }
    log.append(item);
    item.scrollIntoView({ block: "end" });
  }

  function newMessageId() {
    // the pipeline's platform message id: a retry of the same message is never answered twice
    return "m-" + (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
  }

  async function send(message, shown) {
    const messageId = newMessageId();
    show("citizen", shown || message);
    status.textContent = "…";
    sendButton.disabled = true;
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender, message, message_id: messageId }),
      });
      const data = await response.json();
      if (!response.ok) {
        const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : data.detail;
        show("system", detail || "Something went wrong. Please try again.");
      } else if (!data.length) {
        show("system", "No reply this time. Please rephrase your message.");
      } else {
        for (const reply of data) show("bot", reply.text, reply.buttons);
      }
    } catch (error) {
      show("system", "The city's assistant cannot be reached. Please check your connection and try again.");
    } finally {
      status.textContent = "";
      sendButton.disabled = false;
      input.focus();
    }
  }

  async function pollStaffAnswers() {
    try {
      const response = await fetch("/api/chat/updates?sender=" + encodeURIComponent(sender));
      if (response.ok) {
        for (const message of await response.json()) show("staff", message.text);
      }
    } catch (error) {
      // offline for a moment: the next poll delivers what is waiting
    }
  }
  setInterval(pollStaffAnswers, 4000);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = input.value.trim();
    if (!message) return;
    input.value = "";
    send(message);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
