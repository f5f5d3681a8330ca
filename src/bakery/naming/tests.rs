//! The original orchestrator's own examples and test values, and round trips.

use super::*;

const PROD: &str = "https://api.pangeo-forge.org/github/hooks/";
const STAGING: &str = "https://api-staging.pangeo-forge.org/github/hooks/";

fn is_valid_job_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || c == '-' || c == '_')
}

#[test]
fn the_original_mock_runners_job_name() {
    // Printed by the original's mock runner for recipe run 1366 on production.
    let name = "a6170692e70616e67656f2d666f7267652e6f7267251366";
    assert_eq!(encode_job_name(PROD, 1366).unwrap(), name);
    assert_eq!(
        decode_job_name(name).unwrap(),
        ("api.pangeo-forge.org".to_owned(), 1366)
    );
}

#[test]
fn odd_digit_counts_are_zero_padded() {
    let name = encode_job_name(PROD, 1).unwrap();
    assert!(name.ends_with("2501"), "{name}");
    let name = encode_job_name(PROD, 123).unwrap();
    assert!(name.ends_with("250123"), "{name}");
    assert_eq!(decode_job_name(&name).unwrap().1, 123);
}

/// The original's parametrised test: run ids 1, 9999, 10_000, 9_999_999, 10_000_000 on the
/// production and staging hosts; the encoding fails exactly when the host's length plus
/// the id's digit count exceeds 32.
#[test]
fn the_original_length_limits() {
    for url in [PROD, STAGING] {
        let host = url
            .trim_start_matches("https://")
            .trim_end_matches("/github/hooks/");
        for run_id in [1, 9999, 10_000, 9_999_999, 10_000_000] {
            let result = encode_job_name(url, run_id);
            if host.len() + run_id.to_string().len() > 32 {
                let err = result.unwrap_err();
                assert!(matches!(err, JobNameError::TooLong { .. }), "{err:?}");
                assert!(err.to_string().contains("shorter public host"));
            } else {
                let name = result.unwrap();
                assert!(is_valid_job_name(&name), "{name}");
                assert_eq!(decode_job_name(&name).unwrap(), (host.to_owned(), run_id));
            }
        }
    }
    assert!(encode_job_name(STAGING, 9999).is_ok());
    assert!(encode_job_name(STAGING, 10_000).is_err());
}

#[test]
fn a_path_other_than_the_hooks_path_is_kept() {
    let name = encode_job_name("https://smee.io/pfo/", 42).unwrap();
    assert_eq!(
        decode_job_name(&name).unwrap(),
        ("smee.io/pfo/".to_owned(), 42)
    );
    let name = encode_job_name("http://localhost:8000/github/hooks/", 7).unwrap();
    assert_eq!(
        decode_job_name(&name).unwrap(),
        ("localhost:8000".to_owned(), 7)
    );
    let name = encode_job_name("http://host", 7).unwrap();
    assert_eq!(decode_job_name(&name).unwrap(), ("host".to_owned(), 7));
}

#[test]
fn the_hooks_url_of_a_deployment() {
    assert_eq!(hooks_url("https://api.pangeo-forge.org"), PROD);
    assert_eq!(hooks_url("https://api.pangeo-forge.org/"), PROD);
    let name = encode_job_name(&hooks_url("http://127.0.0.1:8000"), 5).unwrap();
    assert_eq!(
        decode_job_name(&name).unwrap(),
        ("127.0.0.1:8000".to_owned(), 5)
    );
}

#[test]
fn round_trips() {
    for run_id in [0, 1, 9, 10, 99, 100, 12345, 999_999] {
        for url in [
            "https://a.b/github/hooks/",
            "http://127.0.0.1:8000/github/hooks/",
            PROD,
        ] {
            let name = encode_job_name(url, run_id).unwrap();
            assert!(is_valid_job_name(&name), "{name}");
            assert_eq!(decode_job_name(&name).unwrap().1, run_id);
        }
    }
}

#[test]
fn bad_inputs_are_refused() {
    let bad_url = |url| matches!(encode_job_name(url, 1), Err(JobNameError::BadUrl(_)));
    assert!(bad_url("api.pangeo-forge.org"));
    assert!(bad_url("https:///x"));
    let bad_host = |url| matches!(encode_job_name(url, 1), Err(JobNameError::BadHost(_)));
    assert!(bad_host("https://hé.org/"));
    assert!(bad_host("https://a%20b/"));
    assert_eq!(
        encode_job_name(PROD, -1),
        Err(JobNameError::NegativeRunId(-1))
    );
    for bad in [
        "",
        "b61",
        "a6",
        "a61zz",
        "a6162",
        "a6162252",
        "a616225",
        "a61622599999999999999",
        "a6125ab",
    ] {
        assert!(decode_job_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn subpaths_as_the_original() {
    assert_eq!(
        storage_subpath(
            "pangeo-forge",
            "pangeo-forge/staged-recipes",
            1,
            "liveocean",
            true
        ),
        "pangeo-forge/test/pangeo-forge/staged-recipes/recipe-run-1/liveocean.zarr"
    );
    assert_eq!(
        storage_subpath(
            "pangeo-forge",
            "pangeo-forge/gpcp-feedstock",
            1,
            "gpcp",
            false
        ),
        "pangeo-forge/pangeo-forge/gpcp-feedstock/gpcp.zarr"
    );
}

#[test]
fn recipe_ids_with_spaces_and_slashes_stay_inside_their_segment() {
    let id = "AWS NOAA Ocean Nearsurface Atmos Profiles";
    assert_eq!(
        storage_subpath("pangeo-forge", "pangeo-forge/staged-recipes", 7, id, true),
        "pangeo-forge/test/pangeo-forge/staged-recipes/recipe-run-7/AWS%20NOAA%20Ocean%20Nearsurface%20Atmos%20Profiles.zarr"
    );
    assert_eq!(recipe_path_segment("../etc/a b"), "..%2Fetc%2Fa%20b");
    assert_eq!(
        recipe_path_segment("gpcp-daily_v1.2"),
        "gpcp-daily_v1.2",
        "safe ids unchanged"
    );
    assert_eq!(recipe_path_segment("100%"), "100%25");
}

/// The recipe id a [`recipe_path_segment`] was made from.
fn recipe_id_from_segment(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|id| id.into_owned())
}

proptest::proptest! {
    /// Two different ids never share a path: the segment gives the id back, and has no `/`.
    #[test]
    fn recipe_path_segments_are_reversible(id in "\\PC{1,40}") {
        let segment = recipe_path_segment(&id);
        proptest::prop_assert!(!segment.contains('/'));
        proptest::prop_assert_eq!(recipe_id_from_segment(&segment), Some(id));
    }

    #[test]
    fn different_ids_get_different_segments(a in "\\PC{1,12}", b in "\\PC{1,12}") {
        proptest::prop_assume!(a != b);
        proptest::prop_assert_ne!(recipe_path_segment(&a), recipe_path_segment(&b));
    }
}
