// The run page: draws the run graph from its JSON and redraws it on each server-sent event.
(function () {
  "use strict";
  var graph = JSON.parse(document.getElementById("graph-data").textContent);
  var root = graph.root;
  var open = {};

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function when(ts) { return ts ? new Date(ts * 1000).toLocaleString() : ""; }
  function took(a, b) {
    if (!a || !b) return "";
    var s = b - a;
    return s < 1 ? Math.round(s * 1000) + " ms" : s < 120 ? s.toFixed(1) + " s" : (s / 60).toFixed(1) + " min";
  }
  function status(text) { return el("span", "status " + text, text); }
  function json(v) { return typeof v === "string" ? v : JSON.stringify(v, null, 2); }
  // args, results and step values come as their stored JSON text (clipped when long)
  function value(text) {
    if (text === null || text === undefined) return null;
    try { return JSON.parse(text); } catch (e) { return text; }
  }

  function stepStatus(step) {
    if (step.failed) return "failed";
    if (step.kind === "sleep") return step.finished && step.finished > graph.now ? "waiting" : "done";
    if (step.child && graph.jobs[step.child]) return graph.jobs[step.child].status;
    return step.done ? "done" : "waiting";
  }

  function details(job) {
    var d = el("div", "details");
    d.appendChild(el("div", "meta", "job " + job.id + " · version " + job.version + " · rounds " + job.rounds + " · started " + when(job.started) + " · took " + took(job.started, job.finished)));
    d.appendChild(el("div", null, "args")); d.appendChild(el("pre", "args", json(value(job.args))));
    if (job.error) { d.appendChild(el("div", null, "error")); d.appendChild(el("pre", "error", json(job.error))); }
    else if (job.finished) { d.appendChild(el("div", null, "result")); d.appendChild(el("pre", "result", json(value(job.result)))); }
    var logs = el("pre", "logs", "…");
    d.appendChild(el("div", null, "logs")); d.appendChild(logs);
    if (open[job.id]) {
      fetch("/runs/" + root + "/jobs/" + job.id + "/logs", {credentials: "same-origin"})
        .then(function (r) { return r.text(); }).then(function (t) { logs.textContent = t || "(no logs)"; });
    }
    return d;
  }

  function approvalLine(job, step) {
    var line = el("div", "stepline approval");
    line.appendChild(el("span", "kind", "approval"));
    line.appendChild(el("code", null, step.key));
    line.appendChild(document.createTextNode(" "));
    var st = stepStatus(step);
    line.appendChild(status(st));
    var info = graph.approvals[job.id + "/" + step.key];
    var decided = value(step.value);
    if (step.done && decided && typeof decided === "object") {
      line.appendChild(el("span", "meta", " " + (decided.approved ? "approved" : "rejected") +
        (decided.approver ? " by " + decided.approver : "") + " · " + json(decided.value)));
    } else if (job.status === "suspended" && job.waiting_on === step.key) {
      if (info && info.timeout_at) line.appendChild(el("span", "meta", " times out " + when(info.timeout_at)));
      var b = el("button", "links-button", "Get links");
      var box = el("div", "links");
      b.onclick = function () {
        var body = new URLSearchParams({csrf: window.WAC_CSRF});
        fetch("/runs/" + root + "/jobs/" + job.id + "/approvals/" + encodeURIComponent(step.key) + "/links",
              {method: "POST", body: body, credentials: "same-origin"})
          .then(function (r) { return r.json(); }).then(function (urls) {
            box.textContent = "";
            ["approvalPage", "resume", "cancel"].forEach(function (k) {
              if (!urls[k]) return;
              var a = el("a", null, k); a.href = urls[k]; a.target = "_blank"; box.appendChild(a);
            });
          });
      };
      line.appendChild(b); line.appendChild(box);
    }
    return line;
  }

  function node(jobId) {
    var job = graph.jobs[jobId];
    var n = el("div", "node" + (open[jobId] ? " open" : ""));
    n.id = "node-" + jobId;
    var head = el("div", "head");
    head.appendChild(el("span", "name", job.parent ? (job.parent_key || job.name) : job.script));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(status(job.status));
    if (job.error && job.status !== "failed" && job.status !== "cancelled") {
      head.appendChild(el("span", "kind retrying", "retrying after " + (job.error.name || "an error")));
    }
    head.appendChild(el("span", "meta", " " + took(job.started, job.finished)));
    head.onclick = function () { open[jobId] = !open[jobId]; render(); };
    n.appendChild(head);
    n.appendChild(details(job));
    var steps = graph.steps[jobId] || [];
    if (steps.length) {
      var list = el("div", "steps-list");
      var i = 0;
      while (i < steps.length) {
        var s = steps[i];
        if (s.child && graph.jobs[s.child]) {
          // Children created together were dispatched together: parallel branches, side by side.
          var created = graph.jobs[s.child].created, group = [];
          while (i < steps.length && steps[i].child && graph.jobs[steps[i].child] &&
                 graph.jobs[steps[i].child].created === created) { group.push(steps[i]); i++; }
          var row = el("div", group.length > 1 ? "parallel" : "serial");
          group.forEach(function (g) { row.appendChild(node(g.child)); });
          list.appendChild(row);
          continue;
        }
        if (s.kind === "approval") { list.appendChild(approvalLine(job, s)); i++; continue; }
        var line = el("div", "stepline " + s.kind);
        line.appendChild(el("span", "kind", s.kind));
        line.appendChild(el("code", null, s.key));
        line.appendChild(document.createTextNode(" "));
        line.appendChild(status(stepStatus(s)));
        if (s.kind === "sleep") line.appendChild(el("span", "meta", " wakes " + when(s.finished)));
        else line.appendChild(el("span", "meta", " " + took(s.started, s.finished)));
        if (s.value !== undefined && s.kind !== "sleep") line.title = s.value;
        list.appendChild(line);
        i++;
      }
      n.appendChild(list);
    }
    return n;
  }

  function render() {
    var box = document.getElementById("graph");
    box.textContent = "";
    box.appendChild(node(root));
    var st = document.getElementById("run-status");
    st.textContent = graph.jobs[root].status;
    st.className = "status " + graph.jobs[root].status;
    var finished = ["succeeded", "failed", "cancelled"].indexOf(graph.jobs[root].status) >= 0;
    document.getElementById("cancel-form").style.display = finished ? "none" : "";
  }

  render();
  if (window.EventSource) {
    var es = new EventSource("/runs/" + root + "/events");
    es.addEventListener("graph", function (e) { graph = JSON.parse(e.data); render(); });
    es.onerror = function () { document.getElementById("live").textContent = "reconnecting…"; };
    es.onopen = function () { document.getElementById("live").textContent = "live"; };
  }
})();
