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

  // Each reply has an id: one that comes twice (in a response and from /updates, after a retry) is shown once.
  // `after` (the highest id shown) tells the desk what arrived: what a lost response carried comes again.
  const shownIds = new Set();
  const lastIdKey = "citydesk-last-reply";
  let lastId = Number(localStorage.getItem(lastIdKey)) || 0; // kept with the sender: a reload shows nothing again
  function showReplies(replies) {
    for (const reply of replies) {
      if (reply.id != null) {
        if (shownIds.has(reply.id)) continue;
        shownIds.add(reply.id);
        lastId = Math.max(lastId, reply.id);
        localStorage.setItem(lastIdKey, String(lastId));
      }
      const author = reply.pending ? "system" : reply.author === "staff" ? "staff" : "bot";
      show(author, reply.text, reply.buttons);
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const RETRY_FOR_MS = 120000; // the desk restarts within seconds; after two minutes, say so

  async function post(body) {
    // A refused connection or a 502/503/504 (the desk restarting) is retried with the same message id, so the
    // message is kept once and answered once.
    const started = Date.now();
    for (let wait = 1000; ; wait = Math.min(wait * 2, 8000)) {
      try {
        const response = await fetch("/api/chat", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        if (![502, 503, 504].includes(response.status)) return response;
      } catch (error) {
        // not reachable: retried below
      }
      if (Date.now() - started > RETRY_FOR_MS) return null;
      status.textContent = "Reconnecting…";
      await sleep(wait);
    }
  }

  async function send(message, shown) {
    const messageId = newMessageId();
    show("citizen", shown || message);
    status.textContent = "…";
    sendButton.disabled = true;
    try {
      const response = await post({ sender, message, message_id: messageId, after: lastId });
      if (response === null) {
        show("system", "The city's assistant cannot be reached. Please check your connection and try again.");
        return;
      }
      const data = await response.json();
      if (!response.ok) {
        const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : data.detail;
        show("system", detail || "Something went wrong. Please try again.");
      } else if (!data.length) {
        show("system", "No reply this time. Please rephrase your message.");
      } else {
        showReplies(data);
      }
    } catch (error) {
      show("system", "Something went wrong. Please try again.");
    } finally {
      status.textContent = "";
      sendButton.disabled = false;
      input.focus();
    }
  }

  async function pollUpdates() {
    // staff answers, and the assistant's answers to messages kept while it was down
    try {
      const response = await fetch("/api/chat/updates?sender=" + encodeURIComponent(sender) + "&after=" + lastId);
      if (response.ok) showReplies(await response.json());
    } catch (error) {
      // offline for a moment: the next poll delivers what is waiting
    }
  }
  setInterval(pollUpdates, 3000);

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
