//! Generates a realistic dossier of N articles for benchmarks: real place, agency and person
//! names from the catalogue, years, amounts and quotes, about 750 words and 25 entity mentions an
//! article; half plain
//! text with a headline and publication line, half Markdown with TOML front matter.
//! Deterministic: the same arguments give the same files.
//!
//! `cargo run --release --example gen_corpus -- --articles 10000 --out /tmp/corpus`

use std::fmt::Write as _;
use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

fn main() {
    let mut articles = 1000usize;
    let mut out = PathBuf::from("corpus");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--articles" => {
                articles = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--articles N")
            }
            "--out" => out = args.next().map(PathBuf::from).expect("--out DIR"),
            other => panic!("unknown argument {other}; use --articles N --out DIR"),
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let catalog = dossier::catalog::load(&root).unwrap_or_else(|e| panic!("{:?}", e.sorted()));
    let names = |kind: dossier::catalog::Kind| -> Vec<String> {
        catalog
            .entities
            .values()
            .filter(|e| e.key.kind == kind)
            .map(|e| e.aliases.first().cloned().unwrap_or_else(|| e.name.clone()))
            .collect()
    };
    let places = names(dossier::catalog::Kind::Place);
    let agencies = names(dossier::catalog::Kind::Agency);
    let people = names(dossier::catalog::Kind::Person);

    std::fs::create_dir_all(out.join("content/articles")).expect("create the output folder");
    std::fs::copy(root.join("site.toml"), out.join("site.toml")).expect("copy site.toml");
    let entities = out.join("content/entities");
    std::fs::create_dir_all(&entities).expect("create content/entities");
    for entry in std::fs::read_dir(root.join("content/entities")).expect("catalogue") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, entities.join(path.file_name().expect("name")))
            .expect("copy catalogue");
    }

    let mut rng = StdRng::seed_from_u64(20240603);
    let surnames = [
        "Kim", "Lee", "Pak", "Choi", "Jong", "Kang", "Han", "Ri", "Cho", "Yun",
    ];
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let verbs = [
        "arrested",
        "questioned",
        "detained",
        "fined",
        "released",
        "searched the homes of",
        "watched",
        "summoned",
    ];
    let objects = [
        "phone users",
        "remittance brokers",
        "smugglers",
        "traders",
        "residents",
        "families of defectors",
        "drivers",
        "students",
    ];
    let fillers = [
        "The crackdown has made residents wary of speaking on the phone, and many now keep their devices buried or hidden in the walls of their homes.",
        "Brokers who connect callers with relatives abroad charge fees that have risen sharply as the risk of arrest has grown.",
        "Officials have installed new equipment that detects the signals of foreign mobile phones near the river.",
        "Local markets have seen fewer traders since the border was sealed, and prices for basic goods have climbed.",
        "The measures are described in internal lectures as a fight against anti-socialist and non-socialist behavior.",
        "Residents say that bribes no longer guarantee release, because inspectors from the capital watch local officials closely.",
    ];
    for i in 0..articles {
        let place = places.choose(&mut rng).expect("places");
        let other = places.choose(&mut rng).expect("places");
        let agency = agencies.choose(&mut rng).expect("agencies");
        let year = rng.random_range(2012..=2025);
        let month = rng.random_range(0..12);
        let day = rng.random_range(1..=28);
        let surname = surnames.choose(&mut rng).expect("surnames");
        let title = format!(
            "{} {} {} in {}",
            agency,
            verbs.choose(&mut rng).expect("verbs"),
            objects.choose(&mut rng).expect("objects"),
            place
        );
        let mut body = String::new();
        let mut words = 0;
        let mut paragraph = 0;
        while words < 750 {
            // Five sentence kinds in twelve name entities: about 25 mentions an article, like the seeds.
            let sentence = match (paragraph + rng.random_range(0..12)) % 12 {
                0 => format!(
                    "A source in {place} told reporters that the {agency} {} {} in {} {}.",
                    verbs.choose(&mut rng).expect("v"),
                    objects.choose(&mut rng).expect("o"),
                    months[rng.random_range(0..12)],
                    rng.random_range(2012..=2025)
                ),
                1 => format!(
                    "One of them, a woman surnamed {surname}, paid RMB {},000 to be released, the source said.",
                    rng.random_range(2..90)
                ),
                2 => format!(
                    "Since {} the authorities in {other} have tightened controls, and {} has sent inspectors.",
                    rng.random_range(2012..=2025),
                    agencies.choose(&mut rng).expect("a")
                ),
                3 => format!(
                    "{} has ordered officials to root out illegal phone use, according to people in {}.",
                    people.choose(&mut rng).expect("p"),
                    places.choose(&mut rng).expect("pl")
                ),
                4 => format!(
                    "{surname} was later sent to a labor camp near {}.",
                    places.choose(&mut rng).expect("pl")
                ),
                _ => fillers.choose(&mut rng).expect("f").to_string(),
            };
            words += sentence.split_whitespace().count();
            body.push_str(&sentence);
            body.push(' ');
            if rng.random_range(0..3) == 0 {
                body.push_str("\n\n");
                paragraph += 1;
            }
        }
        let date = format!("{year}-{:02}-{day:02}", month + 1);
        let (name, text) = if i % 2 == 0 {
            let mut t = String::new();
            let _ = write!(
                t,
                "{title}\n\n{}\n\n{} {day:02}, {year} at 08:00AM\n",
                body.trim(),
                months[month]
            );
            (format!("{i:06}.txt"), t)
        } else {
            (
                format!("{i:06}.md"),
                format!(
                    "+++\ntitle = {title:?}\ndate = {date}\n+++\n{}\n",
                    body.trim()
                ),
            )
        };
        let folder = out
            .join("content/articles")
            .join(format!("{:03}", i / 1000));
        std::fs::create_dir_all(&folder).expect("create a folder");
        std::fs::write(folder.join(name), text).expect("write an article");
    }
    println!("{articles} articles in {}", out.display());
}
