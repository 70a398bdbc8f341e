/* dossier search: runs from file:// and from any host. Index files are classic scripts injected
 * with <script src> (no fetch, modules, workers or WASM, which file:// blocks); each one calls
 * dossierSearch.add(name, data). Everything taken from the index is put on the page as text. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script.src.replace(/static\/search\.js(?:[?#].*)?$/, "");
  var store = {};
  var waiting = {};
  window.dossierSearch = {
    add: function (name, data) {
      store[name] = data;
      (waiting[name] || []).forEach(function (w) { w.resolve(data); });
      delete waiting[name];
    }
  };
  // The set of articles of facet value `id` (its place in the manifest's list). Its file is
  // named by kind and slug, which stay put when values come or go, so that one new entity
  // does not move every other value's file.
  function loadSet(manifest, id) {
    var f = manifest.facets[id];
    return load("f/" + f[0] + "/" + f[1]);
  }

  // Article number `doc`'s fragment, named by the article's page: an n/ file lists the page
  // names of `manifest.names` articles by number. Numbers move when an older article comes
  // in; page names do not, so neither do the fragments.
  function loadDoc(manifest, doc) {
    return load("n/" + Math.floor(doc / manifest.names)).then(function (names) {
      return load("d/" + names[doc % manifest.names]);
    });
  }

  function load(name) {
    if (Object.prototype.hasOwnProperty.call(store, name)) return Promise.resolve(store[name]);
    return new Promise(function (resolve, reject) {
      var first = !waiting[name];
      (waiting[name] = waiting[name] || []).push({ resolve: resolve, reject: reject });
      if (!first) return;
      var tag = document.createElement("script");
      tag.src = base + "search/" + name + ".js";
      tag.onerror = function () {
        (waiting[name] || []).forEach(function (w) { w.reject(new Error("missing " + name)); });
        delete waiting[name];
      };
      document.head.appendChild(tag);
    });
  }

  var STOP = "a an and are as at be been but by for from had has have he her his in is it its of on or she that the their them they this to was were which who will with".split(" ");
  var CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/;
  var WORD = /[\p{L}\p{N}]/u;
  function foldChar(c) { return c.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  function fold(text) { return Array.from(text).map(foldChar).join(""); }
  function tokens(text) {
    var out = [], word = "";
    function flush() {
      if (word && STOP.indexOf(word) < 0 && (Array.from(word).length > 1 || /^\d+$/.test(word))) out.push(word);
      word = "";
    }
    Array.from(fold(text)).forEach(function (c) {
      if (CJK.test(c)) { flush(); out.push(c); } else if (WORD.test(c)) { word += c; } else { flush(); }
    });
    flush();
    return out;
  }
  function chars(s) { return Array.from(s); }
  function prefix(s, n) { return chars(s).slice(0, n).join(""); }
  function hex(s) { return Array.from(new TextEncoder().encode(s)).map(function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join(""); }

  // Numbers packed five bits a character, with a continuation bit (see search.rs, varints).
  var DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  function numbers(text) {
    var out = [], n = 0, scale = 1;
    for (var i = 0; i < text.length; i++) {
      var v = DIGITS.indexOf(text[i]);
      n += (v & 31) * scale;
      if (v & 32) { scale *= 32; } else { out.push(n); n = 0; scale = 1; }
    }
    return out;
  }
  function decodeSet(data, total) {
    var set = new Set();
    if (data.gaps !== undefined) { var d = 0; numbers(data.gaps).forEach(function (g) { d += g; set.add(d); }); return set; }
    var bin = atob(data.bits);
    for (var i = 0; i < bin.length; i++) {
      var byte = bin.charCodeAt(i);
      for (var b = 0; b < 8; b++) if (byte & (1 << b)) set.add(i * 8 + b);
    }
    return set;
  }

  // The shard of a segment that holds `term`: its prefix, lengthened while the segment split it.
  function shardKey(segment, term) {
    var splits = segment.splitSet || (segment.splitSet = new Set(segment.splits)), k = 1;
    while (splits.has(prefix(term, k)) && chars(term).length > k) k++;
    return prefix(term, k);
  }
  // BM25, with the statistics of the whole dossier (search.rs writes the same constants).
  var K1 = 1.2, B = 0.75;
  // Term -> {postings: doc -> [score, paragraph], exact} for an exact term, or for every term
  // starting with it. Each segment holds its own articles' postings: a term's document
  // frequency is the sum of the segments', and each posting is [gap, tf, length, paragraph].
  function lookup(manifest, term, asPrefix) {
    var loads = [];
    manifest.segments.forEach(function (segment, number) {
      var keys = asPrefix
        // A shard whose prefix has a space holds word pairs only, which prefixes do not match.
        ? segment.shards.filter(function (k) { return (k.indexOf(term) === 0 && k.indexOf(" ") < 0) || term.indexOf(k) === 0; })
        : [shardKey(segment, term)].filter(function (k) { return segment.shards.indexOf(k) >= 0; });
      keys.forEach(function (k) {
        loads.push(load("t/" + number + "/" + hex(k)).then(function (shard) { return [segment.start, shard]; }));
      });
    });
    return Promise.all(loads).then(function (shards) {
      var found = new Map();
      shards.forEach(function (loaded) {
        var shard = loaded[1];
        Object.keys(shard).forEach(function (t) {
          var exact = t === term;
          if (!exact && !(asPrefix && t.indexOf(term) === 0 && t.indexOf(" ") < 0)) return;
          var entry = found.get(t);
          if (!entry) found.set(t, entry = { df: 0, raw: [], exact: exact });
          var list = numbers(shard[t]), doc = loaded[0];
          entry.df += list[0];
          for (var i = 1; i + 3 < list.length; i += 4) {
            doc += list[i];
            entry.raw.push([doc, list[i + 1], list[i + 2], list[i + 3]]);
          }
        });
      });
      var n = manifest.docs, average = manifest.length || 1, out = new Map();
      found.forEach(function (entry, t) {
        var idf = Math.log((n - entry.df + 0.5) / (entry.df + 0.5) + 1), postings = new Map();
        entry.raw.forEach(function (p) {
          var tf = p[1], norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * p[2] / average));
          postings.set(p[0], [Math.max(1, Math.round(idf * norm * 100)), p[3]]);
        });
        out.set(t, { postings: postings, exact: entry.exact });
      });
      return out;
    });
  }

  function parse(query) {
    var phrases = [], rest = query.replace(/"([^"]*)"/g, function (_, p) { phrases.push(tokens(p)); return " "; });
    return { words: tokens(rest), phrases: phrases.filter(function (p) { return p.length > 0; }) };
  }

  // One query unit (a word, or a phrase) -> Map doc -> {score, paragraph, terms}.
  function unitWord(manifest, word) {
    return lookup(manifest, word, chars(word).length >= 3).then(function (found) {
      var docs = new Map();
      found.forEach(function (entry, term) {
        var weight = entry.exact ? 1 : 0.8;
        entry.postings.forEach(function (v, doc) {
          var score = v[0] * weight, cur = docs.get(doc);
          if (!cur) docs.set(doc, { score: score, paragraph: v[1], terms: [term] });
          else { cur.terms.push(term); if (score > cur.score) { cur.score = score; cur.paragraph = v[1]; } }
        });
      });
      return docs;
    });
  }
  function unitPhrase(manifest, words) {
    if (words.length === 1) return unitWord(manifest, words[0]);
    var pairs = [];
    for (var i = 0; i + 1 < words.length; i++) pairs.push(words[i] + " " + words[i + 1]);
    return Promise.all(pairs.map(function (p) { return lookup(manifest, p, false); })).then(function (lists) {
      var docs = null;
      lists.forEach(function (found, i) {
        var postings = found.get(pairs[i]) ? found.get(pairs[i]).postings : new Map();
        var next = new Map();
        postings.forEach(function (v, doc) {
          if (docs && !docs.has(doc)) return;
          var prev = docs ? docs.get(doc) : { score: 0, paragraph: v[1], terms: [] };
          next.set(doc, { score: prev.score + v[0] * 2, paragraph: prev.paragraph || v[1], terms: prev.terms.concat(words) });
        });
        docs = next;
      });
      return docs || new Map();
    });
  }

  // Entities whose name or alias the query names.
  function entityMatches(manifest, query) {
    var q = fold(query).trim().replace(/\s+/g, " ");
    if (chars(q).length < 2) return [];
    var out = [];
    manifest.facets.forEach(function (f, id) {
      if (f[0] === "year") return;
      var names = [fold(f[2])].concat(f[5]);
      var exact = names.indexOf(q) >= 0;
      var starts = chars(q).length >= 3 && names.some(function (n) { return n.indexOf(q) === 0; });
      if (exact || starts) out.push({ id: id, exact: exact, facet: f });
    });
    out.sort(function (a, b) { return (b.exact - a.exact) || (b.facet[4] - a.facet[4]) || (a.facet[2] < b.facet[2] ? -1 : 1); });
    return out.slice(0, 5);
  }

  function run(manifest, query, filters) {
    var parsed = parse(query);
    var units = parsed.words.map(function (w) { return unitWord(manifest, w); })
      .concat(parsed.phrases.map(function (p) { return unitPhrase(manifest, p); }));
    var entities = entityMatches(manifest, query);
    var exact = entities.filter(function (e) { return e.exact; });
    return Promise.all([
      Promise.all(units),
      Promise.all(exact.map(function (e) { return loadSet(manifest, e.id); })),
      Promise.all(filters.map(function (id) { return loadSet(manifest, id); }))
    ]).then(function (loaded) {
      var results = null;
      loaded[0].forEach(function (docs) {
        if (results === null) { results = docs; return; }
        var next = new Map();
        docs.forEach(function (v, doc) {
          var cur = results.get(doc);
          if (cur) next.set(doc, { score: cur.score + v.score, paragraph: cur.score >= v.score ? cur.paragraph : v.paragraph, terms: cur.terms.concat(v.terms) });
        });
        results = next;
      });
      results = results || new Map();
      // An alias names its entity: "Bowibu" finds the Ministry of State Security's articles.
      loaded[1].forEach(function (data) {
        decodeSet(data, manifest.docs).forEach(function (doc) {
          var cur = results.get(doc);
          if (cur) cur.score += 100; else results.set(doc, { score: 100, paragraph: 0, terms: [] });
        });
      });
      // Facets: OR within a kind, AND across kinds.
      var byKind = {};
      filters.forEach(function (id, i) {
        var kind = manifest.facets[id][0];
        var set = decodeSet(loaded[2][i], manifest.docs);
        byKind[kind] = byKind[kind] ? new Set(Array.from(byKind[kind]).concat(Array.from(set))) : set;
      });
      Object.keys(byKind).forEach(function (kind) {
        results.forEach(function (_, doc) { if (!byKind[kind].has(doc)) results.delete(doc); });
      });
      // Articles are numbered oldest first; on equal scores the newer comes first.
      var ranked = Array.from(results.entries()).sort(function (a, b) { return (b[1].score - a[1].score) || (b[0] - a[0]); });
      return { ranked: ranked, entities: entities, terms: parsed.words.concat.apply(parsed.words, parsed.phrases) };
    });
  }

  // ---- the page ----
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }
  // The text with every word that starts like a query term in <mark>.
  function highlighted(text, terms) {
    var out = document.createDocumentFragment(), word = "", start = 0, parts = [];
    var cs = chars(text);
    function flush(end) {
      if (!word) return;
      var f = fold(word);
      var hit = terms.some(function (t) { return t.indexOf(" ") < 0 ? f.indexOf(t) === 0 || t.indexOf(f) === 0 && f.length >= 3 : t.split(" ").indexOf(f) >= 0; });
      parts.push([start, end, hit]);
      word = "";
    }
    cs.forEach(function (c, i) { if (WORD.test(c)) { if (!word) start = i; word += c; } else flush(i); });
    flush(cs.length);
    var at = 0;
    parts.forEach(function (p) {
      if (!p[2]) return;
      out.appendChild(document.createTextNode(cs.slice(at, p[0]).join("")));
      out.appendChild(el("mark", {}, [cs.slice(p[0], p[1]).join("")]));
      at = p[1];
    });
    out.appendChild(document.createTextNode(cs.slice(at).join("")));
    return out;
  }
  function snippet(text, terms) {
    var cs = chars(text), folded = cs.map(foldChar), first = -1;
    for (var i = 0; i < cs.length && first < 0; i++) {
      if (i > 0 && WORD.test(cs[i - 1])) continue;
      var rest = folded.slice(i, i + 40).join("");
      if (terms.some(function (t) { return rest.indexOf(t.split(" ")[0]) === 0; })) first = i;
    }
    var from = Math.max(0, first - 80), to = Math.min(cs.length, Math.max(first, 0) + 200);
    return (from > 0 ? "…" : "") + cs.slice(from, to).join("") + (to < cs.length ? "…" : "");
  }

  // The index format this code reads (src/search.rs, INDEX_FORMAT).
  var FORMAT = "dossier search index, segments 4";

  var KINDS = [["place", "Places"], ["agency", "Agencies"], ["person", "People"], ["law", "Laws"], ["year", "Years"]];

  function start() {
    var form = document.getElementById("search-form");
    if (!form) return;
    var input = document.getElementById("q");
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    var entityList = document.getElementById("search-entities");
    var facetBox = document.getElementById("search-facets");
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    var selected = {};
    KINDS.forEach(function (k) { selected[k[0]] = params.getAll(k[0]); });
    var generation = 0;
    var PAGE = 10, shown = PAGE;

    load("manifest").then(function (manifest) {
      if (manifest.format !== FORMAT) {
        status.textContent = "This search page's code (search.js) and its index were made by different versions of dossier. Take search.js from the version that builds the dossier (dossier init writes it).";
        return;
      }
      // Fragments name their facet values as their files do (see loadSet).
      var facetByName = new Map(manifest.facets.map(function (f, id) { return [f[0] + "/" + f[1], id]; }));
      function facetId(kind, slug) {
        for (var i = 0; i < manifest.facets.length; i++) if (manifest.facets[i][0] === kind && manifest.facets[i][1] === slug) return i;
        return -1;
      }
      function saveState() {
        var p = new URLSearchParams();
        if (input.value) p.set("q", input.value);
        KINDS.forEach(function (k) { selected[k[0]].forEach(function (v) { p.append(k[0], v); }); });
        var url = location.pathname + (p.toString() ? "?" + p.toString() : "");
        try { history.replaceState(null, "", url); } catch (e) { /* some file:// setups refuse; the page still works */ }
      }
      function search() {
        var mine = ++generation;
        var query = input.value.trim();
        var filters = [];
        KINDS.forEach(function (k) { selected[k[0]].forEach(function (s) { var id = facetId(k[0], s); if (id >= 0) filters.push(id); }); });
        saveState();
        if (!query && !filters.length) { list.textContent = ""; entityList.textContent = ""; facetBox.textContent = ""; status.textContent = "Type to search the dossier."; return; }
        var began = performance.now();
        run(manifest, query, filters).then(function (r) {
          if (mine !== generation) return;
          var ranked = query ? r.ranked : [];
          if (!query) { // filters alone: every article of the selected values
            return Promise.all(filters.map(function (id) { return loadSet(manifest, id); })).then(function (sets) {
              var docs = null;
              sets.forEach(function (d, i) { var s = decodeSet(d, manifest.docs); docs = docs ? new Set(Array.from(docs).filter(function (x) { return s.has(x); })) : s; });
              show(Array.from(docs || []).sort(function (a, b) { return b - a; }).map(function (d) { return [d, { score: 0, paragraph: 0, terms: [] }]; }), [], [], began, mine);
            });
          }
          return show(ranked, r.entities, r.terms, began, mine);
        }).catch(function (e) { status.textContent = "Search failed: " + e.message; });
      }
      function show(ranked, entities, terms, began, mine) {
        entityList.textContent = "";
        entities.forEach(function (e) {
          var f = e.facet;
          entityList.appendChild(el("li", {}, [el("a", { href: base + f[3], class: "m m-" + f[0] }, [f[2]]), ": " + f[0] + ", " + f[4] + (f[4] === 1 ? " article" : " articles")]));
        });
        var top = ranked.slice(0, shown);
        return Promise.all(top.map(function (r) { return loadDoc(manifest, r[0]); })).then(function (docs) {
          if (mine !== generation) return;
          list.textContent = "";
          docs.forEach(function (doc, i) {
            var para = top[i][1].paragraph;
            var text = para > 0 ? doc.p[para - 1] : (doc.p[0] || "");
            var url = base + doc.u + (para > 0 ? "#p" + para : "");
            var item = el("li", {}, [
              el("a", { href: url, class: "result-title" }, [highlighted(doc.t, terms)]),
              doc.d ? el("span", { class: "date" }, [" " + doc.d]) : el("span", { class: "date undated" }, [" undated"]),
              el("p", { class: "snippet" }, [highlighted(snippet(text, terms.length ? terms : [""]), terms)])
            ]);
            list.appendChild(item);
          });
          var ms = Math.round(performance.now() - began);
          status.textContent = ranked.length + (ranked.length === 1 ? " article" : " articles") + (ranked.length > top.length ? ", best " + top.length + " shown" : "") + " (" + ms + " ms)";
          more.hidden = ranked.length <= top.length;
          return facets(ranked, docs);
        });
      }
      function facets(ranked, docs) {
        // The values most common among the shown articles, eight a kind, and the selected ones.
        var frequency = new Map();
        docs.forEach(function (d) {
          d.e.forEach(function (name) {
            var id = facetByName.get(name);
            if (id !== undefined) frequency.set(id, (frequency.get(id) || 0) + 1);
          });
        });
        var perKind = {};
        Array.from(frequency.entries()).sort(function (a, b) { return (b[1] - a[1]) || (a[0] - b[0]); }).forEach(function (entry) {
          var kind = manifest.facets[entry[0]][0];
          perKind[kind] = (perKind[kind] || []);
          if (perKind[kind].length < 8) perKind[kind].push(entry[0]);
        });
        var candidates = new Set();
        Object.keys(perKind).forEach(function (k) { perKind[k].forEach(function (id) { candidates.add(id); }); });
        KINDS.forEach(function (k) { selected[k[0]].forEach(function (s) { var id = facetId(k[0], s); if (id >= 0) candidates.add(id); }); });
        var ids = Array.from(candidates);
        var inResults = new Set(ranked.map(function (r) { return r[0]; }));
        return Promise.all(ids.map(function (id) { return loadSet(manifest, id); })).then(function (sets) {
          facetBox.textContent = "";
          KINDS.forEach(function (k) {
            var rows = [];
            ids.forEach(function (id, i) {
              var f = manifest.facets[id];
              if (f[0] !== k[0]) return;
              var count = 0;
              decodeSet(sets[i], manifest.docs).forEach(function (d) { if (inResults.has(d)) count++; });
              rows.push({ f: f, count: count, on: selected[k[0]].indexOf(f[1]) >= 0 });
            });
            if (!rows.length) return;
            rows.sort(function (a, b) { return (b.on - a.on) || (b.count - a.count) || (a.f[2] < b.f[2] ? -1 : 1); });
            var group = el("fieldset", {}, [el("legend", {}, [k[1]])]);
            rows.slice(0, 8).forEach(function (row) {
              var id = "facet-" + k[0] + "-" + row.f[1];
              var box = el("input", { type: "checkbox", id: id, value: row.f[1] });
              box.checked = row.on;
              box.addEventListener("change", function () {
                var list = selected[k[0]], at = list.indexOf(row.f[1]);
                if (box.checked && at < 0) list.push(row.f[1]);
                if (!box.checked && at >= 0) list.splice(at, 1);
                search();
              });
              group.appendChild(el("div", {}, [box, el("label", { for: id }, [row.f[2] + " (" + row.count + ")"])]));
            });
            facetBox.appendChild(group);
          });
        });
      }
      var timer = 0;
      var more = el("button", { type: "button", class: "more" }, ["Show more results"]);
      more.hidden = true;
      list.parentNode.appendChild(more);
      more.addEventListener("click", function () { shown += PAGE; search(); });
      input.addEventListener("input", function () { clearTimeout(timer); shown = PAGE; timer = setTimeout(search, 120); });
      form.addEventListener("submit", function (e) { e.preventDefault(); search(); });
      search();
    }).catch(function () { status.textContent = "The search index could not be loaded."; });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
