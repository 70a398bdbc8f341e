#!/usr/bin/env python3
"""Writes a Hugo site with the same articles as a built dossier, for scripts/bench.

Usage: hugo-site.py DOSSIER_JSON DOSSIER_SITE HUGO_SITE

Each article becomes content/posts/<slug>.md with its title, date and the places, agencies and
years dossier found as Hugo taxonomies, so Hugo renders comparable taxonomy pages.
"""
import json
import pathlib
import re
import sys

data = json.load(open(sys.argv[1], encoding="utf-8"))
source_root = pathlib.Path(sys.argv[2])
out = pathlib.Path(sys.argv[3])
posts = out / "content" / "posts"
posts.mkdir(parents=True, exist_ok=True)
(out / "layouts" / "_default").mkdir(parents=True, exist_ok=True)
(out / "hugo.toml").write_text(
    'baseURL = "https://example.org/"\ntitle = "Bench"\ndisableKinds = ["RSS", "sitemap", "robotsTXT"]\n'
    '[taxonomies]\nplace = "places"\nagency = "agencies"\nyear = "years"\n',
    encoding="utf-8",
)
base = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head><body>'
    '<main>{{ block "main" . }}{{ end }}</main></body></html>'
)
(out / "layouts" / "_default" / "baseof.html").write_text(base, encoding="utf-8")
(out / "layouts" / "_default" / "single.html").write_text(
    '{{ define "main" }}<h1>{{ .Title }}</h1>{{ .Content }}'
    '{{ range .GetTerms "places" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }}{{ end }}',
    encoding="utf-8",
)
(out / "layouts" / "_default" / "list.html").write_text(
    '{{ define "main" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}',
    encoding="utf-8",
)
(out / "layouts" / "_default" / "terms.html").write_text(
    '{{ define "main" }}<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a></li>{{ end }}</ul>{{ end }}',
    encoding="utf-8",
)
for article in data["articles"]:
    text = (source_root / article["source"]).read_text(encoding="utf-8")
    body = re.sub(r"^\+\+\+\n.*?\n\+\+\+\n", "", text, flags=re.S)
    front = {
        "title": article["title"],
        "places": article["places"],
        "agencies": article["agencies"],
        "years": [str(y) for y in article["years"]],
    }
    if article["date"]:
        front["date"] = article["date"]
    slug = article["url"].split("/")[-1].removesuffix(".html")
    (posts / f"{slug}.md").write_text(json.dumps(front, ensure_ascii=False) + "\n\n" + body, encoding="utf-8")
