// Search as you type, for browsers with JavaScript: the page works without
// it (the form submits to /search). As the visitor types, the results below
// are replaced by those of the words typed so far, fetched from the same
// /search page the form would load, and the browser's own suggestion list
// offers titles, blog names and glossary terms from /suggest (OpenSearch
// suggestions, the format the browser's search bar also reads).
(function () {
  "use strict";
  var input = document.getElementById("q");
  var main = document.getElementById("main");
  if (!input || !main || !window.fetch || !window.DOMParser) {
    return;
  }
  var list = document.createElement("datalist");
  list.id = "q-suggestions";
  input.parentNode.appendChild(list);
  input.setAttribute("list", list.id);

  var timer = 0;
  var asked = input.value;
  var pending = null;

  function params(q) {
    var p = new URLSearchParams();
    p.set("q", q);
    var hl = document.querySelector('form.search input[name="hl"]');
    if (hl) {
      p.set("hl", hl.value);
    }
    return p;
  }

  function suggest(q) {
    fetch(input.getAttribute("data-suggest") + "?" + params(q), { headers: { Accept: "application/x-suggestions+json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s || s[0] !== input.value.trim()) {
          return; // a later keystroke has moved on
        }
        while (list.firstChild) {
          list.removeChild(list.firstChild);
        }
        s[1].forEach(function (text) {
          var o = document.createElement("option");
          o.value = text;
          list.appendChild(o);
        });
      })
      .catch(function () {});
  }

  function results(q) {
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    var url = "/search?" + params(q);
    fetch(url, { signal: pending.signal, headers: { Accept: "text/html" } })
      .then(function (r) { return r.text().then(function (t) { return { status: r.status, text: t }; }); })
      .then(function (r) {
        if (r.status !== 200 && r.status !== 400) {
          return; // rate-limited or failing: leave the page as it is
        }
        var doc = new DOMParser().parseFromString(r.text, "text/html");
        var fresh = doc.getElementById("main");
        if (!fresh) {
          return;
        }
        main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes).map(function (n) {
          return document.importNode(n, true);
        }));
        document.title = doc.title;
        history.replaceState(null, "", url);
        main.setAttribute("data-live", q);
      })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (q === asked) {
        return;
      }
      asked = q;
      if (q !== "") {
        suggest(q);
      }
      results(q);
    }, 250);
  });
})();
