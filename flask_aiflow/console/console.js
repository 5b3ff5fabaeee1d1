// The flask-aiflow console: drives a simulated call through the console's JSON endpoint.
// Everything from the server is shown with textContent, never as HTML.
"use strict";

(function () {
  const api = document.body.dataset.api;
  const $ = (id) => document.getElementById(id);
  let callId = null;
  let busy = false;
  let state = { ended: true, playing: false };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function describeAction(action) {
    if (!action) return "nothing";
    switch (action.type) {
      case "speak": return "speak \u201c" + (action.text || action.ssml) + "\u201d" +
        (action.user_input_timeout_seconds ? " (timeout " + action.user_input_timeout_seconds + " s)" : "");
      case "audio": return "audio clip";
      case "transfer": return "transfer to " + action.target_phone_number;
      case "hangup": return "hangup";
      case "barge_in": return "barge_in";
      default: return action.type;
    }
  }

  function describeEvent(event) {
    let text = event.type;
    if (event.type === "user_speak") text += " \u201c" + event.text + "\u201d" + (event.barged_in ? " (barged in)" : "");
    if (event.type === "assistant_speak") text += " (" + event.duration_ms + " ms)";
    return text;
  }

  function renderDecision(decision) {
    const box = el("div", "decision");
    box.appendChild(el("div", "rule", "decision: " + (decision.winner ? decision.winner + " won" : "no winner") +
      " \u2014 " + decision.rule));
    if (decision.candidates.length) {
      const table = el("table", "candidates");
      const head = el("tr");
      ["skill", "priority", "outcome", "proposed"].forEach((h) => head.appendChild(el("th", null, h)));
      table.appendChild(head);
      decision.candidates.forEach((c) => {
        const row = el("tr", "candidate " + c.outcome);
        row.appendChild(el("td", "skill", c.skill));
        row.appendChild(el("td", null, String(c.priority)));
        row.appendChild(el("td", null, c.outcome + (c.lost_to ? " by " + c.lost_to : "")));
        row.appendChild(el("td", null, describeAction(c.action) + (c.reason ? " [" + c.reason + "]" : "")));
        table.appendChild(row);
      });
      box.appendChild(table);
    }
    decision.failures.forEach((f) => box.appendChild(el("div", "failure", f.skill + " " + f.kind + ": " + f.message)));
    decision.notes.forEach((n) => box.appendChild(el("div", "note", n)));
    return box;
  }

  function renderTurn(turn) {
    const item = el("li", "turn");
    item.appendChild(el("h2", null, turn.step.replace("_", " ") + (turn.text ? ": \u201c" + turn.text + "\u201d" : "")));
    if (turn.dropped) item.appendChild(el("div", "dropped", "dropped: " + turn.dropped));
    turn.exchanges.forEach((exchange) => {
      const box = el("div", "exchange");
      box.appendChild(el("div", "event", "\u2192 " + describeEvent(exchange.event)));
      box.appendChild(el("div", "action", "\u2190 " + describeAction(exchange.action)));
      if (exchange.action && exchange.action.type === "speak") {
        box.appendChild(el("div", "assistant-line", exchange.action.text || exchange.action.ssml));
      }
      if (exchange.decision) box.appendChild(renderDecision(exchange.decision));
      item.appendChild(box);
    });
    turn.notes.forEach((n) => item.appendChild(el("div", "note", n)));
    $("log").appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function play(turn) {
    if (!$("voice").checked) return;
    turn.exchanges.forEach((exchange) => {
      const action = exchange.action;
      if (!action) return;
      try {
        if (action.type === "speak" && "speechSynthesis" in window) {
          const text = action.text || action.ssml.replace(/<[^>]*>/g, " ");
          window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
        } else if (action.type === "audio") {
          new Audio("data:audio/wav;base64," + action.audio).play().catch(() => {});
        } else if (action.type === "barge_in" && "speechSynthesis" in window) {
          window.speechSynthesis.cancel();
        }
      } catch (err) {
        // Sound is a bonus; the transcript is what matters.
      }
    });
  }

  function refresh() {
    const inCall = callId !== null && !state.ended;
    $("controls").hidden = !inCall;
    $("start").disabled = busy || inCall;
    ["say", "silence", "hangup", "utterance"].forEach((id) => { $(id).disabled = busy || !inCall; });
    $("barge").disabled = busy || !inCall || !state.playing;
    $("speech-ends").disabled = busy || !inCall || !state.playing;
  }

  function setStatus(text, isError) {
    $("status").textContent = text;
    $("status").className = isError ? "error" : "";
  }

  async function step(op, extra) {
    busy = true;
    refresh();
    try {
      const response = await fetch(api, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ op: op, call: callId }, extra || {})),
      });
      const data = await response.json().catch(() => ({ error: "HTTP " + response.status }));
      if (!response.ok) throw new Error(data.error || "HTTP " + response.status);
      if (op === "start") {
        callId = data.call;
        $("log").textContent = "";
      }
      state = data;
      renderTurn(data.turn);
      play(data.turn);
      if (data.ended) {
        setStatus("Call ended: " + data.end_reason + ".");
      } else {
        setStatus(data.playing ? "In call \u2014 the assistant is speaking." :
          "In call \u2014 the assistant is listening" + (data.timeout_armed ? " (timeout " + data.timeout_armed + " s)." : "."));
      }
    } catch (err) {
      setStatus("Error: " + err.message, true);
    } finally {
      busy = false;
      refresh();
    }
  }

  function utterance() {
    const text = $("utterance").value.trim();
    $("utterance").value = "";
    return text;
  }

  $("start").addEventListener("click", () => step("start", { from: $("from").value, to: $("to").value }));
  $("say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = utterance();
    step(text ? "say" : "silence", text ? { text: text } : {});
  });
  $("silence").addEventListener("click", () => step("silence"));
  $("barge").addEventListener("click", () => {
    const text = utterance();
    if (!text) { setStatus("Type what the caller says to barge in with.", true); return; }
    step("barge_in", { text: text, after_ms: parseInt($("after").value, 10) || 0 });
  });
  $("speech-ends").addEventListener("click", () => step("speech_ends"));
  $("hangup").addEventListener("click", () => step("hang_up"));

  // Speech input where the browser has the Web Speech API.
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  if (Recognition) {
    $("mic").hidden = false;
    $("mic").addEventListener("click", () => {
      const recognition = new Recognition();
      recognition.lang = navigator.language || "en-US";
      recognition.onresult = (event) => {
        const text = event.results[0][0].transcript;
        if (text) step(state.playing ? "barge_in" : "say", { text: text, after_ms: 0 });
      };
      recognition.onerror = (event) => setStatus("Speech input failed: " + event.error, true);
      recognition.start();
      setStatus("Listening\u2026");
    });
  }

  refresh();
})();
