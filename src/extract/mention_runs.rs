//! How [`Metadata::mentions`](super::Metadata::mentions) is encoded (in the extraction cache):
//! the mentions of one entity as one run, the entity's key written once before the places of
//! its mentions. Every build decodes every cached article's metadata, and decoding a key (its
//! kind, and its slug checked as UTF-8 and copied) for each of an article's 30-odd mentions
//! was half of decoding them; an article names about a third as many entities as it has
//! mentions. The runs decode straight into the list of mentions, with nothing in between.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use super::{Mention, Place};
use crate::catalog::EntityKey;

/// Writes `mentions`: their number, then runs of mentions of one entity. Mentions are sorted
/// by entity, so an entity's mentions make one run; were they not, an entity would only take
/// more runs.
pub fn serialize<S: Serializer>(mentions: &[Mention], serializer: S) -> Result<S::Ok, S::Error> {
    let mut tuple = serializer.serialize_tuple(2)?;
    tuple.serialize_element(&mentions.len())?;
    tuple.serialize_element(&Runs(mentions))?;
    tuple.end()
}

/// Reads mentions written by [`serialize`].
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Mention>, D::Error> {
    deserializer.deserialize_tuple(2, MentionsVisitor)
}

/// Up to this many mentions are set aside for at once, whatever number a damaged encoding
/// gives: a longer list grows as it is read.
const MOST_AT_ONCE: usize = 4096;

/// Mentions as runs of one entity's.
struct Runs<'a>(&'a [Mention]);

impl Serialize for Runs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let runs = self.0.chunk_by(|a, b| a.entity == b.entity);
        let mut seq = serializer.serialize_seq(Some(runs.clone().count()))?;
        for run in runs {
            seq.serialize_element(&Run(run))?;
        }
        seq.end()
    }
}

/// One run: mentions of the same entity, none empty.
struct Run<'a>(&'a [Mention]);

impl Serialize for Run<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(2)?;
        // `chunk_by` makes no empty run.
        tuple.serialize_element(&self.0.first().map(|m| &m.entity))?;
        tuple.serialize_element(&Spots(self.0))?;
        tuple.end()
    }
}

/// The places of a run's mentions.
struct Spots<'a>(&'a [Mention]);

impl Serialize for Spots<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for mention in self.0 {
            seq.serialize_element(&Spot {
                at: mention.at,
                start: mention.start,
                end: mention.end,
            })?;
        }
        seq.end()
    }
}

/// Where one mention stands, without its entity.
#[derive(Serialize, Deserialize)]
struct Spot {
    at: Place,
    start: usize,
    end: usize,
}

/// Decodes the number of mentions, then their runs into a list set aside for that many: grown
/// run by run, the list was moved as often as it had runs.
struct MentionsVisitor;

impl<'de> Visitor<'de> for MentionsVisitor {
    type Value = Vec<Mention>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the number of mentions and their runs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut parts: A) -> Result<Vec<Mention>, A::Error> {
        use serde::de::Error;
        let count: usize = parts
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(0, &self))?;
        let mut mentions = Vec::with_capacity(count.min(MOST_AT_ONCE));
        parts
            .next_element_seed(RunsInto(&mut mentions))?
            .ok_or_else(|| A::Error::invalid_length(1, &self))?;
        Ok(mentions)
    }
}

/// Decodes runs onto the end of a list of mentions.
struct RunsInto<'a>(&'a mut Vec<Mention>);

impl<'de> DeserializeSeed<'de> for RunsInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RunsInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("runs of mentions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut runs: A) -> Result<(), A::Error> {
        while runs.next_element_seed(RunInto(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// Decodes one run onto the end of a list of mentions.
struct RunInto<'a>(&'a mut Vec<Mention>);

impl<'de> DeserializeSeed<'de> for RunInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_tuple(2, self)
    }
}

impl<'de> Visitor<'de> for RunInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an entity and the places of its mentions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut run: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let entity: Option<EntityKey> = run
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(0, &self))?;
        let entity =
            entity.ok_or_else(|| A::Error::custom("a run of mentions without an entity"))?;
        run.next_element_seed(SpotsInto {
            entity,
            mentions: self.0,
        })?
        .ok_or_else(|| A::Error::invalid_length(1, &"an entity and the places of its mentions"))
    }
}

/// Decodes the places of a run's mentions onto the end of a list of mentions, each with the
/// run's entity.
struct SpotsInto<'a> {
    entity: EntityKey,
    mentions: &'a mut Vec<Mention>,
}

impl<'de> DeserializeSeed<'de> for SpotsInto<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SpotsInto<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the places of mentions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut spots: A) -> Result<(), A::Error> {
        while let Some(Spot { at, start, end }) = spots.next_element()? {
            self.mentions.push(Mention {
                entity: self.entity.clone(),
                at,
                start,
                end,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Kind;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder(#[serde(with = "super")] Vec<Mention>);

    fn mention(kind: Kind, name: &str, at: Place, start: usize) -> Mention {
        Mention {
            entity: EntityKey::new(kind, name),
            at,
            start,
            end: start + name.len(),
        }
    }

    proptest::proptest! {
        /// Mentions decode as they were, sorted or not, through postcard as the cache uses it.
        #[test]
        fn mentions_come_back_as_they_were(
            picks in proptest::collection::vec(
                (0usize..4, proptest::option::of(0usize..40), 0usize..5000),
                0..60,
            ),
            sort in proptest::bool::ANY,
        ) {
            let names = [(Kind::Place, "Hyesan"), (Kind::Agency, "Ministry of State Security"),
                (Kind::Person, "Kim Jong Un, whose name runs past the inline length"), (Kind::Place, "Sinuiju")];
            let mut mentions: Vec<Mention> = picks
                .iter()
                .map(|&(entity, paragraph, start)| {
                    let (kind, name) = names[entity];
                    mention(kind, name, paragraph.map_or(Place::Title, Place::Paragraph), start)
                })
                .collect();
            if sort {
                mentions.sort();
            }
            let holder = Holder(mentions);
            let bytes = postcard::to_stdvec(&holder).unwrap();
            proptest::prop_assert_eq!(postcard::from_bytes::<Holder>(&bytes).unwrap(), holder);
        }
    }

    #[test]
    fn an_entity_is_written_once_a_run() {
        let mentions: Vec<Mention> = (0..10)
            .map(|i| mention(Kind::Place, "Hyesan", Place::Paragraph(i), 7))
            .collect();
        let runs = postcard::to_stdvec(&Holder(mentions.clone())).unwrap();
        let each = postcard::to_stdvec(&mentions).unwrap();
        assert_eq!(runs.windows(6).filter(|w| w == b"hyesan").count(), 1);
        assert_eq!(each.windows(6).filter(|w| w == b"hyesan").count(), 10);
    }

    #[test]
    fn damaged_runs_are_refused() {
        let bytes = postcard::to_stdvec(&Holder(vec![mention(
            Kind::Place,
            "Hyesan",
            Place::Title,
            0,
        )]))
        .unwrap();
        for cut in 0..bytes.len() {
            assert!(postcard::from_bytes::<Holder>(&bytes[..cut]).is_err());
        }
        // A run whose entity is missing.
        let no_entity =
            postcard::to_stdvec(&(1usize, vec![(None::<EntityKey>, Vec::<Spot>::new())])).unwrap();
        assert!(postcard::from_bytes::<Holder>(&no_entity).is_err());
    }
}
