//! schema/schema.graphql is the exported SDL: it must equal what the code builds.

#[test]
fn schema_file_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql");
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    let built = pangeo_forge_orchestrator::graphql::sdl();
    assert!(
        on_disk == built,
        "schema/schema.graphql is out of date: run `cargo run -- schema > schema/schema.graphql`"
    );
}
