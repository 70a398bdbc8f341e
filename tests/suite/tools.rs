//! The editor's tools: `new`, `init`, exports, feeds.

use std::process::Command;

use crate::common::{build, dossier, fixture};

#[test]
fn init_makes_a_dossier_that_builds_and_new_adds_an_article_once() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("my dossier");
    let out = dossier(&["init", site.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(site.join("themes/default/templates/article.html").is_file());
    let report = build(&site);
    assert_eq!(report.articles, 1);
    let data = crate::common::read_json(&site.join("public/dossier.json"));
    assert_eq!(
        data["articles"][0]["places"],
        serde_json::json!(["Hoeryong", "North Hamgyong Province"])
    );

    let out = dossier(&[
        "new",
        "Arrests in Musan: a \"report\"",
        "--root",
        site.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created = String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("created ")
        .to_string();
    assert!(
        created.ends_with("-arrests-in-musan-a-report.md"),
        "{created}"
    );
    assert_eq!(build(&site).articles, 2);
    let data = crate::common::read_json(&site.join("public/dossier.json"));
    assert!(
        data["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["title"] == "Arrests in Musan: a \"report\"")
    );

    let again = dossier(&[
        "new",
        "Arrests in Musan: a \"report\"",
        "--root",
        site.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let refused = dossier(&["init", site.to_str().unwrap()]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "init refuses a folder with files"
    );
}

#[test]
fn exports_sit_beside_dossier_json() {
    let site = fixture("basic");
    build(site.path());
    let public = site.path().join("public");
    let articles = std::fs::read_to_string(public.join("articles.csv")).unwrap();
    assert!(articles.starts_with(
        "url,file,title,title_derived,date,source,places,agencies,people,laws,years\n"
    ));
    assert!(articles.contains("articles/arrests.html,content/articles/2024/arrests.md,Arrests in Hoeryong,false,2024-03-05"));
    let mentions = std::fs::read_to_string(public.join("mentions.csv")).unwrap();
    assert!(mentions.contains("articles/scraped.html,person,Pak,1,Pak,Agents of the Ministry of State Security detained a broker surnamed Pak in Hoeryong in May 2022."), "{mentions}");
    let entities = std::fs::read_to_string(public.join("entities.csv")).unwrap();
    assert!(entities.contains("places/hoeryong.html,place,Hoeryong,city,North Hamgyong Province,Hoeryong City,42.44,129.75"));
    let ftm = std::fs::read_to_string(public.join("entities.ftm.json")).unwrap();
    let lines: Vec<serde_json::Value> = ftm
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().any(|l| l["schema"] == "PublicBody"
        && l["properties"]["name"][0] == "Ministry of State Security"));
    assert!(lines.iter().any(|l| l["schema"] == "Documentation"
        && l["properties"]["entity"][0] == "dossier-place-hoeryong"));
}

#[test]
fn feeds_need_a_base_url_and_then_use_it() {
    let site = fixture("basic");
    let out = dossier(&["build", "--root", site.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("note: no base_url"));
    assert!(!site.path().join("public/feed.xml").exists());
    let pages_before = crate::common::snapshot(&site.path().join("public"));

    let config = std::fs::read_to_string(site.path().join("site.toml")).unwrap();
    std::fs::write(
        site.path().join("site.toml"),
        config.replace(
            "title = \"Basic fixture\"",
            "title = \"Basic fixture\"\nbase_url = \"https://example.org/dossier\"",
        ),
    )
    .unwrap();
    build(site.path());
    let feed = std::fs::read_to_string(site.path().join("public/feed.xml")).unwrap();
    assert!(
        feed.contains("<link href=\"https://example.org/dossier/articles/arrests.html\"/>"),
        "{feed}"
    );
    assert!(feed.contains("<updated>2024-03-05T00:00:00Z</updated>"));
    assert!(site.path().join("public/places/hoeryong.xml").is_file());
    let sitemap = std::fs::read_to_string(site.path().join("public/sitemap.xml")).unwrap();
    assert!(sitemap.contains("<loc>https://example.org/dossier/places/hoeryong.html</loc>"));
    let robots = std::fs::read_to_string(site.path().join("public/robots.txt")).unwrap();
    assert!(robots.contains("Sitemap: https://example.org/dossier/sitemap.xml"));
    // No page depends on base_url: every page is the same with and without it.
    let pages_after = crate::common::snapshot(&site.path().join("public"));
    for (path, bytes) in pages_before
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|x| x == "html"))
    {
        assert!(
            pages_after.get(path) == Some(bytes),
            "{} changed with base_url",
            path.display()
        );
    }
}

/// A plain HTTP GET on loopback: (status line, body).
fn get(address: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !check() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn serve_answers_on_loopback_and_shows_changes_without_a_restart() {
    use std::io::BufRead;
    let site = fixture("basic");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dossier"))
        .args([
            "serve",
            "--port",
            "0",
            "--root",
            site.path().to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .trim_start_matches("serving http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{line}");

    let (status, page) = get(&address, "/articles/scraped.html");
    assert!(status.contains("200"), "{status}");
    assert!(page.contains("Crackdown widens") && page.contains("/__dossier/reload.js"));
    assert!(get(&address, "/../Cargo.toml").0.contains("404"));
    let version = |a: &str| get(a, "/__dossier/status").1;
    let first = version(&address);

    let article = site.path().join("content/articles/scraped.txt");
    let text = std::fs::read_to_string(&article).unwrap();
    std::fs::write(
        &article,
        text.replace("Crackdown widens", "Crackdown deepens"),
    )
    .unwrap();
    wait_for("the rebuild", || version(&address) != first);
    assert!(
        get(&address, "/articles/scraped.html")
            .1
            .contains("Crackdown deepens")
    );

    // A broken article: the last good site stays, and the error is reported to open pages.
    std::fs::write(
        site.path().join("content/articles/broken.md"),
        "+++\ntitle = \n+++\n",
    )
    .unwrap();
    wait_for("the error", || version(&address).contains("broken.md:2"));
    assert!(
        get(&address, "/articles/scraped.html")
            .1
            .contains("Crackdown deepens")
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `build.rs` links the binary at a fixed address on Linux with the GNU toolchain, so that it
/// starts without the loader relocating 10 MB of tables. An ELF file's type is the 16-bit
/// number at byte 16, in the byte order byte 5 names (1: little-endian): 2 for a
/// fixed-address executable, 3 for a position-independent one.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_is_linked_at_a_fixed_address() {
    use std::io::Read;
    let mut header = [0_u8; 18];
    std::fs::File::open(env!("CARGO_BIN_EXE_dossier"))
        .and_then(|mut file| file.read_exact(&mut header))
        .unwrap();
    assert_eq!(&header[..4], b"\x7fELF");
    let kind = [header[16], header[17]];
    let kind = if header[5] == 1 {
        u16::from_le_bytes(kind)
    } else {
        u16::from_be_bytes(kind)
    };
    assert_eq!(
        kind, 2,
        "the binary is position-independent: build.rs's -no-pie was not applied"
    );
}
