//! Integration tests: one binary, one module per area (see ARCHITECTURE.md).

mod common;
mod errors;
mod incremental;
mod invalid;
mod links;
mod properties;
mod seeds;
mod sites;
mod tools;
