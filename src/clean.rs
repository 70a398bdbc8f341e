//! Cleaning: removes scraped page furniture by the rules of `site.toml` and splits the body into
//! paragraphs (plain text) or top-level blocks (Markdown).
//!
//! Knows no site: every rule comes from the configuration. Removed text is returned, never
//! dropped silently. Pure: no I/O.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::FurnitureRules;
use crate::source::{Format, Source};

/// What a paragraph is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Running text.
    Text,
    /// A photo caption (a line that carried a photo credit).
    Caption,
    /// The short label shown above a photo caption.
    CaptionLabel,
    /// A Markdown heading of the given level.
    Heading(u8),
    /// Any other top-level Markdown block (list, quote, table, code).
    Block,
}

/// One paragraph of an article: the unit of citation (`#p3`) and of extraction.
#[derive(Debug, Clone)]
pub struct Paragraph {
    /// Its plain text, what extraction reads and mention offsets refer to.
    pub text: String,
    /// What kind of paragraph it is.
    pub role: Role,
    /// The file line it starts on.
    pub line: usize,
    /// How it is marked up: plain text, or Markdown.
    pub markup: Markup,
}

/// How a paragraph is marked up.
#[derive(Debug, Clone, PartialEq)]
pub enum Markup {
    /// Plain text, from a text article.
    Plain,
    /// A Markdown paragraph of text and soft line breaks only, kept as where its text events
    /// end in its plain text rather than as the events: they would repeat the text. Most
    /// Markdown paragraphs are such, and their events, a text copied into each, were a fifth of
    /// a large build's heap. [`Paragraph::markdown_events`] makes the events again.
    Text(Vec<TextEnd>),
    /// Any other Markdown block: its events.
    Events(Vec<Event<'static>>),
}

/// Where a text event of a [`Markup::Text`] paragraph ends, every one but the last (which
/// ends with the paragraph), and whether a soft line break (a space in the plain text)
/// follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextEnd {
    /// The byte offset in the paragraph's plain text where the event ends.
    pub at: usize,
    /// True when a soft line break follows.
    pub soft_break: bool,
}

impl Markup {
    /// The markup of a Markdown block whose plain text is `text` and events `events`:
    /// [`Markup::Text`] when the events can be made again from the text, exactly.
    fn of_markdown(text: &str, events: Vec<Event<'_>>) -> Markup {
        if let Some(ends) = text_ends(text, &events)
            && text_events(text, &ends).as_deref() == Some(&events[..])
        {
            return Markup::Text(ends);
        }
        Markup::Events(events.into_iter().map(Event::into_static).collect())
    }
}

/// Where the text events of a paragraph of text and soft breaks only end in its plain text
/// `text` (see [`TextEnd`]); `None` for any other block.
fn text_ends(text: &str, events: &[Event<'_>]) -> Option<Vec<TextEnd>> {
    let [
        Event::Start(Tag::Paragraph),
        inner @ ..,
        Event::End(TagEnd::Paragraph),
    ] = events
    else {
        return None;
    };
    let mut ends: Vec<TextEnd> = Vec::new();
    let mut at = 0;
    for event in inner {
        match event {
            Event::Text(piece) => {
                at += piece.len();
                ends.push(TextEnd {
                    at,
                    soft_break: false,
                });
            }
            Event::SoftBreak => {
                ends.last_mut()?.soft_break = true;
                at += 1;
            }
            _ => return None,
        }
    }
    let last = ends.pop()?;
    // Kept for the build: most paragraphs are one text event, and keep an empty list.
    ends.shrink_to_fit();
    (last.at == text.len() && !last.soft_break).then_some(ends)
}

/// The events of a [`Markup::Text`] paragraph whose plain text is `text`, borrowing from it;
/// `None` when `ends` do not fit the text.
fn text_events<'t>(text: &'t str, ends: &[TextEnd]) -> Option<Vec<Event<'t>>> {
    let mut events = Vec::with_capacity(ends.len() * 2 + 3);
    events.push(Event::Start(Tag::Paragraph));
    let mut start = 0;
    for end in ends {
        events.push(Event::Text(CowStr::Borrowed(text.get(start..end.at)?)));
        start = end.at;
        if end.soft_break {
            // The break stands in the plain text as one space.
            text.get(start..start + 1).filter(|&space| space == " ")?;
            events.push(Event::SoftBreak);
            start += 1;
        }
    }
    events.push(Event::Text(CowStr::Borrowed(text.get(start..)?)));
    events.push(Event::End(TagEnd::Paragraph));
    Some(events)
}

impl Paragraph {
    /// The Markdown events of the paragraph, borrowing from it; `None` for plain text.
    pub fn markdown_events(&self) -> Option<std::borrow::Cow<'_, [Event<'_>]>> {
        match &self.markup {
            Markup::Plain => None,
            // The ends were checked against the text when it was made or read.
            Markup::Text(ends) => text_events(&self.text, ends).map(std::borrow::Cow::Owned),
            Markup::Events(events) => Some(std::borrow::Cow::Borrowed(&events[..])),
        }
    }
}

/// A paragraph's markup as the extraction cache keeps it.
#[derive(Serialize)]
enum StoredMarkup<'a> {
    Plain,
    Text(&'a [TextEnd]),
    Events(Vec<StoredEvent<'a>>),
}

/// [`StoredMarkup`] read back.
#[derive(Deserialize)]
enum ReadMarkup<'a> {
    Plain,
    Text(Vec<TextEnd>),
    #[serde(borrow)]
    Events(Vec<ReadEvent<'a>>),
}

/// A paragraph's event as the extraction cache keeps it: a text event that repeats a stretch
/// of the paragraph's plain text is kept as that stretch's byte range. Without this, a Markdown
/// paragraph would carry its text twice (more than a quarter of the cache, in a dossier of half
/// Markdown).
#[derive(Serialize)]
enum StoredEvent<'a> {
    TextAt(usize, usize),
    Other(&'a Event<'static>),
}

/// [`StoredEvent`] read back: the same encoding, owning or borrowing from the input.
#[derive(Deserialize)]
enum ReadEvent<'a> {
    TextAt(usize, usize),
    #[serde(borrow)]
    Other(Event<'a>),
}

impl Serialize for Paragraph {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let markup = match &self.markup {
            Markup::Plain => StoredMarkup::Plain,
            Markup::Text(ends) => StoredMarkup::Text(ends),
            Markup::Events(events) => StoredMarkup::Events(self.stored_events(events)),
        };
        (&self.text, self.role, self.line, markup).serialize(serializer)
    }
}

impl Paragraph {
    /// `events` (the paragraph's) as the cache keeps them.
    fn stored_events<'a>(&self, events: &'a [Event<'static>]) -> Vec<StoredEvent<'a>> {
        let mut from = 0;
        events
            .iter()
            .map(|event| {
                // A text event usually starts where the last one ended: checked first, as a
                // search for it would find it there too.
                if let Event::Text(text) = event
                    && let Some(at) = (self.text[from..].starts_with(&**text))
                        .then_some(0)
                        .or_else(|| self.text[from..].find(&**text))
                {
                    let start = from + at;
                    from = start + text.len();
                    return StoredEvent::TextAt(start, from);
                }
                StoredEvent::Other(event)
            })
            .collect()
    }
}

impl<'de> Deserialize<'de> for Paragraph {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (text, role, line, stored): (String, Role, usize, ReadMarkup<'de>) =
            Deserialize::deserialize(deserializer)?;
        let markup = match stored {
            ReadMarkup::Plain => Markup::Plain,
            ReadMarkup::Text(ends) => {
                if text_events(&text, &ends).is_none() {
                    return Err(D::Error::custom("a text event outside its paragraph"));
                }
                Markup::Text(ends)
            }
            ReadMarkup::Events(stored) => Markup::Events(
                stored
                    .into_iter()
                    .map(|event| match event {
                        ReadEvent::TextAt(start, end) => text
                            .get(start..end)
                            .map(|t| Event::Text(CowStr::Borrowed(t)).into_static())
                            .ok_or_else(|| D::Error::custom("a text event outside its paragraph")),
                        ReadEvent::Other(event) => Ok(event.into_static()),
                    })
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Paragraph {
            text,
            role,
            line,
            markup,
        })
    }
}

/// An article's body without furniture.
#[derive(Debug, Clone, Default)]
pub struct Cleaned {
    /// The paragraphs in order.
    pub paragraphs: Vec<Paragraph>,
    /// Every removed line or part of a line, in order.
    pub furniture: Vec<String>,
}

struct Line {
    text: String,
    number: usize,
    caption: bool,
}

/// Removes furniture from `source`'s body and splits what is left into paragraphs.
pub fn clean(source: &Source, rules: &FurnitureRules) -> Cleaned {
    let mut furniture = Vec::new();
    let lines = remove_furniture(&source.body, source.body_line, rules, &mut furniture);
    let mut paragraphs = match source.format {
        Format::Text => text_paragraphs(&lines, rules),
        Format::Markdown => markdown_blocks(&lines),
    };
    // Kept for the whole build, for every article: without the room they grew into.
    paragraphs.shrink_to_fit();
    for paragraph in &mut paragraphs {
        paragraph.text.shrink_to_fit();
    }
    Cleaned {
        paragraphs,
        furniture,
    }
}

fn remove_furniture(
    body: &str,
    first_line: usize,
    rules: &FurnitureRules,
    furniture: &mut Vec<String>,
) -> Vec<Line> {
    let raw: Vec<&str> = body.split('\n').collect();
    let mut start = 0;
    // The last header marker within the first lines ends the header.
    let mut seen = 0;
    for (i, line) in raw.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        seen += 1;
        if seen > rules.header_lines {
            break;
        }
        if rules.drop_before.iter().any(|re| re.is_match(line)) {
            start = i + 1;
        }
    }
    let end = raw
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, line)| rules.drop_after.iter().any(|re| re.is_match(line.trim())))
        .map_or(raw.len(), |(i, _)| i);
    let keep_removed = |lines: &[&str], furniture: &mut Vec<String>| {
        furniture.extend(
            lines
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(String::from),
        );
    };
    keep_removed(&raw[..start], furniture);

    let mut lines = Vec::with_capacity(end - start);
    for (i, line) in raw.iter().enumerate().take(end).skip(start) {
        let trimmed = line.trim();
        if !trimmed.is_empty()
            && (rules.drop_lines.iter().any(|re| re.is_match(trimmed))
                || is_tag_run(trimmed, rules.tag_run_min_words))
        {
            furniture.push(trimmed.to_string());
            lines.push(Line {
                text: String::new(),
                number: first_line + i,
                caption: false,
            });
            continue;
        }
        let mut text = line.trim_end().to_string();
        let mut caption = false;
        for re in &rules.strip {
            if let Some(found) = re.find(&text) {
                let removed = found.as_str().trim();
                if !removed.is_empty() {
                    furniture.push(removed.to_string());
                }
                text.replace_range(found.range(), "");
                caption = true;
            }
        }
        if caption && text.trim().is_empty() {
            caption = false; // a credit alone on its line is furniture, not a caption
        }
        lines.push(Line {
            text,
            number: first_line + i,
            caption,
        });
    }
    keep_removed(&raw[end..], furniture);
    lines
}

/// Words that running text has and a run of scraped tags lacks.
const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "with", "by", "and", "or",
    "but", "not", "is", "are", "was", "were", "be", "been", "as", "that", "this", "these", "those",
    "it", "its", "their", "his", "her", "they", "he", "she", "we", "who", "which", "each",
    "between", "into", "than", "have", "has", "had", "will", "would",
];

/// A line of at least `min_words` lowercase words, without punctuation or function words.
fn is_tag_run(line: &str, min_words: usize) -> bool {
    if min_words == 0 {
        return false;
    }
    // Word by word, stopping at the first that running text would have: most lines start
    // with a capital letter and are decided by their first word.
    let mut words = 0;
    for word in line.split_whitespace() {
        if !word.chars().all(|c| c.is_lowercase() || c == '-') || FUNCTION_WORDS.contains(&word) {
            return false;
        }
        words += 1;
    }
    words >= min_words
}

/// Plain text: blocks are separated by blank lines; inside a block, each line is a paragraph
/// unless the block was hard-wrapped (see [`is_wrapped`]).
fn text_paragraphs(lines: &[Line], rules: &FurnitureRules) -> Vec<Paragraph> {
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    for block in lines.split(|l| l.text.trim().is_empty()) {
        if block.is_empty() {
            continue;
        }
        let width = block
            .iter()
            .map(|l| l.text.trim().chars().count())
            .filter(|&w| w <= WRAP_LIMIT)
            .max()
            .unwrap_or(0);
        // Hard-wrapped text breaks most lines mid-sentence; one paragraph per line ends them.
        let inner = &block[..block.len() - 1];
        let open_lines = inner.iter().filter(|l| !ends_sentence(&l.text)).count();
        let wrapped = !inner.is_empty() && open_lines * 2 >= inner.len();
        let mut current: Option<Paragraph> = None;
        for (i, line) in block.iter().enumerate() {
            let text = line.text.trim();
            let joins = i > 0
                && !line.caption
                && !block[i - 1].caption
                && is_wrapped(block[i - 1].text.trim(), text, width, wrapped);
            match current.as_mut() {
                Some(p) if joins => {
                    p.text.push(' ');
                    p.text.push_str(text);
                }
                _ => {
                    paragraphs.extend(current.take());
                    current = Some(Paragraph {
                        text: text.to_string(),
                        role: if line.caption {
                            Role::Caption
                        } else {
                            Role::Text
                        },
                        line: line.number,
                        markup: Markup::Plain,
                    });
                }
            }
        }
        paragraphs.extend(current);
    }
    // A short line without final punctuation right above a caption is the photo's label.
    for i in 1..paragraphs.len() {
        if paragraphs[i].role == Role::Caption && paragraphs[i - 1].role == Role::Text {
            let label = &paragraphs[i - 1].text;
            if label.split_whitespace().count() <= rules.caption_label_max_words
                && !ends_sentence(label)
            {
                paragraphs[i - 1].role = Role::CaptionLabel;
            }
        }
    }
    paragraphs
}

/// Lines longer than this were not hard-wrapped by the source.
const WRAP_LIMIT: usize = 100;

/// Whether `next` continues the paragraph of `previous`: it starts in lowercase after an
/// unfinished sentence, or, in a hard-wrapped block of `width` columns, its first word would not
/// have fit on the previous line (so the source must have broken the line there).
fn is_wrapped(previous: &str, next: &str, width: usize, block_wrapped: bool) -> bool {
    let starts_lowercase = next
        .chars()
        .find(|c| c.is_alphanumeric())
        .is_some_and(char::is_lowercase);
    if starts_lowercase && !ends_sentence(previous) {
        return true;
    }
    let previous_width = previous.chars().count();
    let first_word = next
        .split_whitespace()
        .next()
        .map_or(0, |w| w.chars().count());
    block_wrapped && previous_width <= WRAP_LIMIT && previous_width + 1 + first_word > width
}

/// True when `text` ends like a sentence (a final period, question or exclamation mark,
/// maybe inside closing quotes or brackets).
pub fn ends_sentence(text: &str) -> bool {
    let trimmed = text.trim_end_matches(['"', '\'', '”', '’', ')', ']', ' ', '\u{a0}']);
    trimmed.ends_with(['.', '?', '!', '…'])
}

/// The Markdown extensions articles may use.
const MARKDOWN_OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_SMART_PUNCTUATION)
    .union(Options::ENABLE_STRIKETHROUGH);

/// Markdown: every top-level block is a paragraph; its plain text is what extraction reads.
fn markdown_blocks(lines: &[Line]) -> Vec<Paragraph> {
    let mut text = String::new();
    let mut line_starts = Vec::with_capacity(lines.len());
    for line in lines {
        line_starts.push((text.len(), line.number));
        text.push_str(&line.text);
        text.push('\n');
    }
    let line_at = |offset: usize| {
        let i = line_starts.partition_point(|&(start, _)| start <= offset);
        line_starts.get(i.saturating_sub(1)).map_or(1, |&(_, n)| n)
    };
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut current: Option<Paragraph> = None;
    // The current block's events, borrowing from `text` until the block is done.
    let mut events: Vec<Event<'_>> = Vec::new();
    for (event, range) in Parser::new_ext(&text, MARKDOWN_OPTIONS).into_offset_iter() {
        if depth == 0 {
            let role = match &event {
                Event::Start(Tag::Paragraph) => Role::Text,
                Event::Start(Tag::Heading { level, .. }) => Role::Heading(*level as u8),
                _ => Role::Block,
            };
            current = Some(Paragraph {
                text: String::new(),
                role,
                line: line_at(range.start),
                markup: Markup::Plain,
            });
            events.clear();
        }
        match &event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        if let Some(block) = current.as_mut() {
            match &event {
                Event::Text(t) | Event::Code(t) => block.text.push_str(t),
                Event::SoftBreak | Event::HardBreak => block.text.push(' '),
                Event::End(
                    TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::Heading(_),
                ) if depth > 0 => block.text.push(' '),
                _ => {}
            }
            events.push(event);
        }
        if depth == 0
            && let Some(mut block) = current.take()
        {
            block.text.truncate(block.text.trim_end().len());
            if !block.text.trim().is_empty() || events.len() > 1 {
                block.markup = Markup::of_markdown(&block.text, std::mem::take(&mut events));
                blocks.push(block);
            }
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn rules() -> FurnitureRules {
        FurnitureRules {
            drop_lines: vec![Regex::new("^Read in Korean$").unwrap()],
            drop_before: vec![Regex::new(r"^\w+day, \w+ \d+, \d{4}$").unwrap()],
            header_lines: 5,
            drop_after: vec![Regex::new("^Most Popular").unwrap()],
            strip: vec![Regex::new(r"\s*/\s*Image:.*$").unwrap()],
            caption_label_max_words: 5,
            tag_run_min_words: 6,
        }
    }

    fn text_source(body: &str) -> Source {
        Source {
            path: "a.txt".into(),
            format: Format::Text,
            front: Default::default(),
            body: body.to_string(),
            body_line: 1,
            digest: 0,
        }
    }

    #[test]
    fn removes_header_footer_and_lines() {
        let cleaned = clean(
            &text_source(
                "33 C\nDelhi\nSunday, June 22, 2025\n\nHeadline\n\nBody.\nRead in Korean\nMost Popular\nx",
            ),
            &rules(),
        );
        let texts: Vec<_> = cleaned.paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["Headline", "Body."]);
        assert_eq!(
            cleaned.furniture,
            [
                "33 C",
                "Delhi",
                "Sunday, June 22, 2025",
                "Read in Korean",
                "Most Popular",
                "x"
            ]
        );
        assert_eq!(cleaned.paragraphs[1].line, 7);
    }

    #[test]
    fn tag_runs_but_not_wrapped_text() {
        assert!(is_tag_run(
            "special patrols coronavirus outbreak smuggler mobile phones strict smuggler border",
            6
        ));
        assert!(!is_tag_run(
            "through with actual arrests in many cases instead of performing mere",
            6
        ));
        assert!(!is_tag_run("short tag run", 6));
        assert!(!is_tag_run(
            "Special patrols coronavirus outbreak smuggler mobile phones strict smuggler border",
            6
        ));
        assert!(is_tag_run(
            "anti-socialist crackdown mobile phones border smuggling",
            6
        ));
        assert!(!is_tag_run("crackdown mobile phones border smuggling", 0));
    }

    #[test]
    fn one_paragraph_per_line() {
        let body = "The first paragraph is a long line that ends with a period.\nThe second one starts here and also ends.\n";
        let cleaned = clean(&text_source(body), &rules());
        assert_eq!(cleaned.paragraphs.len(), 2);
    }

    #[test]
    fn hard_wrapped_block_is_joined() {
        let body = "Security agents are teaming up with signal detection units in North Hamgyong\nProvince in a joint arrest operation. Young\nagents in their 20s raid the homes.\n";
        let cleaned = clean(&text_source(body), &rules());
        assert_eq!(cleaned.paragraphs.len(), 1, "{:?}", cleaned.paragraphs);
        assert!(cleaned.paragraphs[0].text.contains("Hamgyong Province in"));
        assert!(cleaned.paragraphs[0].text.contains("Young agents"));
    }

    #[test]
    fn captions_and_labels() {
        let body = "Merchant cell phone\nA merchant using a cell phone at a market. / Image: Daily NK\n\nText.";
        let cleaned = clean(&text_source(body), &rules());
        let roles: Vec<_> = cleaned.paragraphs.iter().map(|p| p.role).collect();
        assert_eq!(roles, [Role::CaptionLabel, Role::Caption, Role::Text]);
        assert_eq!(
            cleaned.paragraphs[1].text,
            "A merchant using a cell phone at a market."
        );
        assert_eq!(cleaned.furniture, ["/ Image: Daily NK"]);
    }

    #[test]
    fn markdown_blocks_keep_lines_and_text() {
        let source = Source {
            format: Format::Markdown,
            ..text_source("# Title\n\nSome *text* here.\n\n- a\n- b\n")
        };
        let cleaned = clean(&source, &rules());
        let texts: Vec<_> = cleaned
            .paragraphs
            .iter()
            .map(|p| (p.text.as_str(), p.line))
            .collect();
        assert_eq!(texts, [("Title", 1), ("Some text here.", 3), ("a b", 5)]);
        assert_eq!(cleaned.paragraphs[0].role, Role::Heading(1));
    }

    #[test]
    fn paragraphs_come_back_from_the_cache_encoding_as_they_were() {
        let source = Source {
            format: Format::Markdown,
            ..text_source(
                "# A *title*\n\nSome *text*, `code` and [a link](https://example.org) \"here\".\n\
                 A second line with Hoeryong.\n\n- a\n- b and b\n\n| x | y |\n| - | - |\n| x | y |\n",
            )
        };
        let paragraphs = clean(&source, &rules()).paragraphs;
        let encoded = postcard::to_stdvec(&paragraphs).unwrap();
        let decoded: Vec<Paragraph> = postcard::from_bytes(&encoded).unwrap();
        assert_eq!(format!("{decoded:?}"), format!("{paragraphs:?}"));
        // A paragraph's text is kept once, not again in its events.
        let long = "Residents of Hoeryong say that inspectors from the capital now search homes \
                    for Chinese phones at night. ";
        let source = Source {
            format: Format::Markdown,
            ..text_source(&long.repeat(4))
        };
        let paragraphs = clean(&source, &rules()).paragraphs;
        let text = paragraphs[0].text.len();
        let encoded = postcard::to_stdvec(&paragraphs).unwrap().len();
        assert!(
            text > 300 && encoded < text + 32,
            "{encoded} bytes for {text} of text"
        );
        // A range that does not fit its paragraph is an error, not a panic: a text event's
        // range, a text paragraph's end, or its soft break where the text has no space.
        let past = |at, soft_break| [TextEnd { at, soft_break }];
        for bad in [
            postcard::to_stdvec(&(
                "ab",
                Role::Text,
                1usize,
                StoredMarkup::Events(vec![StoredEvent::TextAt(0, 9)]),
            )),
            postcard::to_stdvec(&(
                "ab",
                Role::Text,
                1usize,
                StoredMarkup::Text(&past(9, false)),
            )),
            postcard::to_stdvec(&("ab", Role::Text, 1usize, StoredMarkup::Text(&past(1, true)))),
        ] {
            assert!(postcard::from_bytes::<Paragraph>(&bad.unwrap()).is_err());
        }
        let fits = postcard::to_stdvec(&(
            "a b",
            Role::Text,
            1usize,
            StoredMarkup::Text(&past(1, true)),
        ));
        assert!(postcard::from_bytes::<Paragraph>(&fits.unwrap()).is_ok());
    }

    #[test]
    fn markdown_paragraphs_of_text_keep_no_events_and_make_the_same_again() {
        // Smart quotes and an ampersand split the text into several events; a soft break
        // joins two lines.
        let first = "Kim's \"phone\" & the guards\nsaid it was over -- for now.\n";
        let source = Source {
            format: Format::Markdown,
            ..text_source(&format!("{first}\nA *marked* one.\n\nPlain.\n"))
        };
        let paragraphs = clean(&source, &rules()).paragraphs;
        let Markup::Text(ends) = &paragraphs[0].markup else {
            panic!("{:?}", paragraphs[0].markup);
        };
        assert!(
            ends.len() >= 3 && ends.iter().any(|e| e.soft_break),
            "{ends:?}"
        );
        let parsed: Vec<Event> = Parser::new_ext(first, MARKDOWN_OPTIONS).collect();
        let made = paragraphs[0].markdown_events().unwrap();
        assert_eq!(&made[..], &parsed[..]);
        assert!(matches!(paragraphs[1].markup, Markup::Events(_)));
        assert_eq!(paragraphs[2].markup, Markup::Text(Vec::new()));
        // Plain text has no Markdown events.
        assert!(
            clean(&text_source("Plain."), &rules()).paragraphs[0]
                .markdown_events()
                .is_none()
        );
    }
}
