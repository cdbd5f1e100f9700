// The counter listens to /events (server-sent events); the chat talks over /ws/chat.
// Everything from the server is shown with textContent: a message is never HTML.
"use strict";

function showError(id, text) {
  const el = document.getElementById(id);
  el.textContent = text || "";
  el.hidden = !text;
}

const events = new EventSource("/events");
events.addEventListener("counter", (e) => {
  document.getElementById("count").textContent = JSON.parse(e.data).count;
});
events.addEventListener("online", (e) => {
  const names = JSON.parse(e.data).names;
  document.getElementById("online").textContent = names.length ? names.join(", ") : "nobody yet";
});

async function add(amount) {
  const rv = await fetch("/api/counter", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({add: amount}),
  });
  showError("counter-error", rv.ok ? "" : (await rv.json()).error);
}
document.getElementById("plus").addEventListener("click", () => add(1));
document.getElementById("minus").addEventListener("click", () => add(-1));

let socket = null;
document.getElementById("join").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = e.target.elements.name.value;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/ws/chat?name=${encodeURIComponent(name)}`);
  socket.addEventListener("open", () => showError("chat-error", ""));
  socket.addEventListener("message", (m) => {
    const event = JSON.parse(m.data);
    if (event.type === "error") {
      showError("chat-error", event.error);
    } else if (event.type === "message") {
      const li = document.createElement("li");
      const who = document.createElement("b");
      who.textContent = event.name + ": ";
      li.append(who, event.text);
      document.getElementById("messages").append(li);
      showError("chat-error", "");
    } else if (event.type === "online") {
      document.getElementById("join").hidden = true;
      document.getElementById("say").hidden = false;
    }
  });
  socket.addEventListener("close", (c) => {
    document.getElementById("join").hidden = false;
    document.getElementById("say").hidden = true;
    if (c.code !== 1008) showError("chat-error", "Disconnected.");
  });
});
document.getElementById("say").addEventListener("submit", (e) => {
  e.preventDefault();
  socket.send(e.target.elements.text.value);
  e.target.elements.text.value = "";
});
