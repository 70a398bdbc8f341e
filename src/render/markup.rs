//! Article markup: paragraphs as HTML with entity and year mentions linked, Markdown blocks with
//! raw HTML shown as text and unsafe links dropped. Everything from an article is escaped here.

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

use crate::catalog::EntityKey;
use crate::clean::{Paragraph, Role};
use crate::config::RawHtml;
use crate::extract::Mention;

/// A stretch of a paragraph to wrap in a link.
pub struct Span {
    /// Byte offset where the link starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// The opening tag.
    pub open: String,
}

impl Span {
    /// The link of an entity mention, for a page `root` levels below the output root.
    pub fn entity(mention: &Mention, root: &str) -> Span {
        let mut open = String::with_capacity(64);
        push_entity_link_open(&mut open, &mention.entity, root);
        Span {
            start: mention.start,
            end: mention.end,
            open,
        }
    }
}

/// Appends the opening tag of a link to `key`'s page, classed by its kind, for a page `root`
/// levels below the output root: the one form of an entity link in an article's text and in
/// its metadata panel.
pub fn push_entity_link_open(out: &mut String, key: &EntityKey, root: &str) {
    out.push_str("<a class=\"m m-");
    out.push_str(key.kind.as_str());
    out.push_str("\" href=\"");
    out.push_str(root);
    // The parts of `key.url()`, without making it (this runs for every mention on every
    // page); the folder is a plain word, the slug is escaped as any text.
    out.push_str(key.kind.folder());
    out.push('/');
    escape_into(out, &key.slug);
    out.push_str(".html\">");
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

/// Appends `text` to `out`, escaped as [`escape`] does.
///
/// Every page's text goes through here. The five characters are found with `memchr`'s
/// vectorized searches (`&<>` and `"'`, each set searched again only past the place it last
/// matched), and the runs between them copied whole: a loop over every byte was a sixteenth of
/// a full build's instructions.
pub fn escape_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let end = bytes.len();
    let markup =
        |from: usize| memchr::memchr3(b'&', b'<', b'>', &bytes[from..]).map_or(end, |i| from + i);
    let quote =
        |from: usize| memchr::memchr2(b'"', b'\'', &bytes[from..]).map_or(end, |i| from + i);
    let (mut next_markup, mut next_quote) = (markup(0), quote(0));
    let mut start = 0;
    loop {
        let at = next_markup.min(next_quote);
        let entity = match bytes.get(at) {
            None => break,
            Some(b'&') => "&amp;",
            Some(b'<') => "&lt;",
            Some(b'>') => "&gt;",
            Some(b'"') => "&quot;",
            Some(_) => "&#39;",
        };
        // These bytes are ASCII characters, so `at` is a character boundary.
        out.push_str(&text[start..at]);
        out.push_str(entity);
        start = at + 1;
        if at == next_markup {
            next_markup = markup(start);
        } else {
            next_quote = quote(start);
        }
    }
    out.push_str(&text[start..]);
}

/// `text`, escaped, with the spans wrapped in their links. Overlapping spans are skipped.
pub fn linked_text(text: &str, spans: &[Span]) -> String {
    let mut order: Vec<&Span> = spans.iter().collect();
    order.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0;
    for span in order {
        if span.start < at
            || span.end > text.len()
            || !text.is_char_boundary(span.start)
            || !text.is_char_boundary(span.end)
        {
            continue;
        }
        escape_into(&mut out, &text[at..span.start]);
        out.push_str(&span.open);
        escape_into(&mut out, &text[span.start..span.end]);
        out.push_str("</a>");
        at = span.end;
    }
    escape_into(&mut out, &text[at..]);
    out
}

/// A paragraph as HTML with the id `p{index + 1}`.
pub fn paragraph_html(
    paragraph: &Paragraph,
    index: usize,
    spans: &[Span],
    raw_html: RawHtml,
) -> String {
    let id = index + 1;
    if let Some(events) = paragraph.markdown_events() {
        return markdown_html(&events, id, spans, raw_html);
    }
    // Pushed a piece at a time: this runs for every paragraph of every article, and `format!`
    // spends a few hundred instructions on each string it is given.
    let mut number = itoa::Buffer::new();
    let id = number.format(id);
    let inner = linked_text(&paragraph.text, spans);
    let mut out = String::with_capacity(inner.len() + 96);
    out.push_str(match paragraph.role {
        Role::Caption => "<p class=caption id=p",
        Role::CaptionLabel => "<p class=caption-label id=p",
        _ => "<p id=p",
    });
    out.push_str(id);
    out.push('>');
    out.push_str(&inner);
    if paragraph.role != Role::CaptionLabel {
        out.push_str(" <a class=pilcrow href=#p");
        out.push_str(id);
        out.push_str(" aria-label=\"Paragraph ");
        out.push_str(id);
        out.push_str("\">¶</a>");
    }
    out.push_str("</p>");
    out
}

/// Renders a Markdown block with an id on its first tag, mentions linked inside text, raw HTML
/// shown as text, and links kept only when they point somewhere safe.
fn markdown_html(block: &[Event<'_>], id: usize, spans: &[Span], raw_html: RawHtml) -> String {
    let mut events: Vec<Event<'_>> = Vec::with_capacity(block.len());
    let mut offset = 0usize;
    let mut depth = 0usize;
    let mut link_depth = 0usize;
    for event in block {
        match event {
            Event::Text(text) => {
                let len = text.len();
                let here: Vec<&Span> = spans
                    .iter()
                    .filter(|s| s.start >= offset && s.end <= offset + len)
                    .collect();
                if here.is_empty() || link_depth > 0 {
                    events.push(event.clone());
                } else {
                    let shifted: Vec<Span> = here
                        .iter()
                        .map(|s| Span {
                            start: s.start - offset,
                            end: s.end - offset,
                            open: s.open.clone(),
                        })
                        .collect();
                    events.push(Event::Html(CowStr::from(linked_text(text, &shifted))));
                }
                offset += len;
            }
            Event::Code(text) => {
                offset += text.len();
                events.push(event.clone());
            }
            Event::SoftBreak | Event::HardBreak => {
                offset += 1;
                events.push(event.clone());
            }
            Event::Html(html) | Event::InlineHtml(html) => match raw_html {
                RawHtml::Escape => events.push(Event::Text(html.clone())),
                // Passed through here, cleaned with the whole block below.
                RawHtml::Sanitize => events.push(event.clone()),
            },
            Event::Start(tag) => {
                depth += 1;
                match tag {
                    Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        id,
                    } => {
                        link_depth += 1;
                        let dest = if is_safe_url(dest_url) {
                            dest_url.clone()
                        } else {
                            CowStr::from("#")
                        };
                        events.push(Event::Start(Tag::Link {
                            link_type: *link_type,
                            dest_url: dest,
                            title: title.clone(),
                            id: id.clone(),
                        }));
                    }
                    Tag::Image { .. } => {
                        // Images from other hosts would break offline reading: show the alt text.
                        events.push(Event::Start(Tag::Emphasis));
                    }
                    _ => events.push(event.clone()),
                }
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                match end {
                    TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::Heading(_)
                        if depth > 0 =>
                    {
                        offset += 1
                    }
                    _ => {}
                }
                match end {
                    TagEnd::Link => {
                        link_depth = link_depth.saturating_sub(1);
                        events.push(event.clone());
                    }
                    TagEnd::Image => events.push(Event::End(TagEnd::Emphasis)),
                    _ => events.push(event.clone()),
                }
            }
            _ => events.push(event.clone()),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    if raw_html == RawHtml::Sanitize {
        html = sanitize(&html);
    }
    // The block's first tag gets the paragraph id.
    if let Some(end) = html.find(['>', ' ']).filter(|_| html.starts_with('<')) {
        html.insert_str(end, &format!(" id=p{id}"));
        html
    } else {
        format!("<div id=p{id}>{html}</div>")
    }
}

/// Cleans a block's HTML with ammonia: scripts, event handlers, frames, styles, images and unsafe
/// URLs go; dossier's own mention links (`class`) stay.
fn sanitize(html: &str) -> String {
    // Images are dropped too: files from other hosts would break offline reading, and the
    // dossier does not copy image files.
    ammonia::Builder::default()
        .add_tag_attributes("a", &["class"])
        .rm_tags(["img"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(None)
        .clean(html)
        .to_string()
}

/// Links that may stay in an article: web and mail addresses, and relative links. Script URLs
/// (`javascript:`, `data:`, `vbscript:`) and anything else with a scheme are dropped.
pub fn is_safe_url(url: &str) -> bool {
    let lower: String = url
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_lowercase();
    match lower.split_once(':') {
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// True for `http:` and `https:` addresses.
pub fn is_web_url(url: &str) -> bool {
    let lower = url.trim().to_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::Markup;

    #[test]
    fn script_urls_are_unsafe() {
        assert!(!is_safe_url("javascript:alert(1)"));
        assert!(!is_safe_url(" JaVa\tScript:alert(1)"));
        assert!(!is_safe_url("data:text/html,x"));
        assert!(is_safe_url("https://example.org/a"));
        assert!(is_safe_url("../places/x.html#p1"));
    }

    #[test]
    fn plain_paragraphs_have_their_id_and_anchor_by_role() {
        for role in [Role::Text, Role::Caption, Role::CaptionLabel] {
            let paragraph = Paragraph {
                text: "Guards in Hyesan & <b>".to_string(),
                role,
                line: 3,
                markup: Markup::Plain,
            };
            let spans = [Span {
                start: 10,
                end: 16,
                open: "<a href=x>".to_string(),
            }];
            let inner = "Guards in <a href=x>Hyesan</a> &amp; &lt;b&gt;";
            let anchor = " <a class=pilcrow href=#p12 aria-label=\"Paragraph 12\">¶</a>";
            let expected = match role {
                Role::Caption => format!("<p class=caption id=p12>{inner}{anchor}</p>"),
                Role::CaptionLabel => format!("<p class=caption-label id=p12>{inner}</p>"),
                _ => format!("<p id=p12>{inner}{anchor}</p>"),
            };
            assert_eq!(
                paragraph_html(&paragraph, 11, &spans, RawHtml::Escape),
                expected
            );
        }
    }

    #[test]
    fn entity_links_open_with_the_escaped_page_of_the_entity() {
        for kind in crate::catalog::Kind::ALL {
            for slug in ["hyesan", "a&b", "x\"y'<z>", "회령"] {
                let key = EntityKey {
                    kind,
                    slug: slug.into(),
                };
                let mut out = String::new();
                push_entity_link_open(&mut out, &key, "../");
                let expected = format!(
                    "<a class=\"m m-{}\" href=\"../{}\">",
                    kind.as_str(),
                    escape(&key.url())
                );
                assert_eq!(out, expected);
            }
        }
    }

    #[test]
    fn escape_replaces_the_five_characters_and_keeps_the_rest() {
        assert_eq!(escape(""), "");
        assert_eq!(escape("회령 “x”"), "회령 “x”");
        assert_eq!(
            escape("<a href=\"x\">Kim's & Ri's</a>회"),
            "&lt;a href=&quot;x&quot;&gt;Kim&#39;s &amp; Ri&#39;s&lt;/a&gt;회"
        );
        assert_eq!(escape("&&"), "&amp;&amp;");
        let mut out = String::from("kept ");
        escape_into(&mut out, "<");
        assert_eq!(out, "kept &lt;");
    }

    /// The escaping of one character at a time that [`escape_into`] must agree with.
    fn escaped_char_by_char(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => "&quot;".to_string(),
                '\'' => "&#39;".to_string(),
                c => c.to_string(),
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn escape_agrees_with_escaping_char_by_char(text in "[<>&\"'a회 ]{0,40}|\\PC{0,80}") {
            proptest::prop_assert_eq!(escape(&text), escaped_char_by_char(&text));
        }
    }

    #[test]
    fn linked_text_escapes_and_links() {
        let spans = [Span {
            start: 3,
            end: 11,
            open: "<a href=\"x.html\">".into(),
        }];
        assert_eq!(
            linked_text("In Hoeryong <b>", &spans),
            "In <a href=\"x.html\">Hoeryong</a> &lt;b&gt;"
        );
    }
}
