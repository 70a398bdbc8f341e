//! Links the `dossier` binary as a position-dependent executable on Linux with the GNU
//! toolchain.
//!
//! Why: a position-independent executable is relocated by the dynamic loader each time it
//! starts. The binary has 58,000 such relocations, spread over 2,500 pages (10 MB) of
//! read-only data; 16,000 of them, on 2,300 of those pages, point into minify-html's generated
//! tables (its HTML entity trie). So every start wrote to 10 MB of fresh memory before `main`.
//! Linked at a fixed address, the addresses are resolved once, by the linker, and the pages are
//! read from the file only where they are used. Measured on the benchmark machine:
//! `dossier --version` 7.2-9.4 ms and 2,644 page faults against 1.9-2.1 ms and 122 (30 runs
//! each); a one-article rebuild of the 10,000-article dossier, median 0.252 s against 0.224 s
//! (16 alternating rounds).
//!
//! What it gives up: the binary's own code and static data sit at the same address in every
//! run (its heap, stack and libraries are still placed at random), as with Go programs such as
//! Hugo, which link this way by default. Address randomization only hardens a program against
//! memory corruption; dossier's own code is safe Rust but for two calls into the allocator and
//! the process exit, and the trade is made for a tool started many times a day, by hand and
//! in CI.
//!
//! Only the binaries are linked so: tests, examples and other targets keep the default.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    // musl links statically (static-pie), and other systems' linkers spell this differently.
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
