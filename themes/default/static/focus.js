/* "/" focuses the search box on every page, unless the reader is typing somewhere. */
document.addEventListener("keydown", function (e) {
  var t = e.target, typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
    var box = document.getElementById("q") || document.getElementById("site-q");
    if (box) { e.preventDefault(); box.focus(); }
  }
});
