//! Property tests over everything that reads untrusted input: webhook signatures and
//! payloads, status reports, slash commands, meta.yaml, and job names. Whatever comes in:
//! no panic, and a clear error when it cannot be used.

use pangeo_forge_orchestrator::bakery::{decode_job_name, encode_job_name};
use pangeo_forge_orchestrator::flows::commands;
use pangeo_forge_orchestrator::meta::{Recipes, parse_meta};
use pangeo_forge_orchestrator::webhooks::{payload, signature, status};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn signatures_never_panic_and_only_the_right_one_passes(
        secret in proptest::collection::vec(any::<u8>(), 0..64),
        body in proptest::collection::vec(any::<u8>(), 0..512),
        header in ".{0,80}",
    ) {
        let good = signature::sign(&secret, &body);
        prop_assert!(signature::verify(&secret, &body, Some(&good)).is_ok());
        if header != good {
            prop_assert!(signature::verify(&secret, &body, Some(&header)).is_err());
        }
        prop_assert!(signature::verify(&secret, &body, None).is_err());
    }

    #[test]
    fn payloads_of_any_shape_give_an_event_or_an_error(
        name in prop::sample::select(vec![
            "pull_request", "issue_comment", "installation", "installation_repositories", "push",
        ]),
        body in ".{0,400}",
    ) {
        let _ = payload::parse(name, &body);
    }

    #[test]
    fn json_payloads_missing_fields_name_what_is_missing(
        action in prop::sample::select(vec!["opened", "synchronize", "closed", "created", "added"]),
        number in any::<u64>(),
    ) {
        let body = serde_json::json!({"action": action, "number": number}).to_string();
        if let Err(err) = payload::parse("pull_request", &body) {
            prop_assert!(err.to_string().contains("missing field"), "{err}");
        }
    }

    #[test]
    fn status_reports_never_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = status::parse_status(&body);
    }

    #[test]
    fn form_status_reports_are_read_or_refused_by_name(
        id in ".{0,12}",
        conclusion in ".{0,12}",
    ) {
        let body = format!("action=completed&recipe_run_id={id}&conclusion={conclusion}");
        match status::parse_status(body.as_bytes()) {
            Ok(report) => prop_assert!(report.recipe_run_id > 0),
            Err(reason) => prop_assert!(
                reason.contains('`') || reason.contains("cannot be read"),
                "{reason}"
            ),
        }
    }

    #[test]
    fn comments_never_panic(body in "(.|\n){0,300}") {
        let _ = commands::parse(&body);
    }

    #[test]
    fn meta_yaml_never_panics(text in "(.|\n){0,400}") {
        let _ = parse_meta(&text);
    }

    #[test]
    fn meta_yaml_recipe_lists_parse_or_say_why(
        ids in proptest::collection::vec("[a-zA-Z0-9 ._/-]{0,12}", 0..5),
    ) {
        let mut text = String::from("recipes:\n");
        for id in &ids {
            text.push_str(&format!("  - id: '{id}'\n    object: 'recipe:r'\n"));
        }
        text.push_str("bakery:\n  id: b\n");
        match parse_meta(&text) {
            Ok(meta) => match meta.recipes {
                Recipes::Listed(listed) => prop_assert_eq!(listed.len(), ids.len()),
                Recipes::Dicts(d) => prop_assert!(false, "dict_object from ids: {:?}", d),
            },
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    #[test]
    fn job_names_round_trip_or_are_refused(
        host in "[a-z0-9.-]{1,20}(:[0-9]{1,5})?",
        run_id in 1..i32::MAX,
    ) {
        let hooks = format!("https://{host}/github/hooks/");
        match encode_job_name(&hooks, run_id) {
            Ok(name) => {
                prop_assert!(name.len() <= 64, "{name}");
                prop_assert!(name.starts_with('a'));
                prop_assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
                let (netloc, decoded) = decode_job_name(&name).expect("decodes");
                prop_assert_eq!(decoded, run_id);
                prop_assert_eq!(netloc, host);
            }
            Err(err) => prop_assert!(err.to_string().contains("64"), "{err}"),
        }
    }

    #[test]
    fn any_text_decodes_to_a_job_or_an_error(name in ".{0,80}") {
        let _ = decode_job_name(&name);
    }
}
